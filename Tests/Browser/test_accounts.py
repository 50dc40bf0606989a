"""Several storage accounts of one owner in a real browser: the Storage page lists each with its
e-mail, state, files and bytes; the portal form offers every active account by name and e-mail
as the storage and as the backup, refuses a backup that is the same account, and the portal page
says where files go while the backup takes them (issue 19)."""
import sqlite3

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import make_driver, module_server, screenshot
from test_people import click_and_wait, sign_in

EMAIL = "two-accounts@example.com"


server = module_server()


def accounts(server):
    """The owner and three accounts: two Google Drives (the second in ERROR) and a Dropbox, each
    with its files and bytes as the schema's triggers keep them. Made once per session."""
    db = sqlite3.connect(f"{server.home}/intake.db")
    try:
        row = db.execute("SELECT id FROM users WHERE email_normalized = ?", (EMAIL,)).fetchone()
        if row is None:
            db.close()
            server.create_user(EMAIL, "Tomas Two")
            db = sqlite3.connect(f"{server.home}/intake.db")
            row = db.execute("SELECT id FROM users WHERE email_normalized = ?", (EMAIL,)).fetchone()
            for provider, account, email, status, files, size in [
                ("google_drive", "g-1", "tomas@work.example", "ACTIVE", 3, 1_500_000),
                ("google_drive", "g-2", "tomas@home.example", "ERROR", 1, 20_000),
                ("dropbox", "d-1", "tomas@box.example", "ACTIVE", 0, 0),
            ]:
                name = ("Google Drive" if provider == "google_drive" else "Dropbox") + f" ({email})"
                db.execute("INSERT INTO storage_accounts (user_id, provider, provider_account_id, display_name, email, status, last_error, "
                           "uploaded_files, uploaded_bytes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)",
                           (row[0], provider, account, name, email, status, "HTTP 503" if status == "ERROR" else None, files, size))
            db.commit()
        ids = {email: i for i, email in db.execute("SELECT id, email FROM storage_accounts WHERE user_id = ?", (row[0],))}
        return row[0], ids
    finally:
        db.close()


def test_settings_list_each_account_with_its_email_state_files_and_bytes(browser, server):
    _, ids = accounts(server)
    sign_in(browser, server, EMAIL)
    browser.get(server.url + "/dashboard/settings")
    cards = {}
    for email, account in ids.items():
        link = browser.find_element(By.CSS_SELECTOR, f"a[href='/dashboard/files?account={account}']")
        card = link.find_element(By.XPATH, "ancestor::*[contains(@class,'card') or self::article or self::li][1]")
        cards[email] = card.text
    assert "tomas@work.example" in cards["tomas@work.example"] and "3 files, 1.5 MB" in cards["tomas@work.example"]
    assert "tomas@home.example" in cards["tomas@home.example"] and "1 file, 20 KB" in cards["tomas@home.example"]
    assert "HTTP 503" in cards["tomas@home.example"], "the failing account says what went wrong"
    assert "tomas@box.example" in cards["tomas@box.example"] and "0 files" in cards["tomas@box.example"]
    screenshot(browser, "storage-settings-two-accounts")


def test_portal_form_offers_each_active_account_and_a_backup(server):
    _, ids = accounts(server)
    for javascript in (True, False):
        driver = make_driver(javascript=javascript)
        try:
            sign_in(driver, server, EMAIL)
            driver.get(server.url + "/dashboard/portals")
            storage = Select(driver.find_element(By.ID, "storage_account_id"))
            backup = Select(driver.find_element(By.ID, "backup_storage_account_id"))
            offered = [o.text for o in storage.options]
            assert offered == ["Google Drive (tomas@work.example)", "Dropbox (tomas@box.example)"], offered
            assert [o.text for o in backup.options] == ["None", "Google Drive (tomas@work.example)", "Dropbox (tomas@box.example)"]
            assert backup.first_selected_option.text == "None"
            label = driver.find_element(By.CSS_SELECTOR, "label[for=backup_storage_account_id]").text
            assert label == "Backup storage (optional)"

            slug = "backup-js" if javascript else "backup-plain"
            driver.find_element(By.ID, "name").send_keys("Backed up")
            driver.find_element(By.ID, "slug").send_keys(slug)
            storage.select_by_value(str(ids["tomas@work.example"]))
            backup.select_by_value(str(ids["tomas@work.example"]))
            click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form[action='/dashboard/portals'] button[type=submit]"))
            error = driver.find_element(By.ID, "backup_storage_account_id-error").text
            assert error == "The backup must be another account than the one files go to."
            assert driver.find_element(By.ID, "backup_storage_account_id").get_attribute("aria-invalid") == "true"
            assert driver.find_element(By.ID, "slug").get_attribute("value") == slug, "what was typed is kept"

            Select(driver.find_element(By.ID, "backup_storage_account_id")).select_by_value(str(ids["tomas@box.example"]))
            click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form[action='/dashboard/portals'] button[type=submit]"))
            assert "error" not in (driver.find_element(By.CSS_SELECTOR, ".flash").get_attribute("class") or "")
            db = sqlite3.connect(f"{server.home}/intake.db")
            portal_id, backup_id = db.execute("SELECT id, backup_storage_account_id FROM portals WHERE slug = ?", (slug,)).fetchone()
            db.close()
            assert backup_id == ids["tomas@box.example"]
            driver.get(f"{server.url}/dashboard/portals/{portal_id}")
            chosen = Select(driver.find_element(By.ID, "backup_storage_account_id")).first_selected_option.text
            assert chosen == "Dropbox (tomas@box.example)"
        finally:
            driver.quit()


def test_portal_page_says_the_backup_takes_files_while_its_account_fails(browser, server):
    owner, ids = accounts(server)
    db = sqlite3.connect(f"{server.home}/intake.db")
    db.execute("INSERT INTO portals (user_id, name, slug, storage_account_id, backup_storage_account_id, created_at, updated_at) "
               "VALUES (?, 'On the failing one', 'failing-over', ?, ?, 0, 0)", (owner, ids["tomas@home.example"], ids["tomas@box.example"]))
    portal_id = db.execute("SELECT id FROM portals WHERE slug = 'failing-over'").fetchone()[0]
    db.commit()
    db.close()
    sign_in(browser, server, EMAIL)
    browser.get(f"{server.url}/dashboard/portals/{portal_id}")
    intro = browser.find_element(By.XPATH, "//h1/following-sibling::p[1]").text
    assert "Accepting uploads." in intro and f"new files go to the backup account #{ids['tomas@box.example']}" in intro, intro
    # The account in error is still shown as the portal's own, marked as such; the backup is kept.
    storage = Select(browser.find_element(By.ID, "storage_account_id")).first_selected_option.text
    assert storage == "Google Drive (tomas@home.example) (error)"
    # The client's page takes files and says nothing of the storage behind it.
    browser.get(f"{server.url}/p/failing-over")
    page = browser.find_element(By.TAG_NAME, "main").text
    assert "cannot accept" not in page and "Dropbox" not in page and "Google" not in page
    assert browser.find_elements(By.CSS_SELECTOR, "input[type=file]")
    screenshot(browser, "portal-failing-over")
