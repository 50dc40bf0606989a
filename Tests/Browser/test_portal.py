"""A client uploads through a public portal with a plain form (no JavaScript needed)."""
import os
import sqlite3
import tempfile

from selenium.webdriver.common.by import By

from conftest import make_driver, screenshot
from test_people import click_and_wait


def make_portal(server, slug, allowed="", families=""):
    db = sqlite3.connect(f"{server.home}/intake.db")
    owner = db.execute("SELECT id FROM users WHERE email_normalized = 'owner@example.com'").fetchone()[0]
    # The owner's one local disk (made by the first portal), as on a real site.
    disk = db.execute("SELECT id FROM storage_accounts WHERE user_id = ? AND provider = 'local' AND status = 'ACTIVE' ORDER BY id LIMIT 1",
                      (owner,)).fetchone()
    if disk is None:
        disk = db.execute("INSERT INTO storage_accounts (user_id, provider, provider_account_id, display_name, status, created_at, updated_at) "
                          "VALUES (?, 'local', ?, 'Local disk', 'ACTIVE', 0, 0) RETURNING id", (owner, f"local-{slug}")).fetchone()
    db.execute("INSERT INTO portals (user_id, name, slug, description, storage_account_id, folder_name, allowed_extensions, allowed_families, "
               "created_at, updated_at) VALUES (?, 'Tax documents', ?, 'Send your receipts here.', ?, 'Tax', ?, ?, 0, 0)",
               (owner, slug, disk[0], allowed, families))
    db.commit()
    db.close()


def stored_bytes(server, slug):
    """Each stored file of a portal by name: the bytes on the local disk."""
    db = sqlite3.connect(f"{server.home}/intake.db")
    try:
        rows = db.execute("SELECT f.file_name, f.storage_account_id, f.provider_file_id FROM file_uploads f JOIN portals p ON p.id = f.portal_id "
                          "WHERE p.slug = ?", (slug,)).fetchall()
    finally:
        db.close()
    out = {}
    for name, account, path in rows:
        with open(f"{server.home}/storage/{account}/{path}", "rb") as f:
            out[name] = f.read()
    return out


def count_requests(driver):
    """From now on the page counts every request its scripts start (XMLHttpRequest and fetch)."""
    driver.execute_script("""
        window.__requests = 0;
        var open = XMLHttpRequest.prototype.send;
        XMLHttpRequest.prototype.send = function () { window.__requests++; return open.apply(this, arguments); };
        var fetch = window.fetch;
        window.fetch = function () { window.__requests++; return fetch.apply(this, arguments); };""")


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
        big = b"%PDF-1.4\n" + os.urandom(3 * 1024 * 1024)
        paths = write_files([("big.pdf", big), ("b.txt", b"second\n"), ("c.exe", b"MZ")])
        driver.find_element(By.ID, "clientName").send_keys("Ada Script")
        count_requests(driver)
        driver.find_element(By.ID, "files").send_keys(paths)
        # The refused type is named before sending; all three are listed with their sizes.
        problems = driver.find_element(By.ID, "files-problems").text
        assert "“c.exe”: .exe files are not accepted here. This portal accepts .pdf, .txt files." in problems
        names = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".upload-list .upload-name")]
        assert names == ["big.pdf", "b.txt", "c.exe"]
        assert driver.find_elements(By.CSS_SELECTOR, ".upload-list .upload-size")[0].text == "3.15 MB"
        # Upload while one is refused: nothing is sent.
        driver.find_element(By.CSS_SELECTOR, ".upload-form button[type=submit]").click()
        assert "Nothing was sent" in driver.find_element(By.CSS_SELECTOR, ".upload-status").text
        assert driver.execute_script("return window.__requests") == 0
        # Removed, the other two go, each with its progress bar.
        driver.find_element(By.CSS_SELECTOR, "button[aria-label='Remove c.exe']").click()
        assert driver.find_element(By.ID, "files-problems").text == ""
        driver.execute_script("window.__stillHere = true")
        driver.find_element(By.CSS_SELECTOR, ".upload-form button[type=submit]").click()
        assert len(driver.find_elements(By.CSS_SELECTOR, ".upload-list progress")) == 2
        from selenium.webdriver.support.ui import WebDriverWait
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".receipt-body li[data-receipt]"))
        assert driver.execute_script("return window.__stillHere === true"), "no page reload"
        screenshot(driver, "portal-js-progress")
        assert stored_bytes(server, "js-portal") == {"big.pdf": big, "b.txt": b"second\n"}
    finally:
        driver.quit()


