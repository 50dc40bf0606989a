"""The storage usage page in a real browser: buying extra storage with JavaScript (the cost as
you type) and without (the server's confirm step), a confirm form sent more than once charging
once, and the purchase on the billing statement and its CSV."""
import pathlib
import sqlite3

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import make_driver, screenshot
from test_people import click_and_wait, sign_in


def set_pricing(server, price_minor=250, validity_days=30):
    """A pricing version in USD, 1 to 50 GB, 5 GB free, uploads blocked over quota."""
    db = sqlite3.connect(f"{server.home}/intake.db")
    db.execute("INSERT INTO storage_pricing_versions (price_per_gb_minor, currency, min_gb, max_gb, validity_days, free_storage_bytes, "
               "over_quota_policy, created_at) VALUES (?, 'USD', 1, 50, ?, 5000000000, 'block', 0)", (price_minor, validity_days))
    db.commit()
    db.close()


def user_id(server, email):
    db = sqlite3.connect(f"{server.home}/intake.db")
    try:
        return db.execute("SELECT id FROM users WHERE email_normalized = ?", (email,)).fetchone()[0]
    finally:
        db.close()


def credit(server, email, amount):
    """Credits the user's balance the way an operator does: the admin user page's form."""
    admin = make_driver(javascript=False)
    try:
        sign_in(admin, server, "admin@example.com")
        admin.get(f"{server.url}/admin/users/{user_id(server, email)}")
        admin.find_element(By.ID, "amount").send_keys(amount)
        Select(admin.find_element(By.ID, "direction")).select_by_value("credit")
        admin.find_element(By.ID, "reason").send_keys("Browser test credit")
        click_and_wait(admin, admin.find_element(By.XPATH, "//button[normalize-space()='Change balance']"))
        assert "The balance is now" in admin.find_element(By.CSS_SELECTOR, ".flash").text
    finally:
        admin.quit()


def buyer(server, email, name, amount="20.00"):
    server.create_user(email, name)
    credit(server, email, amount)


def text(driver, selector):
    return driver.find_element(By.CSS_SELECTOR, selector).text


def purchase_posts(server):
    """How many confirm posts nginx has seen (its access log)."""
    log = pathlib.Path(server.home, "nginx", "logs", "access.log")
    return sum(1 for line in log.read_text().splitlines() if "POST /dashboard/storage/purchase " in line)


def test_buying_with_javascript_shows_the_cost_as_you_type(server):
    set_pricing(server)
    buyer(server, "buyer-js@example.com", "Jo Script")
    driver = make_driver()
    try:
        sign_in(driver, server, "buyer-js@example.com")
        click_and_wait(driver, driver.find_element(By.LINK_TEXT, "Usage"))
        assert driver.find_element(By.TAG_NAME, "h1").text == "Storage usage"
        assert text(driver, ".balance") == "$20.00"
        assert text(driver, ".price") == "$2.50 per GB"
        assert text(driver, ".quota-total") == "5 GB"
        preview = driver.find_element(By.ID, "purchase-preview")
        assert preview.text.startswith("Choose Review")
        driver.execute_script("window.__stillHere = true")
        gb = driver.find_element(By.ID, "gb")

        def shows(expected):
            WebDriverWait(driver, 5).until(lambda d: preview.text == expected)

        gb.send_keys("8")
        shows("8 GB for $20.00, from your balance of $20.00, leaving $0.00.")
        gb.clear()
        gb.send_keys("4")
        shows("4 GB for $10.00, from your balance of $20.00, leaving $10.00.")
        gb.send_keys("0")
        shows("40 GB for $100.00, from your balance of $20.00: $80.00 more is needed.")
        gb.send_keys("0")
        shows("Buy from 1 to 50 GB at a time.")
        gb.clear()
        gb.send_keys("１")
        WebDriverWait(driver, 5).until(lambda d: "full-width" in preview.text)
        gb.clear()
        gb.send_keys("4")
        shows("4 GB for $10.00, from your balance of $20.00, leaving $10.00.")
        assert driver.execute_script("return window.__stillHere === true"), "typing never reloads the page"
        screenshot(driver, "storage-live-preview")

        click_and_wait(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Review purchase']"))
        assert driver.find_element(By.TAG_NAME, "h1").text == "Confirm your purchase"
        assert text(driver, "#quote").startswith("4 GB for $10.00, from your balance of $20.00, leaving $10.00; "
                                                 "your quota becomes 9 GB; expires on ")
        screenshot(driver, "storage-confirm")
        click_and_wait(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Confirm: pay $10.00']"))
        assert driver.current_url == server.url + "/dashboard/storage"
        flash = text(driver, ".flash-success")
        assert flash.startswith("Bought 4 GB for $10.00, until ") and "Your quota is now 9 GB. Your balance is $10.00." in flash
        assert text(driver, ".quota-total") == "9 GB"
        assert text(driver, ".balance") == "$10.00"
        assert text(driver, ".quota-purchased-amount") == "4 GB"
        rows = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "table.purchases tbody tr")]
        assert len(rows) == 1 and rows[0].startswith("4 GB $10.00") and rows[0].endswith("active")
        screenshot(driver, "storage-bought-js")
    finally:
        driver.quit()


