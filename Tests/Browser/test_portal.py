"""A client uploads through a public portal with a plain form (no JavaScript needed)."""
import os
import sqlite3
import tempfile

from selenium.webdriver.common.by import By

from conftest import make_driver, screenshot
from test_people import click_and_wait


def make_portal(server, slug, allowed=""):
    db = sqlite3.connect(f"{server.home}/intake.db")
    owner = db.execute("SELECT id FROM users WHERE email_normalized = 'owner@example.com'").fetchone()[0]
    cur = db.execute("INSERT INTO storage_accounts (user_id, provider, provider_account_id, display_name, status, created_at, updated_at) "
                     "VALUES (?, 'local', ?, 'Local disk', 'ACTIVE', 0, 0)", (owner, f"local-{slug}"))
    db.execute("INSERT INTO portals (user_id, name, slug, description, storage_account_id, folder_name, allowed_extensions, created_at, updated_at) "
               "VALUES (?, 'Tax documents', ?, 'Send your receipts here.', ?, 'Tax', ?, 0, 0)", (owner, slug, cur.lastrowid, allowed))
    db.commit()
    db.close()


def write_files(files):
    """Writes (name, bytes) pairs into a new temporary folder; returns the paths, newline-joined,
    as a file input's send_keys takes several files."""
    folder = tempfile.mkdtemp()
    paths = []
    for name, content in files:
        path = os.path.join(folder, name)
        with open(path, "wb") as f:
            f.write(content)
        paths.append(path)
    return "\n".join(paths)


def test_client_uploads_two_files_without_javascript(server):
    make_portal(server, "tax-2026")
    driver = make_driver(javascript=False)
    try:
        driver.get(server.url + "/p/tax-2026")
        assert driver.find_element(By.TAG_NAME, "h1").text == "Tax documents"
        assert driver.find_element(By.CSS_SELECTOR, "label[for=files]").text == "Files"
        screenshot(driver, "portal-form")
        paths = write_files([("receipt.pdf", b"%PDF-1.4\n1 0 obj\n"), ("notes.txt", b"two receipts\n")])
        driver.find_element(By.ID, "clientName").send_keys("Ada Client")
        driver.find_element(By.ID, "files").send_keys(paths)
        click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, ".upload-form button[type=submit]"))
        assert "your files arrived" in driver.find_element(By.TAG_NAME, "h1").text
        items = [li.text for li in driver.find_elements(By.CSS_SELECTOR, ".receipt li")]
        assert len(items) == 2 and items[0].startswith("receipt.pdf") and items[1].startswith("notes.txt")
        screenshot(driver, "portal-receipt")
        assert os.path.exists(f"{server.home}/storage") and any(
            name == "receipt.pdf" for _, _, names in os.walk(f"{server.home}/storage") for name in names)
    finally:
        driver.quit()


def test_client_uploads_with_javascript_and_progress(server):
    make_portal(server, "js-portal", allowed="pdf,txt")
    driver = make_driver()
    try:
        driver.get(server.url + "/p/js-portal")
        assert driver.find_element(By.CSS_SELECTOR, ".drop-zone").is_displayed()
        paths = write_files([("big.pdf", b"%PDF-1.4\n" + os.urandom(3 * 1024 * 1024)), ("b.txt", b"second\n"), ("c.exe", b"MZ")])
        driver.find_element(By.ID, "clientName").send_keys("Ada Script")
        driver.find_element(By.ID, "files").send_keys(paths)
        # The refused type is caught before sending; the other two are listed with a progress bar each.
        assert ".exe files are not accepted here" in driver.find_element(By.CSS_SELECTOR, ".upload-status").text
        assert len(driver.find_elements(By.CSS_SELECTOR, ".upload-list progress")) == 2
        driver.execute_script("window.__stillHere = true")
        driver.find_element(By.CSS_SELECTOR, ".upload-form button[type=submit]").click()
        from selenium.webdriver.support.ui import WebDriverWait
        WebDriverWait(driver, 20).until(lambda d: "arrived" in d.find_element(By.CSS_SELECTOR, ".upload-status").text)
        assert driver.execute_script("return window.__stillHere === true"), "no page reload"
        status = driver.find_element(By.CSS_SELECTOR, ".upload-status").text
        assert "file(s) arrived" in status and "big.pdf" in status
        screenshot(driver, "portal-js-progress")
    finally:
        driver.quit()


def test_owner_downloads_and_deletes_a_file(browser, server):
    from selenium.webdriver.support.ui import WebDriverWait
    from test_people import sign_in
    make_portal(server, "owner-files")
    client = make_driver(javascript=False)
    content = b"invoice 42\n" + os.urandom(64).hex().encode()
    try:
        client.get(server.url + "/p/owner-files")
        client.find_element(By.ID, "clientName").send_keys("Ada Owner-Test")
        client.find_element(By.ID, "files").send_keys(write_files([("invoice.txt", content), ("draft.txt", b"throw me away\n")]))
        click_and_wait(client, client.find_element(By.CSS_SELECTOR, ".upload-form button[type=submit]"))
        assert "your files arrived" in client.find_element(By.TAG_NAME, "h1").text
    finally:
        client.quit()

    sign_in(browser, server, "owner@example.com")
    browser.get(server.url + "/dashboard/files?client=Ada+Owner")
    rows = {row.find_element(By.CSS_SELECTOR, "td[data-label=File]").text: row for row in browser.find_elements(By.CSS_SELECTOR, "table.data tbody tr")}
    assert set(rows) == {"invoice.txt", "draft.txt"}

    # Download: the link, fetched with the owner's session, returns the exact bytes as an attachment.
    href = rows["invoice.txt"].find_element(By.LINK_TEXT, "Download").get_attribute("href")
    got = browser.execute_async_script("""
        var done = arguments[arguments.length - 1];
        fetch(arguments[0], {credentials: 'same-origin'}).then(function (r) {
          return r.text().then(function (t) { done([r.status, r.headers.get('content-disposition'), t]); });
        });""", href)
    assert got[0] == 200 and got[2] == content.decode()
    assert got[1].startswith("attachment") and "invoice.txt" in got[1]

    def stored_names():
        return {name for _, _, names in os.walk(f"{server.home}/storage") for name in names}

    assert "draft.txt" in stored_names()
    # Delete asks first; cancelling keeps the file.
    rows["draft.txt"].find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    alert = WebDriverWait(browser, 5).until(lambda d: d.switch_to.alert)
    assert "Delete draft.txt?" in alert.text
    alert.dismiss()
    assert "draft.txt" in stored_names()
    assert len(browser.find_elements(By.CSS_SELECTOR, "table.data tbody tr")) == 2

    # Confirming removes it from the list and from storage; the other file stays.
    browser.execute_script("window.__oldPage = true")
    browser.find_element(By.CSS_SELECTOR, "button[aria-label='Delete draft.txt']").click()
    WebDriverWait(browser, 5).until(lambda d: d.switch_to.alert).accept()
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return !window.__oldPage && document.readyState === 'complete'"))
    screenshot(browser, "owner-files-after-delete")
    # Back on the same filtered list, with only the other file left in it.
    assert browser.current_url == server.url + "/dashboard/files?client=Ada+Owner"
    names = [row.find_element(By.CSS_SELECTOR, "td[data-label=File]").text for row in browser.find_elements(By.CSS_SELECTOR, "table.data tbody tr")]
    assert names == ["invoice.txt"]
    assert "draft.txt" not in stored_names() and "invoice.txt" in stored_names()
