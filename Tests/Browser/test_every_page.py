"""Every page, as each role sees it, at desktop and at phone width: axe-core finds no serious or
critical problem, every control has an accessible name of its own, nothing scrolls sideways at
360 px, the header stays on one line at desktop width, and no page answers 500. A full-page
screenshot of each goes to artifacts/screenshots/pages/."""
import base64
import importlib.resources
import pathlib
import re
import sqlite3
import time

import pytest
import requests
from selenium.webdriver.common.by import By

from conftest import ARTIFACTS, make_driver
from test_people import click_and_wait, sign_in
from test_portal import make_portal
from test_storage_page import set_pricing

# axe-core as PyPI ships it (axe-playwright-python bundles a current axe.min.js); Selenium injects it.
AXE = importlib.resources.files("axe_playwright_python").joinpath("axe.min.js").read_text()
WIDTHS = {"desktop": (1280, 900), "phone": (360, 740)}


@pytest.fixture(scope="module")
def site(server):
    """A site with something on every page: an owner with an open, a password-protected and a
    closed portal, two uploaded files and a receipt; a tariff plan; a second user."""
    make_portal(server, "every-page")
    make_portal(server, "every-page-locked")
    make_portal(server, "every-page-closed")
    server.create_user("casey@example.com", "Casey Customer")
    set_pricing(server)
    db = sqlite3.connect(pathlib.Path(server.home, "intake.db"))
    with db:
        db.execute("UPDATE portals SET active = 0 WHERE slug = 'every-page-closed'")
        now = int(time.time())
        db.execute("INSERT OR IGNORE INTO tariff_plans (name, monthly_price_minor, currency, storage_bytes, max_file_bytes, max_portals, created_at, updated_at) "
                   "VALUES ('Studio', 900, 'USD', 50000000000, 2000000000, 10, ?, ?)", (now, now))
        ids = {
            "portal": db.execute("SELECT id FROM portals WHERE slug = 'every-page'").fetchone()[0],
            "locked": db.execute("SELECT id FROM portals WHERE slug = 'every-page-locked'").fetchone()[0],
            "tariff": db.execute("SELECT id FROM tariff_plans WHERE name = 'Studio'").fetchone()[0],
            "user": db.execute("SELECT id FROM users WHERE email_normalized = 'casey@example.com'").fetchone()[0],
        }
        # A webhook endpoint with a delivery retried after a 500 and a connection error (its
        # secret is never read by the pages, so the row need not hold a real one).
        owner_id = db.execute("SELECT id FROM users WHERE email_normalized = 'owner@example.com'").fetchone()[0]
        endpoint = db.execute("INSERT INTO webhook_endpoints (user_id, url, description, events, secret_sealed, failing_since, created_at, updated_at) "
                              "VALUES (?, 'https://hooks.example.com/intake/events/with/a/rather/long/path', 'Bookkeeping', "
                              "'upload.completed,portal.deactivated', x'00', ?, ?, ?)", (owner_id, now, now, now)).lastrowid
        delivery = db.execute("INSERT INTO webhook_deliveries (endpoint_id, event_id, type, payload, status, attempts, next_attempt_at, deliver_until, created_at) "
                              "VALUES (?, 'evt_Zm9vYmFyYmF6cXV4cXV1eA', 'upload.completed', '{}', 'pending', 2, ?, ?, ?)",
                              (endpoint, now + 300, now + 86400, now)).lastrowid
        db.execute("INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, error, duration_ms, response_excerpt) "
                   "VALUES (?, ?, 500, NULL, 132, '<html><body>Internal Server Error</body></html>')", (delivery, now))
        db.execute("INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, error, duration_ms, response_excerpt) "
                   "VALUES (?, ?, NULL, 'curl_easy_perform POST https://hooks.example.com/intake failed: Connection refused (curl code 7)', 3, '')",
                   (delivery, now + 60))
        ids["webhook"] = endpoint
    db.close()

    # Two files through the portal as a client sends them (the form without JavaScript).
    client = requests.Session()
    page = client.get(f"{server.url}/p/every-page").text
    fields = {name: value for name, value in re.findall(r'name="(csrf_token|portalId|token)" value="([^"]*)"', page)}
    fields.update(clientName="Ada Client", clientEmail="ada@example.com", clientMessage="The receipts for March.")
    answer = client.post(f"{server.url}/p/every-page/upload", data=fields,
                         files=[("file", ("receipt.pdf", b"%PDF-1.4\n1 0 obj\n", "application/pdf")),
                                ("file", ("notes.txt", b"two receipts\n", "text/plain"))])
    receipts = re.findall(r'data-receipt="([^"]+)"', answer.text)
    assert answer.status_code == 200 and len(receipts) == 2, answer.text[:500]
    ids["receipt"] = "/p/every-page/receipt?" + "&".join(f"r={r}" for r in receipts)

    # A move of the owner's files to a second account that left one file where it was.
    db = sqlite3.connect(pathlib.Path(server.home, "intake.db"))
    with db:
        owner_id, source, file_id = db.execute("SELECT user_id, storage_account_id, id FROM file_uploads WHERE file_name = 'receipt.pdf'").fetchone()
        now = int(time.time())
        archive = db.execute("INSERT INTO storage_accounts (user_id, provider, provider_account_id, display_name, email, status, created_at, updated_at) "
                             "VALUES (?, 'local', 'every-page-archive', 'Archive disk', 'archive@example.com', 'ACTIVE', ?, ?)", (owner_id, now, now)).lastrowid
        migration = db.execute("INSERT INTO storage_migrations (user_id, source_storage_account_id, scope_name, destination_storage_account_id, keep_source, "
                               "status, total_files, total_bytes, moved_files, moved_bytes, failed_files, created_at, updated_at, finished_at) "
                               "VALUES (?, ?, 'all files of Local disk', ?, 0, 'finished', 2, 30, 1, 13, 1, ?, ?, ?)",
                               (owner_id, source, archive, now, now, now)).lastrowid
        db.execute("INSERT INTO storage_migration_items (migration_id, file_upload_id, source_storage_account_id, source_file_id, size_bytes, status, "
                   "attempts, error, updated_at) VALUES (?, ?, ?, 'x', 17, 'failed', 3, ?, ?)",
                   (migration, file_id, source, "the bytes read from Local disk do not match the file (SHA-256 0a1b…, 17 bytes; recorded 9f8e…, 17 bytes)", now))
        ids["migration"] = migration
        ids["archive"] = archive
    db.close()

    # The locked portal's password, set by its owner in the edit form.
    owner = make_driver()
    try:
        sign_in(owner, server, "owner@example.com")
        owner.get(f"{server.url}/dashboard/portals/{ids['locked']}")
        owner.find_element(By.ID, "password").send_keys("open sesame")
        click_and_wait(owner, owner.find_element(By.CSS_SELECTOR, "form[action^='/dashboard/portals/'] button[type=submit]"))
    finally:
        owner.quit()
    yield ids
    # The other tests count the site's users: the extra one goes.
    db = sqlite3.connect(pathlib.Path(server.home, "intake.db"))
    with db:
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("DELETE FROM users WHERE email_normalized = 'casey@example.com'")
        db.execute("DELETE FROM storage_migrations WHERE id = ?", (ids["migration"],))
        db.execute("DELETE FROM storage_accounts WHERE id = ?", (ids["archive"],))
    db.close()


