"""The admin's diagnostics pages in a real browser: an admin finds why a portal takes no uploads,
checks an owner without creating anything, cleans up what is left behind; a user is refused."""
import pathlib
import sqlite3
import time

import pytest
from selenium.webdriver.common.by import By

from conftest import make_driver, screenshot
from test_people import click_and_wait, sign_in


@pytest.fixture(scope="module")
def broken_portal(server):
    """An owner's Dropbox was disconnected by the provider: its portal was switched off with it;
    the owner's usage counter is off. The owner is removed afterwards, so the other tests see
    the site as before."""
    server.create_user("dora@example.com", "Dora Diag")
    db = sqlite3.connect(pathlib.Path(server.home, "intake.db"))
    with db:
        owner = db.execute("SELECT id FROM users WHERE email_normalized = 'dora@example.com'").fetchone()[0]
        account = db.execute(
            "INSERT INTO storage_accounts (user_id, provider, provider_account_id, display_name, status, last_error, created_at, updated_at) "
            "VALUES (?, 'dropbox', 'dbx-diag', 'Dropbox (olive@dropbox.example)', 'DISCONNECTED', 'the provider refused access (invalid_grant)', 0, 0) "
            "RETURNING id", (owner,)).fetchone()[0]
        db.execute("INSERT INTO portals (user_id, name, slug, storage_account_id, active, auto_deactivated, inactive_reason, created_at, updated_at) "
                   "VALUES (?, 'Tax documents', 'tax-docs', ?, 0, 1, 'storage_disconnected', ?, ?)", (owner, account, int(time.time()), int(time.time())))
        db.execute("UPDATE users SET storage_used_bytes = 500 WHERE id = ?", (owner,))  # a usage counter off: no file is stored
    db.close()
    yield account
    db = sqlite3.connect(pathlib.Path(server.home, "intake.db"))
    with db:
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("DELETE FROM users WHERE id = ?", (owner,))
    db.close()


def fits_phone(driver):
    return driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


def test_admin_finds_why_a_portal_takes_no_uploads(browser, server, broken_portal):
    sign_in(browser, server, "admin@example.com")
    browser.get(server.url + "/admin")
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Diagnostics"))  # from the operator overview
    assert browser.find_element(By.TAG_NAME, "h1").text == "Diagnostics"
    stalled = browser.find_element(By.XPATH, "//section[@aria-labelledby='portals-title']//tbody/tr")
    assert "Tax documents" in stalled.text and "dora@example.com" in stalled.text
    assert "disconnected" in stalled.text and "Connect Dropbox again" in stalled.text
    services = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=services-title]").text
    assert "Spool disk" in services and "free of" in services
    screenshot(browser, "admin-diagnostics")

    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Storage accounts"))
    account = browser.find_element(By.ID, f"account-{broken_portal}")
    assert "disconnected" in account.text and "invalid_grant" in account.text and "dora@example.com" in account.text
    screenshot(browser, "admin-diagnostics-storage")

    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Portal check"))
    browser.find_element(By.ID, "owner").send_keys("dora@example.com")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]"))
    checks = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=creation-title]").text
    assert "Dropbox: None of your storage accounts of this kind is active" in checks
    assert "Google Drive: Connect a storage account of this kind first." in checks
    problem = browser.find_element(By.XPATH, "//li[contains(@class,'finding-problem')][contains(., 'portal tax-docs')]")
    assert "Does not take uploads" in problem.text and "Cure:" in problem.text
    assert "Problem" in browser.find_element(By.ID, "diagnosis-title").text
    screenshot(browser, "admin-diagnostics-portal")

    browser.find_element(By.ID, "owner").clear()
    browser.find_element(By.ID, "owner").send_keys("nobody@example.com")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]"))
    assert "No account has the e-mail nobody@example.com" in browser.find_element(By.CSS_SELECTOR, ".flash").text


