"""The storage page shows each account state with its indicator, and its buttons work."""
import sqlite3

from selenium.webdriver.common.by import By

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
        "inactive@gmail.com": ("indicator-yellow", "Inactive"),
        "disconnected@gmail.com": ("indicator-red", "Unavailable"),
        "error@gmail.com": ("indicator-orange", "Unavailable"),
        "legacy@example.com": ("indicator-grey", "Legacy"),
    }
    for email, (colour, label) in expected.items():
        item = account_item(browser, email)
        assert item.find_element(By.CSS_SELECTOR, ".indicator").get_attribute("class").endswith(colour), email
        assert item.find_element(By.CSS_SELECTOR, ".status-label").text == label, email
    assert "refresh failed" in account_item(browser, "error@gmail.com").text
    screenshot(browser, "storage-states")

    click_and_wait(browser, account_item(browser, "active@gmail.com").find_element(By.XPATH, ".//button[normalize-space()='Disconnect']"))
    assert "switched off" in browser.find_element(By.CSS_SELECTOR, ".flash").text
    assert account_item(browser, "active@gmail.com").find_element(By.CSS_SELECTOR, ".status-label").text == "Inactive"

    click_and_wait(browser, account_item(browser, "disconnected@gmail.com").find_element(By.XPATH, ".//button[normalize-space()='Reactivate']"))
    assert "switched on" in browser.find_element(By.CSS_SELECTOR, ".flash").text
    assert account_item(browser, "disconnected@gmail.com").find_element(By.CSS_SELECTOR, ".status-label").text == "Connected"
    screenshot(browser, "storage-after-buttons")