PAGES = [
    ("client", "login", "/login", 200),
    ("client", "portal", "/p/every-page", 200),
    ("client", "portal-locked", "/p/every-page-locked", 200),
    ("client", "portal-closed", "/p/every-page-closed", 200),
    ("client", "receipt", "{receipt}", 200),
    ("client", "not-found", "/p/no-such-portal", 404),
    ("owner", "dashboard", "/dashboard", 200),
    ("owner", "portals", "/dashboard/portals", 200),
    ("owner", "portal-edit", "/dashboard/portals/{portal}", 200),
    ("owner", "files", "/dashboard/files", 200),
    ("owner", "analytics", "/dashboard/analytics", 200),
    ("owner", "storage", "/dashboard/settings", 200),
    ("owner", "usage", "/dashboard/storage", 200),
    ("owner", "purchase", "/dashboard/storage/purchase?gb=10", 200),
    ("owner", "billing", "/dashboard/billing", 200),
    ("owner", "account", "/account", 200),
    ("owner", "migration", "/dashboard/migrations/{migration}", 200),
    ("owner", "webhooks", "/dashboard/webhooks", 200),
    ("owner", "webhook", "/dashboard/webhooks/{webhook}", 200),
    ("owner", "forbidden", "/admin", 403),
    ("admin", "admin", "/admin", 200),
    ("admin", "users", "/admin/users", 200),
    ("admin", "user", "/admin/users/{user}", 200),
    ("admin", "pricing", "/admin/storage/pricing", 200),
    ("admin", "quotas", "/admin/storage/quotas", 200),
    ("admin", "tariffs", "/admin/tariffs", 200),
    ("admin", "tariff", "/admin/tariffs/{tariff}", 200),
    ("admin", "revenue", "/admin/billing", 200),
    ("admin", "audit", "/admin/audit", 200),
    ("admin", "diagnostics", "/admin/diagnostics", 200),
    ("admin", "diagnostics-storage", "/admin/diagnostics/storage", 200),
    ("admin", "diagnostics-portal", "/admin/diagnostics/portal?owner=owner%40example.com", 200),
    ("admin", "diagnostics-cleanup", "/admin/diagnostics/cleanup", 200),
    ("admin", "dashboard", "/dashboard", 200),
]
EMAILS = {"owner": "owner@example.com", "admin": "admin@example.com"}