def test_admin_removes_what_is_left_behind(server, broken_portal):
    driver = make_driver(javascript=False)  # a plain form post, without admin.js's confirmation
    try:
        sign_in(driver, server, "admin@example.com")
        # A sign-in-only Google account of the owner's that backs no storage: left behind (the
        # background jobs never sweep these; expired sessions they may sweep first).
        db = sqlite3.connect(pathlib.Path(server.home, "intake.db"))
        with db:
            zombie = db.execute(
                "INSERT INTO oauth_accounts (user_id, provider, provider_account_id, email, scopes, created_at, updated_at) "
                "SELECT id, 'google', 'signin-diag', 'dora@gmail.example', 'openid email', 0, 0 FROM users WHERE email_normalized = 'dora@example.com' "
                "RETURNING id").fetchone()[0]
        driver.get(server.url + "/admin/diagnostics/cleanup")
        listed = driver.find_element(By.TAG_NAME, "main").text
        assert f"Unused OAuth account #{zombie}: google dora@gmail.example of dora@example.com" in listed
        screenshot(driver, "admin-diagnostics-cleanup")
        click_and_wait(driver, driver.find_element(By.XPATH, "//button[.='Remove what is left behind']"))
        assert "Removed 1 unused OAuth account(s)" in driver.find_element(By.CSS_SELECTOR, ".flash").text
        assert "Nothing is left behind." in driver.find_element(By.TAG_NAME, "main").text
        assert db.execute("SELECT count(*) FROM oauth_accounts WHERE id = ?", (zombie,)).fetchone()[0] == 0
        db.close()
        driver.get(server.url + "/admin/audit?action=diagnostics.cleanup")
        assert "diagnostics.cleanup" in driver.find_element(By.TAG_NAME, "main").text

        # The owner's storage against the providers: the Dropbox is disconnected (not checked),
        # the usage counter is off; Repair sets it to what the files add up to.
        driver.get(server.url + "/admin/diagnostics/cleanup")
        driver.find_element(By.ID, "owner").send_keys("nobody@example.com")
        click_and_wait(driver, driver.find_element(By.XPATH, "//button[.='Compare']"))
        assert driver.find_element(By.ID, "owner-error").text == "No account has this e-mail address."
        driver.find_element(By.ID, "owner").clear()
        driver.find_element(By.ID, "owner").send_keys("dora@example.com")
        click_and_wait(driver, driver.find_element(By.XPATH, "//button[.='Compare']"))
        found = driver.find_element(By.ID, "reconciliation").text
        assert "not checked" in found and "users.storage_used_bytes" in found and "500 recorded, the files add up to 0" in found
        screenshot(driver, "admin-diagnostics-reconcile")
        click_and_wait(driver, driver.find_element(By.XPATH, "//button[.='Repair what was found']"))
        assert "set to 0" in driver.find_element(By.ID, "reconciliation").text
        db = sqlite3.connect(pathlib.Path(server.home, "intake.db"))
        assert db.execute("SELECT storage_used_bytes FROM users WHERE email_normalized = 'dora@example.com'").fetchone()[0] == 0
        db.close()
    finally:
        driver.quit()


def test_check_now_brings_a_recovered_account_back(server, broken_portal):
    """A local disk that failed (its folder was unreachable) and works again: Check now finds it
    working, makes it active and switches its portal back on, without waiting for the backoff."""
    db = sqlite3.connect(pathlib.Path(server.home, "intake.db"))
    with db:
        owner = db.execute("SELECT id FROM users WHERE email_normalized = 'dora@example.com'").fetchone()[0]
        account = db.execute(
            "INSERT INTO storage_accounts (user_id, provider, provider_account_id, display_name, status, last_error, created_at, updated_at) "
            "VALUES (?, 'local', 'disk-diag', 'Local disk', 'ERROR', 'the storage folder cannot be reached', 0, 0) RETURNING id", (owner,)).fetchone()[0]
        db.execute("INSERT INTO portals (user_id, name, slug, storage_account_id, active, auto_deactivated, inactive_reason, created_at, updated_at) "
                   "VALUES (?, 'Scans', 'scans-diag', ?, 0, 1, 'storage_error', 0, 0)", (owner, account))
    pathlib.Path(server.home, "storage", str(account)).mkdir(parents=True, exist_ok=True)
    driver = make_driver(javascript=False)
    try:
        sign_in(driver, server, "admin@example.com")
        driver.get(server.url + "/admin/diagnostics/storage")
        item = driver.find_element(By.ID, f"account-{account}")
        assert "failing" in item.text and "cannot be reached" in item.text
        assert not driver.find_elements(By.CSS_SELECTOR, f"#account-{broken_portal} form"), "a disconnected account has nothing to check"
        click_and_wait(driver, item.find_element(By.XPATH, ".//button[.='Check now']"))
        assert "the account is active and its portals are back on" in driver.find_element(By.CSS_SELECTOR, ".flash").text
        assert "connected" in driver.find_element(By.ID, f"account-{account}").text
        assert db.execute("SELECT status FROM storage_accounts WHERE id = ?", (account,)).fetchone()[0] == "ACTIVE"
        assert db.execute("SELECT active FROM portals WHERE slug = 'scans-diag'").fetchone()[0] == 1
        audit = db.execute("SELECT count(*) FROM audit_log a JOIN users u ON u.id = a.actor_id "
                           "WHERE a.action = 'storage_account.status' AND a.entity_id = ? AND u.email_normalized = 'admin@example.com'", (str(account),)).fetchone()[0]
        assert audit == 1, "the change is the admin's, in the audit log"
    finally:
        driver.quit()
        db.close()


@pytest.mark.parametrize("path", ["/admin/diagnostics", "/admin/diagnostics/storage", "/admin/diagnostics/portal", "/admin/diagnostics/cleanup"])
def test_a_user_gets_403(browser, server, path):
    sign_in(browser, server, "owner@example.com")
    browser.get(server.url + path)
    assert "administrators only" in browser.find_element(By.TAG_NAME, "main").text
    assert browser.execute_script("return performance.getEntriesByType('navigation')[0].responseStatus") == 403


def test_diagnostics_pages_fit_a_phone(phone, server, broken_portal):
    sign_in(phone, server, "admin@example.com")
    for path, name in [("/admin/diagnostics", "overview"), ("/admin/diagnostics/storage", "storage"),
                       ("/admin/diagnostics/portal?owner=dora%40example.com", "portal"), ("/admin/diagnostics/cleanup", "cleanup")]:
        phone.get(server.url + path)
        screenshot(phone, f"phone-admin-diagnostics-{name}")
        assert fits_phone(phone), f"{path} scrolls sideways at phone width"
