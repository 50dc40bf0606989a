"""Sign-in, the admin shell and sign-out in a real browser."""
import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from conftest import PASSWORD, make_driver, screenshot


def click_and_wait(driver, element):
    """Clicks something that loads a new page and waits until the new page has loaded.
    The old page is marked; the wait ends when a complete document without the mark is there.
    Calls made while the browser is between documents may fail, and are simply retried."""
    driver.execute_script("window.__oldPage = true")
    element.click()

    def loaded(d):
        return d.execute_script("return !window.__oldPage && document.readyState === 'complete'")

    WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(loaded)


def sign_in(driver, server, email, password=PASSWORD, path="/login"):
    driver.get(server.url + path)
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))


def test_sign_in_page_is_accessible(browser, server):
    browser.get(server.url + "/")
    assert browser.current_url.endswith("/login")
    assert browser.title == "Sign in · Intake"
    for field in ("email", "password"):
        label = browser.find_element(By.CSS_SELECTOR, f"label[for={field}]")
        assert label.text, f"the {field} input has a visible label"
    screenshot(browser, "login")


def test_wrong_password_shows_an_alert_and_keeps_the_email(browser, server):
    sign_in(browser, server, "admin@example.com", password="not the password")
    alert = browser.find_element(By.CSS_SELECTOR, "[role=alert]")
    assert "not right" in alert.text
    assert browser.find_element(By.ID, "email").get_attribute("value") == "admin@example.com"
    assert browser.find_element(By.ID, "email").get_attribute("aria-invalid") == "true"
    assert browser.get_cookie("intake_session") is None
    screenshot(browser, "login-wrong-password")


def test_admin_navigates_the_shell_and_signs_out(browser, server):
    sign_in(browser, server, "admin@example.com")
    assert browser.current_url.endswith("/dashboard"), browser.find_element(By.TAG_NAME, "main").text
    assert "Welcome, Ada Admin" in browser.find_element(By.TAG_NAME, "h1").text
    screenshot(browser, "dashboard")

    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Admin"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Operator overview"
    assert browser.find_element(By.CSS_SELECTOR, ".site-nav a[aria-current=page]").text == "Admin"
    # The admin area has its own menu under the header, its first entry marked.
    assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, ".admin-nav a")] == [
        "Overview", "Users", "Pricing", "Quotas", "Plans", "Revenue", "Audit log", "Diagnostics"]
    assert browser.find_element(By.CSS_SELECTOR, ".admin-nav a[aria-current=page]").text == "Overview"
    users = [s.text for s in browser.find_elements(By.CSS_SELECTOR, ".stat-value")]
    assert users[0] == "2"
    screenshot(browser, "admin-overview")

    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Users"))
    rows = browser.find_elements(By.CSS_SELECTOR, "table.data tbody tr")
    assert len(rows) == 2
    search = browser.find_element(By.ID, "q")
    search.send_keys("olive")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, ".search button"))
    rows = browser.find_elements(By.CSS_SELECTOR, "table.data tbody tr")
    assert len(rows) == 1 and "owner@example.com" in rows[0].text
    screenshot(browser, "admin-users")

    assert browser.find_element(By.CSS_SELECTOR, ".admin-nav a[aria-current=page]").text == "Users"
    # Owner pages show no admin menu.
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Files"))
    assert not browser.find_elements(By.CSS_SELECTOR, ".admin-nav")

    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, ".site-header a.who"))
    assert browser.find_element(By.ID, "name").get_attribute("value") == "Ada Admin"
    screenshot(browser, "account")

    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, ".sign-out button"))
    assert browser.current_url.endswith("/login")
    assert "You have signed out." in browser.find_element(By.CSS_SELECTOR, ".flash").text
    browser.get(server.url + "/admin")
    assert "/login?next=%2Fadmin" in browser.current_url


def test_a_user_cannot_open_the_admin_pages(browser, server):
    sign_in(browser, server, "owner@example.com")
    assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, ".site-nav a")] == ["Dashboard", "Portals", "Files", "Analytics", "Storage", "Usage", "Billing", "Webhooks"]
    assert browser.find_element(By.CSS_SELECTOR, ".site-header a.who").accessible_name == "Your account: Olive Owner"
    browser.get(server.url + "/admin")
    assert "administrators only" in browser.find_element(By.TAG_NAME, "main").text
    screenshot(browser, "admin-forbidden")