def test_open_portal_takes_any_type_from_a_script(server):
    make_portal(server, "any-type")
    mp4 = b"\x00\x00\x00\x18ftypisom" + os.urandom(200 * 1024)
    psd = b"8BPS\x00\x01" + os.urandom(100 * 1024)
    driver = make_driver()
    try:
        driver.get(server.url + "/p/any-type")
        assert "Any type of file." in driver.find_element(By.ID, "files-hint").text
        driver.find_element(By.ID, "clientName").send_keys("Ada Video")
        driver.find_element(By.ID, "files").send_keys(write_files([("clip.mp4", mp4), ("design.psd", psd)]))
        assert driver.find_element(By.ID, "files-problems").text == ""
        driver.find_element(By.CSS_SELECTOR, ".upload-form button[type=submit]").click()
        from selenium.webdriver.support.ui import WebDriverWait
        WebDriverWait(driver, 20).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".receipt-body li[data-receipt]")) == 2)
    finally:
        driver.quit()
    assert stored_bytes(server, "any-type") == {"clip.mp4": mp4, "design.psd": psd}


def test_narrowed_portal_stops_a_video_before_sending(server):
    make_portal(server, "docs-only", families="documents")
    driver = make_driver()
    try:
        driver.get(server.url + "/p/docs-only")
        hint = driver.find_element(By.ID, "files-hint").text
        assert "Accepted: documents." in hint and ".pdf" in hint and "Up to 20 files at a time, each at most" in hint
        driver.find_element(By.ID, "clientName").send_keys("Ada Stopped")
        count_requests(driver)
        driver.find_element(By.ID, "files").send_keys(write_files([("clip.mp4", b"\x00\x00\x00\x18ftypisom"), ("letter.pdf", b"%PDF-1.7\n")]))
        problems = driver.find_element(By.ID, "files-problems").text
        assert "“clip.mp4”: .mp4 files are not accepted here. This portal accepts documents." in problems
        assert "letter.pdf" not in problems
        driver.find_element(By.CSS_SELECTOR, ".upload-form button[type=submit]").click()
        assert "Nothing was sent" in driver.find_element(By.CSS_SELECTOR, ".upload-status").text
        screenshot(driver, "portal-narrowed-refused")
        assert driver.execute_script("return window.__requests") == 0, "no request left the page"
    finally:
        driver.quit()
    assert stored_bytes(server, "docs-only") == {}


