"""The owner's dashboard and files page: recent uploads and what is new since the last visit,
portal links with copy and QR code, the selection downloaded as a zip and deleted, previews."""
import glob
import http.cookiejar
import io
import os
import sqlite3
import struct
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import make_driver, module_server, screenshot
from test_people import click_and_wait, sign_in
from test_portal import write_files


server = module_server()


def make_owner_portal(server, email, name, slug):
    """A new owner with a local-disk storage account and one portal; the owner's id."""
    server.create_user(email, name)
    db = sqlite3.connect(f"{server.home}/intake.db")
    owner = db.execute("SELECT id FROM users WHERE email_normalized = ?", (email,)).fetchone()[0]
    cur = db.execute("INSERT INTO storage_accounts (user_id, provider, provider_account_id, display_name, status, created_at, updated_at) "
                     "VALUES (?, 'local', ?, 'Local disk', 'ACTIVE', 0, 0)", (owner, f"local-{slug}"))
    db.execute("INSERT INTO portals (user_id, name, slug, description, storage_account_id, folder_name, created_at, updated_at) "
               "VALUES (?, ?, ?, '', ?, ?, 0, 0)", (owner, f"Drop {slug}", slug, cur.lastrowid, slug))
    db.commit()
    db.close()
    return owner


def client_uploads(server, slug, files, name="Carla Client", email="carla@clients.example", message="Here are the papers."):
    """A client sends `files` (name, bytes) through the portal without JavaScript; waits until delivered."""
    driver = make_driver(javascript=False)
    try:
        driver.get(server.url + "/p/" + slug)
        driver.find_element(By.ID, "clientName").send_keys(name)
        driver.find_element(By.ID, "clientEmail").send_keys(email)
        driver.find_element(By.ID, "clientMessage").send_keys(message)
        driver.find_element(By.ID, "files").send_keys(write_files(files))
        click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, ".upload-form button[type=submit]"))
        assert "your files arrived" in driver.find_element(By.TAG_NAME, "h1").text
    finally:
        driver.quit()
    deadline = time.time() + 20
    while True:
        db = sqlite3.connect(f"{server.home}/intake.db")
        waiting = db.execute("SELECT count(*) FROM file_uploads WHERE status <> 'uploaded'").fetchone()[0]
        db.close()
        if waiting == 0:
            return
        assert time.time() < deadline, "the files were not delivered"
        time.sleep(0.2)


def file_ids(server, owner):
    db = sqlite3.connect(f"{server.home}/intake.db")
    rows = dict(db.execute("SELECT file_name, id FROM file_uploads WHERE user_id = ?", (owner,)).fetchall())
    db.close()
    return rows


