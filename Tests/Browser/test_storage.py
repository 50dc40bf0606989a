"""The storage page shows each account state with its indicator, and its buttons work."""
import sqlite3

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import screenshot
from test_people import click_and_wait, sign_in


def seed_accounts(server, email):
    """Storage accounts in every state (and one with no OAuth account behind it) for the user."""
    db = sqlite3.connect(f"{server.home}/intake.db")
    user_id = db.execute("SELECT id FROM users WHERE email_normalized = ?", (email,)).fetchone()[0]
    for n, status in enumerate(["ACTIVE", "INACTIVE", "DISCONNECTED", "ERROR"]):
        account = f"acct-{status.lower()}"
        db.execute("INSERT INTO oauth_accounts (user_id, provider, provider_account_id, email, scopes, created_at, updated_at) "
                   "VALUES (?, 'google', ?, ?, 'https://www.googleapis.com/auth/drive.file', 0, 0)", (user_id, account, f"{status.lower()}@gmail.com"))
        db.execute("INSERT INTO storage_accounts (user_id, provider, provider_account_id, display_name, email, status, last_error, created_at, updated_at) "
                   "VALUES (?, 'google_drive', ?, ?, ?, ?, ?, ?, 0)",
                   (user_id, account, f"Drive {n}", f"{status.lower()}@gmail.com", status,
                    "refresh failed: temporarily_unavailable" if status == "ERROR" else None, n))
    db.execute("INSERT INTO storage_accounts (user_id, provider, provider_account_id, display_name, email, status, created_at, updated_at) "
               "VALUES (?, 'dropbox', 'old-dbid', 'Old Dropbox', 'legacy@example.com', 'ACTIVE', 9, 0)", (user_id,))
    db.commit()
    db.close()


def account_item(driver, email):
    return driver.find_element(By.XPATH, f"//li[contains(@class,'account')][.//text()[contains(., '{email}')]]")


def test_each_state_has_its_indicator_and_the_buttons_work(browser, server):
    server.create_user("states@example.com", "Stella States")
    seed_accounts(server, "states@example.com")
    sign_in(browser, server, "states@example.com")
    browser.get(server.url + "/dashboard/settings")
    expected = {
        "active@gmail.com": ("indicator-green", "Connected"),
        "inactive@gmail.com": ("indicator-yellow", "Paused"),
        "disconnected@gmail.com": ("indicator-red", "Disconnected"),
        "error@gmail.com": ("indicator-orange", "Not reachable"),
        "legacy@example.com": ("indicator-grey", "Legacy"),
    }
    for email, (colour, label) in expected.items():
        item = account_item(browser, email)
        assert item.find_element(By.CSS_SELECTOR, ".indicator").get_attribute("class").endswith(colour), email
        assert item.find_element(By.CSS_SELECTOR, ".status-label").text == label, email
    assert "refresh failed" in account_item(browser, "error@gmail.com").text
    screenshot(browser, "storage-states")

    # The seeded OAuth accounts hold no tokens: no grant is called valid.
    for email in ("active@gmail.com", "inactive@gmail.com", "disconnected@gmail.com", "error@gmail.com"):
        assert "Intake holds no access to Google Drive: reconnect." in account_item(browser, email).text, email

    def buttons(email):
        return [b.text for b in account_item(browser, email).find_elements(By.CSS_SELECTOR, "button")]

    def button(email, label):
        return account_item(browser, email).find_element(By.XPATH, f".//button[normalize-space()='{label}']")

    def flash():
        return browser.find_element(By.CSS_SELECTOR, ".flash").text

    def label(email):
        return account_item(browser, email).find_element(By.CSS_SELECTOR, ".status-label").text

    # Each state offers what it allows, and each button says what it does to portals and files.
    assert buttons("active@gmail.com") == ["Pause uploads", "Disconnect"]
    assert buttons("inactive@gmail.com") == ["Resume uploads", "Disconnect"]
    assert buttons("error@gmail.com") == ["Check again", "Reconnect", "Disconnect"]
    assert buttons("disconnected@gmail.com") == ["Reconnect"]
    active = account_item(browser, "active@gmail.com").text
    assert "its files can still be downloaded" in active and "its files can't be downloaded here until you reconnect" in active
    assert "Status" not in active and "ACTIVE" not in active, "no jargon"

    click_and_wait(browser, button("active@gmail.com", "Pause uploads"))
    assert "paused" in flash()
    assert label("active@gmail.com") == "Paused"

    click_and_wait(browser, button("inactive@gmail.com", "Resume uploads"))
    assert "active again" in flash()
    assert label("inactive@gmail.com") == "Connected"

    # Check again needs the provider; with no grant held the owner is told to reconnect, nothing changes.
    click_and_wait(browser, button("error@gmail.com", "Check again"))
    assert "Reconnect it" in flash()
    assert label("error@gmail.com") == "Not reachable"

    # Disconnect asks first, saying what it does.
    browser.execute_script("window.__oldPage = true")
    button("active@gmail.com", "Disconnect").click()
    alert = WebDriverWait(browser, 5).until(lambda d: d.switch_to.alert)
    assert "its files can't be downloaded here until you reconnect" in alert.text
    alert.accept()
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return !window.__oldPage && document.readyState === 'complete'"))
    assert "disconnected" in flash()
    assert label("active@gmail.com") == "Disconnected"
    assert buttons("active@gmail.com") == ["Reconnect"]
    screenshot(browser, "storage-after-buttons")
