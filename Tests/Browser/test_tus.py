"""tus 1.0 conformance: tuspy (tus-py-client, a client written by others) uploads through nginx
into a portal, with checksums, with its connection cut mid-chunk, and resumed from a stored URL.
No browser here; the file lives with the browser tests for their server fixture."""
import hashlib
import os
import socket
import sqlite3
import tempfile
import threading
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from tusclient import client as tus

from conftest import make_driver, screenshot
from test_portal import make_portal, write_files


class CuttingProxy:
    """A TCP proxy in front of nginx that drops the connection of the next PATCH requests after
    the given numbers of bytes (head included): a network that fails mid-chunk."""

    def __init__(self, upstream_port, cuts):
        self.upstream_port = upstream_port
        self.cuts = list(cuts)
        self.methods = []
        self.lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        first = conn.recv(65536)
        method = first.split(b" ", 1)[0].decode()
        with self.lock:
            self.methods.append(method)
            limit = self.cuts.pop(0) if method == "PATCH" and self.cuts else None

        def back():
            try:
                while data := upstream.recv(65536):
                    conn.sendall(data)
            except OSError:
                pass
            finally:
                try:
                    conn.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        threading.Thread(target=back, daemon=True).start()
        sent = 0
        data = first
        try:
            while data:
                if limit is not None and sent + len(data) > limit:
                    upstream.sendall(data[:limit - sent])
                    time.sleep(0.3)
                    # shutdown, not just close: the other thread's recv would keep the sockets open.
                    for s in (conn, upstream):
                        try:
                            s.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass
                        s.close()
                    return
                upstream.sendall(data)
                sent += len(data)
                data = conn.recv(65536)
            upstream.shutdown(socket.SHUT_WR)
        except OSError:
            conn.close()
            upstream.close()

    def close(self):
        self.listener.close()


def portal_id(server, slug):
    db = sqlite3.connect(f"{server.home}/intake.db")
    try:
        return db.execute("SELECT id FROM portals WHERE slug = ?", (slug,)).fetchone()[0]
    finally:
        db.close()


def assert_arrived(server, file_name, content):
    """The newest upload named `file_name` holds `content`, with its SHA-256 recorded; usage is
    the sum of stored sizes and no reservation is left."""
    db = sqlite3.connect(f"{server.home}/intake.db")
    try:
        account, file_id, sha256, size = db.execute(
            "SELECT storage_account_id, provider_file_id, sha256, size_bytes FROM file_uploads WHERE file_name = ? ORDER BY id DESC",
            (file_name,)).fetchone()
        used = db.execute("SELECT storage_used_bytes FROM users WHERE email_normalized = 'owner@example.com'").fetchone()[0]
        total = db.execute("SELECT coalesce(sum(size_bytes), 0) FROM file_uploads f JOIN users u ON u.id = f.user_id "
                           "WHERE u.email_normalized = 'owner@example.com' AND f.status = 'uploaded'").fetchone()[0]
        held = db.execute("SELECT count(*) FROM upload_reservations").fetchone()[0]
    finally:
        db.close()
    with open(f"{server.home}/storage/{account}/{file_id}", "rb") as f:
        data = f.read()
    assert size == len(data)
    assert used == total, "usage equals the sum of the stored files' sizes"
    assert held == 0, "no reservation is left behind"
    assert data == content
    assert sha256 == hashlib.sha256(content).hexdigest()


def sample(size, name):
    content = b"%PDF-1.7\n" + os.urandom(size - 9)
    path = os.path.join(tempfile.mkdtemp(), name)
    with open(path, "wb") as f:
        f.write(content)
    return path, content


def metadata(server, name):
    return {"portalId": str(portal_id(server, "tus")), "filename": name, "filetype": "application/pdf", "clientName": "Tuspy"}


def ensure_portal(server):
    db = sqlite3.connect(f"{server.home}/intake.db")
    try:
        exists = db.execute("SELECT 1 FROM portals WHERE slug = 'tus'").fetchone()
    finally:
        db.close()
    if not exists:
        make_portal(server, "tus")


def test_tuspy_uploads_in_chunks_with_sha1_checksums(server):
    ensure_portal(server)
    path, content = sample(5 * 1024 * 1024 + 123, "chunks.pdf")
    uploader = tus.TusClient(server.url + "/api/tus/").uploader(
        path, chunk_size=1024 * 1024, metadata=metadata(server, "chunks.pdf"), upload_checksum=True)
    uploader.upload()
    assert uploader.offset == len(content)
    assert_arrived(server, "chunks.pdf", content)


