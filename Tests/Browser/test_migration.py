"""Moving files to another storage account in a real browser: the Storage page's form (a refusal
shown on its field), the migration's progress page refreshing itself without JavaScript until
every file is moved, the files then served from the new account (issue 19)."""
import hashlib
import os
import sqlite3
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import make_driver, module_server, screenshot
from test_dashboard_files import client_uploads, make_owner_portal
from test_people import click_and_wait, sign_in

EMAIL = "mover@example.com"


server = module_server()


def second_disk(server, owner):
    """Another local-disk account of the owner, empty: the id."""
    db = sqlite3.connect(f"{server.home}/intake.db")
    cur = db.execute("INSERT INTO storage_accounts (user_id, provider, provider_account_id, display_name, email, status, created_at, updated_at) "
                     "VALUES (?, 'local', 'second-disk', 'Second disk', 'archive@mover.example', 'ACTIVE', 0, 0)", (owner,))
    db.commit()
    db.close()
    return cur.lastrowid


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
def test_move_every_file_to_another_account(server, javascript):
    slug = "mover-js" if javascript else "mover"
    email = ("js-" if javascript else "") + EMAIL
    owner = make_owner_portal(server, email, "Mo Mover", slug)
    files = [(f"page-{n}.pdf", b"%PDF-1.7\n" + os.urandom(30_000 + n * 1000)) for n in range(4)]
    client_uploads(server, slug, files)
    target = second_disk(server, owner)
    db = sqlite3.connect(f"{server.home}/intake.db")
    source = db.execute("SELECT id FROM storage_accounts WHERE user_id = ? AND provider_account_id = ?", (owner, f"local-{slug}")).fetchone()[0]
    db.close()

    driver = make_driver(javascript=javascript)
    try:
        sign_in(driver, server, email)
        driver.get(server.url + "/dashboard/settings")
        what = Select(driver.find_element(By.ID, "move-what"))
        assert [o.text for o in what.options] == ["All files in Local disk (4 files)", f"The files of portal Drop {slug}"]
        to = Select(driver.find_element(By.ID, "move-destination"))
        assert [o.text for o in to.options] == ["Local disk", "Local disk (archive@mover.example)"]

        # The account the files are in: refused on the form's field, the choices kept.
        what.select_by_value(f"account-{source}")
        to.select_by_value(str(source))
        click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.move-files button[type=submit]"))
        field = driver.find_element(By.ID, "move-what")
        assert field.get_attribute("aria-invalid") == "true"
        assert "Choose another account than the one the files are in." in driver.find_element(By.ID, "move-what-error").text
        assert Select(driver.find_element(By.ID, "move-destination")).first_selected_option.get_attribute("value") == str(source)

        Select(driver.find_element(By.ID, "move-destination")).select_by_value(str(target))
        click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.move-files button[type=submit]"))
        assert driver.current_url.endswith("/dashboard/migrations/" + driver.current_url.rsplit("/", 1)[1])
        assert driver.find_element(By.TAG_NAME, "h1").text == "Moving files"
        assert driver.find_element(By.ID, "migration-title").text == "All files of Local disk → Local disk (archive@mover.example)"
        assert driver.find_element(By.CSS_SELECTOR, ".site-nav a[aria-current=page]").text == "Storage"
        assert "Moving 4 files" in driver.find_element(By.CSS_SELECTOR, ".flash").text
        screenshot(driver, f"migration-started-{'js' if javascript else 'no-js'}")

        # The page reloads itself (Refresh header) until the move is done.
        deadline = time.time() + 30
        while "Finished" not in driver.find_element(By.ID, "migration-status").text:
            assert time.time() < deadline, driver.find_element(By.TAG_NAME, "main").text
            time.sleep(0.5)
        assert driver.find_element(By.ID, "migration-status").text == "Finished: every file moved"
        assert driver.find_element(By.ID, "moved-files").text == "4 of 4 files"
        progress = driver.find_element(By.CSS_SELECTOR, "progress.migration-progress")
        assert progress.get_attribute("value") == "4" and progress.get_attribute("max") == "4"
        assert not driver.find_elements(By.CSS_SELECTOR, ".migration-failures")
        screenshot(driver, f"migration-finished-{'js' if javascript else 'no-js'}")

        # The Storage page lists the move; the files are now in the second account, as sent.
        click_and_wait(driver, driver.find_element(By.LINK_TEXT, "← Storage"))
        row = driver.find_element(By.CSS_SELECTOR, "table.migrations tbody tr")
        assert "4 of 4" in row.text and "Finished: every file moved" in row.text
        db = sqlite3.connect(f"{server.home}/intake.db")
        bound = db.execute("SELECT file_name, storage_account_id, sha256 FROM file_uploads WHERE user_id = ? ORDER BY id", (owner,)).fetchall()
        db.close()
        sent = {name: hashlib.sha256(data).hexdigest() for name, data in files}
        assert [(name, account) for name, account, _ in bound] == [(name, target) for name, _ in files]
        assert all(sent[name] == sha for name, _, sha in bound)
        for name, data in files:
            found = [os.path.join(d, name) for d, _, names in os.walk(f"{server.home}/storage/{target}") if name in names]
            assert len(found) == 1 and open(found[0], "rb").read() == data, name
            assert not any(name in names for _, _, names in os.walk(f"{server.home}/storage/{source}")), "old copy deleted"
    finally:
        driver.quit()