def test_javascript_receipt_and_send_more(server):
    make_portal(server, "receipt-js")
    driver = make_driver()
    try:
        driver.get(server.url + "/p/receipt-js")
        driver.find_element(By.ID, "clientName").send_keys("Ada Receipt")
        driver.find_element(By.ID, "files").send_keys(write_files([("one.txt", b"first file\n"), ("two.pdf", b"%PDF-1.7\n" + b"x" * 2000)]))
        driver.find_element(By.CSS_SELECTOR, ".upload-form button[type=submit]").click()
        from selenium.webdriver.support.ui import WebDriverWait
        WebDriverWait(driver, 20).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".receipt-body li[data-receipt]")) == 2)
        body = driver.find_element(By.CSS_SELECTOR, ".receipt-body")
        assert "Thank you: your files arrived" in body.find_element(By.TAG_NAME, "h2").text
        rows = body.find_elements(By.CSS_SELECTOR, "li[data-receipt]")
        assert [r.find_element(By.CSS_SELECTOR, ".receipt-name").text for r in rows] == ["one.txt", "two.pdf"]
        assert all(r.find_element(By.CSS_SELECTOR, ".receipt-size").text for r in rows)
        assert all(r.find_element(By.CSS_SELECTOR, ".receipt-status").text for r in rows)
        # The form does not come back on its own.
        assert not driver.find_element(By.CSS_SELECTOR, "form.upload-form").is_displayed()
        screenshot(driver, "portal-js-receipt")
        link = body.find_element(By.CSS_SELECTOR, "a.receipt-link").get_attribute("href")
        assert "/p/receipt-js/receipt?r=" in link and driver.current_url == link

        # Reloaded, the same receipt from the server.
        driver.refresh()
        assert "your files arrived" in driver.find_element(By.TAG_NAME, "h1").text
        assert [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".receipt .receipt-name")] == ["one.txt", "two.pdf"]

        # Again with JavaScript: "Send more files" brings an empty form back.
        driver.get(server.url + "/p/receipt-js")
        driver.find_element(By.ID, "clientName").send_keys("Ada Again")
        driver.find_element(By.ID, "files").send_keys(write_files([("three.txt", b"third\n")]))
        driver.find_element(By.CSS_SELECTOR, ".upload-form button[type=submit]").click()
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".receipt-body li[data-receipt]"))
        driver.find_element(By.XPATH, "//button[normalize-space()='Send more files']").click()
        form = driver.find_element(By.CSS_SELECTOR, "form.upload-form")
        assert form.is_displayed() and not driver.find_elements(By.CSS_SELECTOR, ".receipt-body")
        assert driver.find_elements(By.CSS_SELECTOR, ".upload-list li") == []
        assert driver.find_element(By.ID, "clientName").get_attribute("value") == "Ada Again"
        assert driver.current_url == server.url + "/p/receipt-js"
        assert driver.switch_to.active_element.get_attribute("id") == "files-zone"
    finally:
        driver.quit()


def test_one_tab_stop_for_choosing_files_and_dropping_them(server):
    from selenium.webdriver.common.keys import Keys
    make_portal(server, "keyboard")
    driver = make_driver()
    try:
        driver.get(server.url + "/p/keyboard")
        driver.find_element(By.ID, "clientMessage").click()
        stops = []
        for _ in range(3):
            driver.switch_to.active_element.send_keys(Keys.TAB)
            active = driver.switch_to.active_element
            stops.append(active.get_attribute("id") or active.text)
        assert stops[0] == "files-zone" and stops[1] == "Upload", stops
        zone = driver.find_element(By.ID, "files-zone")
        # Keyboard focus shows a ring.
        driver.find_element(By.ID, "clientMessage").click()
        driver.switch_to.active_element.send_keys(Keys.TAB)
        assert driver.execute_script("return getComputedStyle(document.activeElement).outlineStyle") == "solid"
        # The zone's name says what it is; the hidden input is out of the tab order and the tree.
        label = driver.execute_script("""var ids = arguments[0].getAttribute('aria-labelledby').split(' ');
            return ids.map(function (id) { return document.getElementById(id).textContent; }).join(' ');""", zone)
        assert label == "Files Choose files or drop them here"
        files = driver.find_element(By.ID, "files")
        assert files.get_attribute("tabindex") == "-1" and files.get_attribute("aria-hidden") == "true"
        # Enter and Space open the picker (the input's click, counted instead of a native dialog).
        driver.execute_script("window.__picked = 0; document.getElementById('files').click = function () { window.__picked++; };")
        zone.send_keys(Keys.ENTER)
        zone.send_keys(Keys.SPACE)
        assert driver.execute_script("return window.__picked") == 2
        # Dropped files are listed with their sizes and can be removed.
        driver.execute_script("""var data = new DataTransfer();
            data.items.add(new File(['hello dropped'], 'dropped.txt', {type: 'text/plain'}));
            data.items.add(new File(['x'], 'other.txt', {type: 'text/plain'}));
            arguments[0].dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true}));""", zone)
        items = [li.text for li in driver.find_elements(By.CSS_SELECTOR, ".upload-list li")]
        assert items[0].startswith("dropped.txt 13 B") and items[1].startswith("other.txt 1 B")
        driver.find_element(By.CSS_SELECTOR, "button[aria-label='Remove other.txt']").click()
        assert [li.find_element(By.CSS_SELECTOR, ".upload-name").text for li in driver.find_elements(By.CSS_SELECTOR, ".upload-list li")] == ["dropped.txt"]
        assert driver.switch_to.active_element.get_attribute("id") == "files-zone"
        screenshot(driver, "portal-keyboard")
    finally:
        driver.quit()


