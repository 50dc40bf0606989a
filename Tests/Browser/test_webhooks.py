"""Webhooks as an owner uses them: an endpoint registered on /dashboard/webhooks shows its signing
secret once (and never again on a later visit), a test event is sent from the endpoint's page to
a loopback receiver that checks the signature, and each attempt is on the page."""
import hashlib
import hmac
import http.server
import os
import re
import threading
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import Server, make_driver, screenshot
from test_people import click_and_wait, sign_in


def verify(header, body, secret, now, tolerance=300):
    """The README's receiver check: the time within the window, the HMAC in constant time."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    timestamp = int(fields.get("t", "0"))
    if abs(now - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", ""))


class Receiver:
    """A loopback HTTP server that keeps each request and answers with the next status."""

    def __init__(self, statuses):
        self.requests = []
        self.statuses = list(statuses)
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.requests.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"<i>received</i>" if status == 200 else b"<b>not now</b>")

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()


@pytest.fixture(scope="module")
def hook_server():
    """A server of its own that may send webhooks to loopback (INTAKE_WEBHOOKS_ALLOW_PRIVATE=1)."""
    os.environ["INTAKE_WEBHOOKS_ALLOW_PRIVATE"] = "1"
    try:
        s = Server()
    finally:
        del os.environ["INTAKE_WEBHOOKS_ALLOW_PRIVATE"]
    s.create_user("owner@example.com", "Olive Owner")
    s.create_user("other@example.com", "Otto Other")
    yield s
    s.stop()


def test_endpoint_secret_shown_once_test_event_and_attempt_log(hook_server):
    receiver = Receiver([500, 200])
    driver = make_driver()
    try:
        sign_in(driver, hook_server, "owner@example.com")
        driver.get(hook_server.url + "/dashboard/webhooks")
        assert driver.title == "Webhooks · Intake"
        assert "No webhook endpoints yet." in driver.page_source

        # A bad URL is refused beside the field, the values kept.
        driver.find_element(By.ID, "url").send_keys("ftp://example.com/x")
        driver.find_element(By.ID, "event_upload_completed").click()
        click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form[action='/dashboard/webhooks'] button[type=submit]"))
        assert driver.find_element(By.ID, "url-error").text == "The URL must start with https://."
        assert driver.find_element(By.ID, "event_upload_completed").is_selected()

        url = driver.find_element(By.ID, "url")
        url.clear()
        url.send_keys(receiver.url)
        driver.find_element(By.ID, "description").send_keys("Bookkeeping <script>")
        driver.find_element(By.ID, "event_portal_deactivated").click()
        click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form[action='/dashboard/webhooks'] button[type=submit]"))
        secret = driver.find_element(By.ID, "secret").get_attribute("value")
        assert re.fullmatch(r"whsec_[A-Za-z0-9_-]{43}", secret), secret
        assert "copy it now" in driver.find_element(By.ID, "new-secret").text
        assert "Bookkeeping <script>" in driver.page_source.replace("&lt;", "<").replace("&gt;", ">")
        screenshot(driver, "webhook-created")

        # Back on the list, and on the endpoint's page again: the secret is never shown again.
        driver.get(hook_server.url + "/dashboard/webhooks")
        assert secret not in driver.page_source and receiver.url in driver.page_source
        click_and_wait(driver, driver.find_element(By.LINK_TEXT, "Deliveries"))
        endpoint_url = driver.current_url
        assert re.search(r"/dashboard/webhooks/\d+$", endpoint_url)
        assert secret not in driver.page_source and not driver.find_elements(By.ID, "secret")
        driver.refresh()
        assert secret not in driver.page_source

        # Send test event: the receiver answers 500, the page says so and logs the attempt.
        click_and_wait(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Send test event']"))
        assert "The endpoint did not take it (HTTP 500)" in driver.page_source
        assert len(receiver.requests) == 1
        headers, body = receiver.requests[0]
        assert headers["Intake-Event"] == "webhook.test" and headers["Content-Type"] == "application/json"
        assert verify(headers["Intake-Signature"], body, secret, int(time.time()))
        assert not verify(headers["Intake-Signature"], body + b" ", secret, int(time.time()))
        assert not verify(headers["Intake-Signature"], body, secret, int(time.time()) + 301)
        rows = driver.find_elements(By.CSS_SELECTOR, "tr.webhook-attempt")
        assert len(rows) == 1 and "HTTP 500" in rows[0].text and "<b>not now</b>" in rows[0].text

        # Send again: the same event, now taken.
        click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "button[aria-label^='Send evt_']"))
        assert "Sent: the endpoint answered HTTP 200." in driver.page_source
        assert receiver.requests[1][0]["Intake-Delivery"] == headers["Intake-Delivery"]
        rows = driver.find_elements(By.CSS_SELECTOR, "tr.webhook-attempt")
        assert [("HTTP 500" in r.text, "HTTP 200" in r.text) for r in rows] == [(True, False), (False, True)]
        assert "Delivered" in driver.page_source
        screenshot(driver, "webhook-deliveries")

        # Switched off: no test button, and the list says Off.
        click_and_wait(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Switch off']"))
        assert not driver.find_elements(By.XPATH, "//button[normalize-space()='Send test event']")
        driver.get(hook_server.url + "/dashboard/webhooks")
        assert driver.find_element(By.CSS_SELECTOR, ".account .status-label").text == "Off"

        # Another owner: the endpoint's page is not found.
        other = make_driver()
        try:
            sign_in(other, hook_server, "other@example.com")
            other.get(endpoint_url)
            assert "There is no such webhook endpoint of yours." in other.page_source
            assert receiver.url not in other.page_source
        finally:
            other.quit()
    finally:
        driver.quit()
        receiver.stop()