def png(width=3, height=2):
    """A real PNG image (red pixels)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class Session:
    """The browser's session, for requests a test makes beside it (headers, a forged post)."""
    def __init__(self, driver, server):
        self.server = server
        self.jar = http.cookiejar.CookieJar()
        for c in driver.get_cookies():
            self.jar.set_cookie(http.cookiejar.Cookie(0, c["name"], c["value"], None, False, "127.0.0.1", False, False, "/", True,
                                                      False, None, False, None, None, {}))
        self.csrf = driver.find_element(By.CSS_SELECTOR, "meta[name=csrf-token]").get_attribute("content")

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def request(self, path, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(self.server.url + path, data=data, headers={"Origin": self.server.url})
        try:
            with self.opener.open(req, timeout=10) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()


def end_the_visit(server, email):
    """Half an hour passes for the owner's dashboard: its views are one visit while they are less
    than 30 minutes apart. The clock is not faked here, so what happened so far — the views and
    the files received — is moved half an hour back instead."""
    db = sqlite3.connect(f"{server.home}/intake.db")
    with db:
        owner = db.execute("SELECT id FROM users WHERE email_normalized = ?", (email,)).fetchone()[0]
        db.execute("UPDATE users SET dashboard_visited_at = dashboard_visited_at - 1800, "
                   "dashboard_previous_visit_at = dashboard_previous_visit_at - 1800 WHERE id = ?", (owner,))
        db.execute("UPDATE file_uploads SET created_at = created_at - 1800 WHERE user_id = ?", (owner,))
    db.close()


def test_dashboard_shows_recent_uploads_new_since_last_visit_copy_and_qr(server):
    make_owner_portal(server, "dana@example.com", "Dana Dashboard", "dana-drop")
    driver = make_driver()
    try:
        sign_in(driver, server, "dana@example.com")
        assert driver.current_url.endswith("/dashboard")
        assert "Welcome to your dashboard" in driver.find_element(By.ID, "since").text
        end_the_visit(server, "dana@example.com")
        client_uploads(server, "dana-drop", [("invoice.pdf", b"%PDF-1.4\n1 0 obj\n"), ("notes.txt", b"two receipts\n")])
        driver.get(server.url + "/dashboard")
        assert driver.find_element(By.ID, "since").text.startswith("2 new files since your last visit")
        driver.get(server.url + "/dashboard")
        assert driver.find_element(By.ID, "since").text.startswith("2 new files since your last visit"), "a reload keeps the visit's marks"
        row = driver.find_element(By.CSS_SELECTOR, "table.recent tbody tr")
        text = row.text
        assert "Carla Client" in text and "invoice.pdf" in text and "notes.txt" in text and "Delivered" in text, text
        assert "New" in row.find_element(By.CSS_SELECTOR, ".badge-new").text
        assert "Here are the papers." in text and "carla@clients.example" in text
        assert row.find_element(By.CSS_SELECTOR, "time").get_attribute("datetime").endswith("Z")
        assert "Drop dana-drop" in driver.find_element(By.CSS_SELECTOR, ".portal-links").text
        assert "2 files received" in driver.find_element(By.CSS_SELECTOR, ".portal-count").text
        # Storage used of the quota, with its bar.
        assert driver.find_element(By.CSS_SELECTOR, ".usage[role=img]").get_attribute("aria-label").endswith("of the quota used")
        # The QR code: an SVG named for assistive technology, with the full link.
        url = f"{server.url}/p/dana-drop"
        qr = driver.find_element(By.CSS_SELECTOR, "svg.qr")
        assert qr.get_attribute("role") == "img" and qr.get_attribute("aria-label") == f"QR code for {url}"
        assert driver.find_element(By.CSS_SELECTOR, ".portal-url").get_attribute("value") == url
        screenshot(driver, "dashboard-owner")
        # The copy button puts the link on the clipboard.
        driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": server.url,
                                                            "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
        button = driver.find_element(By.CSS_SELECTOR, "button.copy-button")
        assert button.is_displayed() and button.text == "Copy link" and button.accessible_name.startswith("Copy link to Drop dana-drop (/p/")
        button.click()
        WebDriverWait(driver, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, ".copy-status").text == "Copied.")
        copied = driver.execute_async_script("navigator.clipboard.readText().then(arguments[0], e => arguments[0]('error: ' + e))")
        assert copied == url
        # The next visit (half an hour later): nothing new since this one.
        end_the_visit(server, "dana@example.com")
        driver.get(server.url + "/dashboard")
        assert driver.find_element(By.ID, "since").text.startswith("No new files since your last visit")
        assert not driver.find_elements(By.CSS_SELECTOR, ".badge-new")
    finally:
        driver.quit()