def test_branding_set_by_the_owner_shows_to_clients(browser, server):
    from test_people import sign_in
    import struct
    import zlib
    make_portal(server, "branded")
    sign_in(browser, server, "owner@example.com")
    db = sqlite3.connect(f"{server.home}/intake.db")
    portal_id = db.execute("SELECT id FROM portals WHERE slug = 'branded'").fetchone()[0]
    db.close()
    browser.get(server.url + f"/dashboard/portals/{portal_id}")
    description = browser.find_element(By.ID, "description")
    description.clear()
    description.send_keys("Welcome <script>alert('x')</script>\n\nHelp: https://example.com/help")
    colour = browser.find_element(By.ID, "accent_color")
    colour.clear()
    colour.send_keys("#7a1fa2")
    click_and_wait(browser, browser.find_element(By.XPATH, "//button[normalize-space()='Save changes']"))
    # A real 1×1 PNG for the logo.
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b"")
    browser.get(server.url + f"/dashboard/portals/{portal_id}")
    browser.find_element(By.ID, "logo").send_keys(write_files([("logo.png", png)]))
    browser.find_element(By.ID, "logo_alt").send_keys("Branded & Co")
    click_and_wait(browser, browser.find_element(By.XPATH, "//button[normalize-space()='Save the logo']"))
    assert "logo" in browser.find_element(By.CSS_SELECTOR, ".flash").text
    screenshot(browser, "portal-edit-branding")

    client = make_driver()
    try:
        client.get(server.url + "/p/branded")
        logo = client.find_element(By.CSS_SELECTOR, ".portal-logo img")
        assert logo.get_attribute("alt") == "Branded & Co"
        assert client.execute_script("return arguments[0].complete && arguments[0].naturalWidth", logo) == 1
        welcome = client.find_element(By.CSS_SELECTOR, ".portal-welcome")
        assert "Welcome <script>alert('x')</script>" in welcome.text
        assert welcome.find_element(By.TAG_NAME, "a").get_attribute("href") == "https://example.com/help"
        button = client.find_element(By.CSS_SELECTOR, ".upload-form button[type=submit]")
        assert client.execute_script("return getComputedStyle(arguments[0]).backgroundColor", button) == "rgb(122, 31, 162)"
        assert client.execute_script("return getComputedStyle(arguments[0]).color", button) == "rgb(255, 255, 255)"
        headers = client.execute_async_script("""var done = arguments[arguments.length - 1];
            fetch(arguments[0]).then(function (r) { done([r.status, r.headers.get('content-type'), r.headers.get('x-content-type-options'),
                                                         r.headers.get('content-security-policy')]); });""", logo.get_attribute("src"))
        assert headers[0] == 200 and headers[1] == "image/png" and headers[2] == "nosniff" and "sandbox" in headers[3]
        screenshot(client, "portal-branded")
    finally:
        client.quit()


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
    browser.find_element(By.CSS_SELECTOR, "button[aria-label^='Delete draft.txt']").click()
    WebDriverWait(browser, 5).until(lambda d: d.switch_to.alert).accept()
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return !window.__oldPage && document.readyState === 'complete'"))
    screenshot(browser, "owner-files-after-delete")
    # Back on the same filtered list, with only the other file left in it.
    assert browser.current_url == server.url + "/dashboard/files?client=Ada+Owner"
    names = [row.find_element(By.CSS_SELECTOR, "td[data-label=File]").text for row in browser.find_elements(By.CSS_SELECTOR, "table.data tbody tr")]
    assert names == ["invoice.txt"]
    assert "draft.txt" not in stored_names() and "invoice.txt" in stored_names()
