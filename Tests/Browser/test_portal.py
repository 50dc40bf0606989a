"""A client uploads through a public portal with a plain form (no JavaScript needed)."""
import os
import sqlite3
import tempfile

from selenium.webdriver.common.by import By

from conftest import make_driver, screenshot
from test_people import click_and_wait


def make_portal(server, slug):
    db = sqlite3.connect(f"{server.home}/intake.db")
    owner = db.execute("SELECT id FROM users WHERE email_normalized = 'owner@example.com'").fetchone()[0]
    cur = db.execute("INSERT INTO storage_accounts (user_id, provider, provider_account_id, display_name, status, created_at, updated_at) "
                     "VALUES (?, 'local', ?, 'Local disk', 'ACTIVE', 0, 0)", (owner, f"local-{slug}"))
    db.execute("INSERT INTO portals (user_id, name, slug, description, storage_account_id, folder_name, created_at, updated_at) "
               "VALUES (?, 'Tax documents', ?, 'Send your receipts here.', ?, 'Tax', 0, 0)", (owner, slug, cur.lastrowid))
    db.commit()
    db.close()


def test_client_uploads_two_files_without_javascript(server):
    make_portal(server, "tax-2026")
    driver = make_driver(javascript=False)
    try:
        driver.get(server.url + "/p/tax-2026")
        assert driver.find_element(By.TAG_NAME, "h1").text == "Tax documents"
        assert driver.find_element(By.CSS_SELECTOR, "label[for=files]").text == "Files"
        screenshot(driver, "portal-form")
        folder = tempfile.mkdtemp()
        paths = []
        for name, content in [("receipt.pdf", b"%PDF-1.4\n1 0 obj\n"), ("notes.txt", b"two receipts\n")]:
            path = os.path.join(folder, name)
            with open(path, "wb") as f:
                f.write(content)
            paths.append(path)
        driver.find_element(By.ID, "clientName").send_keys("Ada Client")
        driver.find_element(By.ID, "files").send_keys("\n".join(paths))
        click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, ".upload-form button[type=submit]"))
        assert "your files arrived" in driver.find_element(By.TAG_NAME, "h1").text
        items = [li.text for li in driver.find_elements(By.CSS_SELECTOR, ".receipt li")]
        assert len(items) == 2 and items[0].startswith("receipt.pdf") and items[1].startswith("notes.txt")
        screenshot(driver, "portal-receipt")
        assert os.path.exists(f"{server.home}/storage") and any(
            name == "receipt.pdf" for _, _, names in os.walk(f"{server.home}/storage") for name in names)
    finally:
        driver.quit()