def test_selected_files_download_as_one_zip_with_every_byte(server):
    owner = make_owner_portal(server, "zed@example.com", "Zed Zip", "zed-drop")
    payloads = [("photo.png", png()), ("report.pdf", b"%PDF-1.4\n" + os.urandom(300_000)), ("Straße notes.txt", "grüße\n".encode() * 1000)]
    client_uploads(server, "zed-drop", payloads)
    folder = tempfile.mkdtemp()
    driver = make_driver()
    try:
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": folder})
        sign_in(driver, server, "zed@example.com", path="/login?next=/dashboard/files")
        for name, _ in payloads:
            driver.find_element(By.CSS_SELECTOR, f"input[type=checkbox][aria-label^='Select {name} (file ']").click()
        screenshot(driver, "files-selected")
        driver.find_element(By.XPATH, "//button[normalize-space()='Download selected as zip']").click()
        WebDriverWait(driver, 20).until(lambda d: [p for p in glob.glob(folder + "/*.zip")])
        path = glob.glob(folder + "/*.zip")[0]
        with zipfile.ZipFile(path) as z:
            assert z.testzip() is None
            got = {i.filename: z.read(i) for i in z.infolist()}
            assert all(i.flag_bits & 0x808 == 0x808 for i in z.infolist())
        assert got == dict(payloads)
        # "Select all" follows the boxes (all three ticked), and clears or ticks every file of the page.
        select_all = driver.find_element(By.ID, "select-all")
        boxes = driver.find_elements(By.CSS_SELECTOR, "input[type=checkbox][name=id]")
        assert select_all.is_selected()
        select_all.click()
        assert not any(b.is_selected() for b in boxes)
        select_all.click()
        assert all(b.is_selected() for b in boxes)
        # Someone else's file in the selection: no such file, and no zip.
        other = make_owner_portal(server, "other-zip@example.com", "Other", "other-zip")
        client_uploads(server, "other-zip", [("secret.txt", b"not yours\n")])
        session = Session(driver, server)
        status, _, body = session.request("/dashboard/files/zip", [("csrf_token", session.csrf), ("id", file_ids(server, owner)["photo.png"]),
                                                                   ("id", file_ids(server, other)["secret.txt"])])
        assert status == 404 and b"There is no such file." in body and b"not yours" not in body
        # Without the CSRF token nothing is sent.
        status, _, _ = session.request("/dashboard/files/zip", [("id", file_ids(server, owner)["photo.png"])])
        assert status == 403
    finally:
        driver.quit()