def test_buying_without_javascript_goes_through_the_server_confirm_step(server):
    set_pricing(server)
    buyer(server, "buyer-nojs@example.com", "Nat Plain")
    driver = make_driver(javascript=False)
    try:
        sign_in(driver, server, "buyer-nojs@example.com")
        driver.get(server.url + "/dashboard/storage")
        preview = driver.find_element(By.ID, "purchase-preview")
        hint = preview.text
        assert hint.startswith("Choose Review")

        # A refused amount comes back from the server beside the field, the value kept.
        driver.find_element(By.ID, "gb").send_keys("１０")
        assert driver.find_element(By.ID, "purchase-preview").text == hint, "no script ran"
        click_and_wait(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Review purchase']"))
        assert "full-width" in text(driver, "#gb-error")
        assert driver.find_element(By.ID, "gb").get_attribute("value") == "１０"
        assert driver.find_element(By.ID, "gb").get_attribute("aria-invalid") == "true"
        screenshot(driver, "storage-invalid-nojs")

        field = driver.find_element(By.ID, "gb")
        field.clear()
        field.send_keys("3")
        click_and_wait(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Review purchase']"))
        assert text(driver, "#quote").startswith("3 GB for $7.50, from your balance of $20.00, leaving $12.50; "
                                                 "your quota becomes 8 GB; expires on ")
        assert text(driver, ".quote-balance-after") == "$12.50"
        screenshot(driver, "storage-confirm-nojs")
        click_and_wait(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Confirm: pay $7.50']"))
        assert driver.current_url == server.url + "/dashboard/storage"
        assert "Your quota is now 8 GB. Your balance is $12.50." in text(driver, ".flash-success")
        assert text(driver, ".quota-total") == "8 GB"
        assert text(driver, ".balance") == "$12.50"
        screenshot(driver, "storage-bought-nojs")
    finally:
        driver.quit()


def test_a_confirm_form_sent_again_charges_once_and_the_statement_and_csv_show_one_debit(server):
    set_pricing(server)
    buyer(server, "buyer-twice@example.com", "Dee Double")
    plain = make_driver(javascript=False)
    scripted = make_driver()
    try:
        # Double-clicking Confirm (no script to stop the second click).
        sign_in(plain, server, "buyer-twice@example.com")
        plain.get(server.url + "/dashboard/storage/purchase?gb=2")
        before = purchase_posts(server)
        plain.execute_script("window.__oldPage = true")
        ActionChains(plain).double_click(plain.find_element(By.XPATH, "//button[normalize-space()='Confirm: pay $5.00']")).perform()
        WebDriverWait(plain, 10).until(lambda d: d.execute_script("return !window.__oldPage && document.readyState === 'complete'"))
        assert "Bought 2 GB for $5.00" in text(plain, ".flash-success")
        assert purchase_posts(server) > before

        # The same rendered confirm form sent three times: twice by fetch at once, then by its button.
        sign_in(scripted, server, "buyer-twice@example.com")
        scripted.get(server.url + "/dashboard/storage/purchase?gb=2")
        before = purchase_posts(server)
        statuses = scripted.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const form = document.getElementById("confirm-form");
            const send = () => fetch(form.action, {method: "POST", body: new URLSearchParams(new FormData(form)), redirect: "manual"});
            Promise.all([send(), send()]).then(rs => done(rs.map(r => r.type)));
        """)
        assert statuses == ["opaqueredirect", "opaqueredirect"], statuses
        click_and_wait(scripted, scripted.find_element(By.XPATH, "//button[normalize-space()='Confirm: pay $5.00']"))
        assert "Bought 2 GB for $5.00" in text(scripted, ".flash-success")
        assert purchase_posts(server) == before + 3

        # Two renderings of the confirm step, two purchases; each charged once.
        click_and_wait(scripted, scripted.find_element(By.LINK_TEXT, "Billing"))
        assert text(scripted, ".balance") == "$10.00"
        rows = [r.text for r in scripted.find_elements(By.CSS_SELECTOR, "table.data tbody tr")]
        debits = [r for r in rows if "Storage purchase: 2 GB" in r]
        assert len(rows) == 3 and len(debits) == 2, rows
        assert all(" -5.00 " in r for r in debits), debits
        screenshot(scripted, "storage-statement")
        csv_link = scripted.find_element(By.LINK_TEXT, "Download CSV").get_attribute("href")
        assert csv_link == server.url + "/dashboard/billing/statement.csv"
        csv = scripted.execute_async_script("""
            const done = arguments[arguments.length - 1];
            fetch(arguments[0]).then(r => r.text().then(t => done([r.headers.get("content-type"), t])));
        """, csv_link)
        assert csv[0] == "text/csv; charset=utf-8"
        lines = csv[1].split("\r\n")
        assert lines[0] == "date,reason,amount,balance,currency"
        assert lines[1].endswith(",Browser test credit,20.00,20.00,USD")
        assert lines[2].endswith(",Storage purchase: 2 GB,-5.00,15.00,USD") and lines[3].endswith(",Storage purchase: 2 GB,-5.00,10.00,USD")
        assert lines[4:] == [""], lines

        click_and_wait(scripted, scripted.find_element(By.LINK_TEXT, "Buy storage with your balance"))
        assert text(scripted, ".quota-total") == "9 GB"
    finally:
        plain.quit()
        scripted.quit()