@pytest.fixture(scope="module")
def drivers(server, site):
    """One browser per role and width, signed in once."""
    made = {}

    def get(role, width):
        if (role, width) not in made:
            driver = make_driver(*WIDTHS[width])
            if role in EMAILS:
                sign_in(driver, server, EMAILS[role])
            made[role, width] = driver
        return made[role, width]

    yield get
    for driver in made.values():
        driver.quit()


def full_page_screenshot(driver, name):
    folder = ARTIFACTS / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
    (folder / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))


def axe_problems(driver):
    """Serious and critical violations of WCAG 2.x A/AA and axe's best practices."""
    driver.execute_script(AXE)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations), e => done(String(e)));")
    assert isinstance(result, list), f"axe failed: {result}"
    return [f"{v['id']} ({v['impact']}): {v['help']} — " + ", ".join(str(n["target"]) for n in v["nodes"][:5])
            for v in result if v["impact"] in ("serious", "critical")]


def repeated_names(driver):
    """Controls a screen reader user could not tell apart: two fields or buttons with the same
    accessible name ("Unit" for every size field)."""
    seen = {}
    for element in driver.find_elements(By.CSS_SELECTOR, "input:not([type=hidden]), select, textarea, button"):
        if not element.is_displayed() or element.get_attribute("aria-hidden") == "true":
            continue  # not there for anyone: a hidden file input behind its drop zone
        name = element.accessible_name.strip()
        seen.setdefault(name, 0)
        seen[name] += 1
    return sorted(name or "(no name)" for name, count in seen.items() if count > 1 or not name)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role,name,path,status", PAGES, ids=[f"{p[0]}-{p[1]}" for p in PAGES])
def test_page(drivers, server, site, role, name, path, status, width):
    driver = drivers(role, width)
    driver.get(server.url + path.format(**site))
    answered = driver.execute_script("return performance.getEntriesByType('navigation')[0].responseStatus")
    assert answered == status, f"{path} answered {answered}"
    full_page_screenshot(driver, f"{role}-{name}-{width}")
    problems = axe_problems(driver)
    assert not problems, "axe-core:\n" + "\n".join(problems)
    assert not repeated_names(driver), f"controls without a name of their own: {repeated_names(driver)}"
    if width == "phone":
        assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth"), \
            f"{path} scrolls sideways at 360 px"
    else:
        rows = driver.execute_script(
            "return [...document.querySelectorAll('.site-header a, .site-header button')]"
            ".filter(e => e.offsetParent !== null).map(e => Math.round(e.getBoundingClientRect().top / 20))")
        assert len(set(rows)) <= 1, f"the header wraps onto {len(set(rows))} lines at desktop width"
