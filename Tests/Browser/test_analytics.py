"""The owner's analytics page (/dashboard/analytics): reached from the navigation, its charts are
inline SVG with accessible names and a table of the same figures beside each, all drawn on the
server (the page reads the same without JavaScript), and the selector narrows the figures to one
portal or storage account."""
import sqlite3

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import make_driver, module_server, screenshot
from test_dashboard_files import client_uploads, make_owner_portal
from test_people import click_and_wait, sign_in


server = module_server()


@pytest.fixture(scope="module")
def site(server):
    """An owner with two portals on one local disk: three files through the first (two by Carla,
    one by Ben), one larger through the second (by Dora)."""
    owner = make_owner_portal(server, "ana@example.com", "Ana Owner", "ana-first")
    db = sqlite3.connect(f"{server.home}/intake.db")
    account = db.execute("SELECT storage_account_id FROM portals WHERE slug = 'ana-first'").fetchone()[0]
    db.execute("INSERT INTO portals (user_id, name, slug, description, storage_account_id, folder_name, created_at, updated_at) "
               "VALUES (?, 'Drop ana-second', 'ana-second', '', ?, 'ana-second', 0, 0)", (owner, account))
    db.commit()
    ids = {slug: db.execute("SELECT id FROM portals WHERE slug = ?", (slug,)).fetchone()[0] for slug in ("ana-first", "ana-second")}
    db.close()
    client_uploads(server, "ana-first", [("invoice.pdf", b"%PDF-1.4\n" + b"x" * 3000), ("scan.png", b"\x89PNG\r\n\x1a\n" + b"y" * 1000)])
    client_uploads(server, "ana-first", [("notes.txt", b"hello\n")], name="Ben Client", email="ben@clients.example")
    client_uploads(server, "ana-second", [("bundle.zip", b"PK\x03\x04" + b"z" * 9000)], name="Dora Client", email="dora@clients.example")
    return ids


def figure(driver, name):
    return driver.find_element(By.CSS_SELECTOR, f"dd.{name}").text


def check_charts(driver):
    """Five charts, each a real SVG image with a name and a description, with tables beside them."""
    charts = driver.find_elements(By.CSS_SELECTOR, "svg.chart[role='img']")
    assert len(charts) == 5
    for chart in charts:
        assert chart.get_attribute("aria-label")
        chart_id = chart.get_attribute("id")
        assert chart.find_element(By.CSS_SELECTOR, "title").get_attribute("textContent") == chart.get_attribute("aria-label")
        assert chart.find_element(By.CSS_SELECTOR, "desc").get_attribute("textContent").strip()
        assert chart.get_attribute("aria-describedby") == chart_id + "-desc"
        # A bar for each day or name with something to show (no delivery has failed here).
        assert bool(chart.find_elements(By.CSS_SELECTOR, "rect, path.chart-bars")) == (chart_id != "chart-failures"), chart_id
        # Every chart has the figures up its side or along its bars as text.
        assert chart.find_elements(By.CSS_SELECTOR, "text"), chart_id
        section = chart.find_element(By.XPATH, "ancestor::section")
        table = section.find_element(By.CSS_SELECTOR, "table")
        assert table.find_element(By.TAG_NAME, "caption").get_attribute("textContent").strip()


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_analytics_page(server, site, javascript):
    driver = make_driver(javascript=javascript)
    try:
        sign_in(driver, server, "ana@example.com")
        link = driver.find_element(By.CSS_SELECTOR, "nav.site-nav a[href='/dashboard/analytics']")
        click_and_wait(driver, link)
        assert driver.find_element(By.TAG_NAME, "h1").text == "Analytics"
        assert figure(driver, "stored-files") == "4"
        assert figure(driver, "received-files") == "4"
        check_charts(driver)
        clients = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "table.analytics-clients tbody th")]
        assert clients == ["dora@clients.example", "carla@clients.example", "ben@clients.example"]
        types = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "table.analytics-types tbody th")]
        assert types == ["Archives", "Documents", "Images"]
        days = driver.find_elements(By.CSS_SELECTOR, "table.analytics-days tbody tr")
        assert len(days) == 1 and days[0].find_elements(By.TAG_NAME, "td")[0].text == "4"
        screenshot(driver, "analytics-all" + ("" if javascript else "-nojs"))

        # The selector: the second portal alone.
        Select(driver.find_element(By.ID, "scope")).select_by_visible_text("Portal: Drop ana-second")
        click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.analytics-scope button[type=submit]"))
        assert f"scope=portal-{site['ana-second']}" in driver.current_url
        assert figure(driver, "stored-files") == "1"
        assert [row.text for row in driver.find_elements(By.CSS_SELECTOR, "table.analytics-clients tbody th")] == ["dora@clients.example"]
        check_charts(driver)

        # The first portal: the other three.
        Select(driver.find_element(By.ID, "scope")).select_by_visible_text("Portal: Drop ana-first")
        click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.analytics-scope button[type=submit]"))
        assert figure(driver, "stored-files") == "3"
        assert [row.text for row in driver.find_elements(By.CSS_SELECTOR, "table.analytics-types tbody th")] == ["Documents", "Images"]

        # The storage account: all four again.
        Select(driver.find_element(By.ID, "scope")).select_by_index(1)
        click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.analytics-scope button[type=submit]"))
        assert "scope=account-" in driver.current_url and figure(driver, "stored-files") == "4"
    finally:
        driver.quit()


def test_analytics_of_an_owner_without_files(server, site):
    server.create_user("new@example.com", "New Owner")
    driver = make_driver()
    try:
        sign_in(driver, server, "new@example.com")
        driver.get(server.url + "/dashboard/analytics")
        assert figure(driver, "stored-files") == "0"
        assert "No files received in these 90 days." in driver.page_source
        # The day charts are drawn (empty); the clients and types have nothing to draw.
        assert len(driver.find_elements(By.CSS_SELECTOR, "svg.chart[role='img']")) == 3
        # Another owner's portal: the same 404 as one that does not exist.
        cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
        theirs = requests.get(f"{server.url}/dashboard/analytics?scope=portal-{site['ana-first']}", cookies=cookies)
        missing = requests.get(f"{server.url}/dashboard/analytics?scope=portal-999999", cookies=cookies)
        assert theirs.status_code == missing.status_code == 404
        assert theirs.text == missing.text
        assert requests.get(f"{server.url}/dashboard/analytics", cookies=cookies).status_code == 200
    finally:
        driver.quit()