def test_pages_fit_a_phone(phone, server):
    phone.get(server.url + "/login")
    screenshot(phone, "phone-login")
    sign_in(phone, server, "owner@example.com")
    width = phone.execute_script("return document.documentElement.scrollWidth")
    viewport = phone.execute_script("return window.innerWidth")
    assert width <= viewport, "no horizontal scrolling at phone width"
    screenshot(phone, "phone-dashboard")


def test_the_menu_folds_behind_a_toggle_on_a_phone(phone, server):
    sign_in(phone, server, "admin@example.com")
    toggle = phone.find_element(By.CSS_SELECTOR, ".menu-toggle")
    files = phone.find_element(By.CSS_SELECTOR, ".site-nav a[href='/dashboard/files']")
    assert toggle.is_displayed() and toggle.get_attribute("aria-expanded") == "false"
    assert not files.is_displayed(), "the menu starts folded"
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true" and files.is_displayed()
    screenshot(phone, "phone-menu-open")
    phone.switch_to.active_element.send_keys(Keys.ESCAPE)
    assert toggle.get_attribute("aria-expanded") == "false" and not files.is_displayed()
    assert phone.switch_to.active_element == toggle, "Escape gives the focus back to the toggle"


@pytest.mark.parametrize("width", [1024, 1440])
def test_the_header_stays_on_one_line_at_desktop_widths(server, width):
    driver = make_driver(width=width, height=800)
    try:
        sign_in(driver, server, "admin@example.com")
        for path in ("/dashboard", "/admin/storage/quotas"):
            driver.get(server.url + path)
            tops = driver.execute_script(
                "return [...document.querySelectorAll('.site-header a, .site-header button')]"
                ".filter(e => e.offsetParent !== null).map(e => Math.round(e.getBoundingClientRect().top / 20))")
            assert len(tops) >= 8 and len(set(tops)) == 1, f"{path} at {width} px: the header wraps"
            assert not driver.find_element(By.CSS_SELECTOR, ".menu-toggle").is_displayed()
    finally:
        driver.quit()


def test_the_menu_stays_open_without_javascript(server):
    driver = make_driver(width=360, height=740, javascript=False)
    try:
        driver.get(server.url + "/login")
        sign_in(driver, server, "owner@example.com")
        assert not driver.find_element(By.CSS_SELECTOR, ".menu-toggle").is_displayed()
        assert driver.find_element(By.CSS_SELECTOR, ".site-nav a[href='/dashboard/files']").is_displayed()
        assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        driver.quit()


def test_keyboard_focus_is_visible(browser, server):
    browser.get(server.url + "/login")
    browser.find_element(By.ID, "email").click()
    outline = browser.execute_script(
        "return getComputedStyle(document.activeElement, ':focus-visible').outlineStyle || getComputedStyle(document.activeElement).outlineStyle")
    assert outline and outline != "none"


def test_billing_page(browser, server):
    sign_in(browser, server, "owner@example.com")
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Billing"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Billing"
    assert "$0.00" in browser.find_element(By.CSS_SELECTOR, ".balance").text
    assert "No changes" in browser.find_element(By.TAG_NAME, "main").text
    assert browser.find_element(By.LINK_TEXT, "Download CSV").get_attribute("href").endswith("/dashboard/billing/statement.csv")
    screenshot(browser, "billing")


def test_storage_settings_page(browser, server):
    sign_in(browser, server, "owner@example.com")
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Storage"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Storage"
    # An owner is told whom to ask; an admin what to set.
    notes = [p.text for p in browser.find_elements(By.CSS_SELECTOR, ".connect .not-configured")]
    assert notes == ["Google Drive is not set up on this server. Ask whoever runs this Intake to set it up.",
                     "Dropbox is not set up on this server. Ask whoever runs this Intake to set it up."]
    click_and_wait(browser, browser.find_element(By.XPATH, "//button[normalize-space()='Check all storage again']"))
    assert "Everything works." in browser.find_element(By.CSS_SELECTOR, ".flash").text
    admin = make_driver()
    try:
        sign_in(admin, server, "admin@example.com")
        admin.get(server.url + "/dashboard/settings")
        notes = [p.text for p in admin.find_elements(By.CSS_SELECTOR, ".connect .not-configured")]
        assert "set INTAKE_GOOGLE_CLIENT_ID and INTAKE_GOOGLE_CLIENT_SECRET" in notes[0]
        assert "set INTAKE_DROPBOX_APP_KEY and INTAKE_DROPBOX_APP_SECRET" in notes[1]
    finally:
        admin.quit()
    screenshot(browser, "storage-settings")