def test_previews_are_sandboxed_and_only_for_images_and_pdfs(server):
    owner = make_owner_portal(server, "pia@example.com", "Pia Preview", "pia-drop")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    html = b"<html><body><script>alert(1)</script>hi</body></html>"
    pdf = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    client_uploads(server, "pia-drop", [("picture.png", png()), ("drawing.txt", svg), ("page.txt", html), ("fake.txt", b"not a png at all"),
                                        ("paper.pdf", pdf)])
    # Files whose names say SVG, HTML, and PNG while their bytes are text (what a client can claim).
    db = sqlite3.connect(f"{server.home}/intake.db")
    db.execute("UPDATE file_uploads SET file_name = 'drawing.svg', content_type = 'image/svg+xml' WHERE file_name = 'drawing.txt'")
    db.execute("UPDATE file_uploads SET file_name = 'page.html', content_type = 'text/html' WHERE file_name = 'page.txt'")
    db.execute("UPDATE file_uploads SET file_name = 'fake.png', content_type = 'image/png' WHERE file_name = 'fake.txt'")
    db.commit()
    db.close()
    ids = file_ids(server, owner)
    driver = make_driver()
    try:
        sign_in(driver, server, "pia@example.com", path="/login?next=/dashboard/files")
        assert driver.find_elements(By.CSS_SELECTOR, "a[aria-label^='Preview picture.png (file ']")
        assert not driver.find_elements(By.CSS_SELECTOR, "a[aria-label^='Preview drawing.svg (file ']")
        assert not driver.find_elements(By.CSS_SELECTOR, "a[aria-label^='Preview page.html (file ']")
        click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "a[aria-label^='Preview picture.png (file ']"))
        image = driver.find_element(By.CSS_SELECTOR, "img.preview-image")
        assert image.get_attribute("alt") == "Preview of picture.png"
        WebDriverWait(driver, 5).until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) == 3)
        screenshot(driver, "file-preview")
        session = Session(driver, server)
        status, headers, body = session.request(f"/dashboard/files/{ids['picture.png']}/inline")
        assert status == 200 and body == png() and headers["content-type"] == "image/png", headers
        assert "sandbox" in headers["content-security-policy"] and headers["x-content-type-options"] == "nosniff", headers
        assert headers["content-disposition"].startswith("inline")
        # A PDF: in a frame (no sandbox attribute, which Chromium's viewer refuses), sandboxed by its response's CSP.
        driver.get(server.url + f"/dashboard/files/{ids['paper.pdf']}/preview")
        frame = driver.find_element(By.CSS_SELECTOR, "iframe.preview-frame")
        assert frame.get_attribute("title") == "Preview of paper.pdf" and frame.get_attribute("sandbox") is None
        status, headers, body = session.request(f"/dashboard/files/{ids['paper.pdf']}/inline")
        assert status == 200 and body == pdf and headers["content-type"] == "application/pdf", headers
        assert "sandbox" in headers["content-security-policy"] and headers["x-content-type-options"] == "nosniff", headers
        assert "frame-ancestors 'self'" in headers["content-security-policy"] and headers["x-frame-options"] == "SAMEORIGIN", headers
        # The SVG, the HTML and the PNG that is not one get no preview: their download, as an attachment.
        for name in ("drawing.svg", "page.html", "fake.png"):
            status, headers, _ = session.request(f"/dashboard/files/{ids[name]}/inline")
            assert status in (302, 303) and headers["location"].endswith(f"/api/uploads/{ids[name]}/download"), (name, status)
            status, headers, _ = session.request(f"/api/uploads/{ids[name]}/download")
            assert status == 200 and headers["content-disposition"].startswith("attachment"), (name, headers)
            assert headers["x-content-type-options"] == "nosniff" and "sandbox" in headers["content-security-policy"], (name, headers)
    finally:
        driver.quit()


def test_bulk_delete_after_one_confirmation_and_never_another_owners_file(server):
    owner = make_owner_portal(server, "del@example.com", "Del Delete", "del-drop")
    client_uploads(server, "del-drop", [("one.txt", b"1\n"), ("two.txt", b"2\n"), ("keep.txt", b"3\n")])
    other = make_owner_portal(server, "other-del@example.com", "Other", "other-del")
    client_uploads(server, "other-del", [("theirs.txt", b"theirs\n")])
    driver = make_driver()
    try:
        sign_in(driver, server, "del@example.com", path="/login?next=/dashboard/files")
        for name in ("one.txt", "two.txt"):
            driver.find_element(By.CSS_SELECTOR, f"input[type=checkbox][aria-label^='Select {name} (file ']").click()
        click_and_wait(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Delete selected…']"))
        assert driver.find_element(By.TAG_NAME, "h1").text == "Delete 2 files?"
        listed = driver.find_element(By.CSS_SELECTOR, "main table").text
        assert "one.txt" in listed and "two.txt" in listed and "keep.txt" not in listed
        screenshot(driver, "files-delete-confirm")
        session = Session(driver, server)
        click_and_wait(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Delete 2 files']"))
        assert "2 files were deleted." in driver.find_element(By.CSS_SELECTOR, ".flash").text
        assert set(file_ids(server, owner)) == {"keep.txt"}
        # Another owner's id is no such file, and nothing is deleted.
        theirs = file_ids(server, other)["theirs.txt"]
        status, _, body = session.request("/dashboard/files/delete-selected", [("csrf_token", session.csrf), ("id", theirs)])
        assert status == 404 and b"There is no such file." in body
        assert "theirs.txt" in file_ids(server, other)
        # Nothing selected: said on the files page.
        click_and_wait(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Delete selected…']"))
        assert "Select one or more files first" in driver.find_element(By.CSS_SELECTOR, ".flash").text
    finally:
        driver.quit()