def test_tuspy_resumes_after_the_connection_is_cut_mid_chunk(server):
    ensure_portal(server)
    path, content = sample(6 * 1024 * 1024, "cut.pdf")
    proxy = CuttingProxy(server.port, cuts=[700 * 1024, 300 * 1024])
    try:
        uploader = tus.TusClient(f"http://127.0.0.1:{proxy.port}/api/tus/").uploader(
            path, chunk_size=2 * 1024 * 1024, metadata=metadata(server, "cut.pdf"), retries=5, retry_delay=0.5)
        uploader.upload()
    finally:
        proxy.close()
    # Two PATCHes were cut; each time tuspy asked the server (HEAD) where to go on from.
    assert proxy.methods.count("HEAD") >= 2, proxy.methods
    assert_arrived(server, "cut.pdf", content)


def test_tuspy_resumes_an_upload_from_its_url_later(server):
    ensure_portal(server)
    path, content = sample(3 * 1024 * 1024, "later.pdf")
    client = tus.TusClient(server.url + "/api/tus/")
    first = client.uploader(path, chunk_size=1024 * 1024, metadata=metadata(server, "later.pdf"))
    first.upload(stop_at=1024 * 1024)
    assert first.offset == 1024 * 1024
    # Another process, knowing only the URL: it asks the offset and sends the rest.
    second = client.uploader(path, chunk_size=1024 * 1024, url=first.url)
    assert second.offset == 1024 * 1024
    second.upload()
    assert_arrived(server, "later.pdf", content)


def network(driver, offline=False, upload_bytes_per_second=-1):
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": upload_bytes_per_second})


def test_portal_page_sends_a_large_file_resumably_through_a_network_drop_and_a_pause(server):
    make_portal(server, "big-files")
    content = b"%PDF-1.7\n" + os.urandom(6 * 1024 * 1024)
    driver = make_driver()
    try:
        driver.get(server.url + "/p/big-files")
        driver.find_element(By.ID, "clientName").send_keys("Ada Large")
        driver.find_element(By.ID, "files").send_keys(write_files([("large.pdf", content)]))
        # A slow line (1 MiB/s), so there is time to fail it.
        network(driver, upload_bytes_per_second=1024 * 1024)
        driver.find_element(By.CSS_SELECTOR, ".upload-form button[type=submit]").click()
        bar = driver.find_element(By.CSS_SELECTOR, ".upload-list progress")
        state = driver.find_element(By.CSS_SELECTOR, ".upload-list .upload-state")
        WebDriverWait(driver, 30).until(lambda d: float(bar.get_attribute("value")) > 0.2)

        # The network drops: the page says so and waits; back online, it goes on from the server's offset.
        network(driver, offline=True)
        WebDriverWait(driver, 30).until(lambda d: "Connection lost" in state.text)
        screenshot(driver, "portal-resumable-offline")
        dropped_at = float(bar.get_attribute("value"))
        network(driver, upload_bytes_per_second=1024 * 1024)
        WebDriverWait(driver, 60).until(lambda d: float(bar.get_attribute("value")) > dropped_at + 0.1)

        # Pause holds the upload where it is; resume continues it.
        toggle = driver.find_element(By.CSS_SELECTOR, ".upload-list button")
        toggle.click()
        assert toggle.text == "Resume" and state.text == "Paused"
        paused_at = float(bar.get_attribute("value"))
        time.sleep(1.5)
        assert abs(float(bar.get_attribute("value")) - paused_at) < 0.1
        toggle.click()
        network(driver)
        # The server's receipt replaces the form, as after a plain form post.
        WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".receipt-body li[data-receipt]"))
        receipt = driver.find_element(By.CSS_SELECTOR, ".receipt-body li[data-receipt]")
        assert receipt.find_element(By.CSS_SELECTOR, ".receipt-name").text == "large.pdf"
        assert not driver.find_element(By.CSS_SELECTOR, "form.upload-form").is_displayed()
        screenshot(driver, "portal-resumable-done")
    finally:
        driver.quit()
    db = sqlite3.connect(f"{server.home}/intake.db")
    try:
        account, file_id, sha256 = db.execute(
            "SELECT storage_account_id, provider_file_id, sha256 FROM file_uploads WHERE file_name = 'large.pdf'").fetchone()
    finally:
        db.close()
    with open(f"{server.home}/storage/{account}/{file_id}", "rb") as f:
        assert f.read() == content
    assert sha256 == hashlib.sha256(content).hexdigest()
