"""The admin forms in a real browser, with JavaScript on (admin.js: inline errors, fetch) and off
(plain form posts answered by the server)."""
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import make_driver, screenshot
from test_people import click_and_wait, sign_in


@pytest.fixture(params=["js", "nojs"])
def admin(request, server):
    driver = make_driver(javascript=request.param == "js")
    driver.javascript = request.param == "js"
    sign_in(driver, server, "admin@example.com")
    yield driver
    driver.quit()


def fill(driver, field_id, value):
    element = driver.find_element(By.ID, field_id)
    element.clear()
    element.send_keys(value)


def submit_invalid(driver, form_selector, error_id):
    """Submits a form expected to be refused; returns the error text beside the field.
    With JavaScript the page must not reload; without, the server answers with the page again."""
    form = driver.find_element(By.CSS_SELECTOR, form_selector)
    if driver.javascript:
        driver.execute_script("window.__stillHere = true")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, error_id).text.strip() != "")
        assert driver.execute_script("return window.__stillHere === true"), "the page reloaded"
    else:
        click_and_wait(driver, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    return driver.find_element(By.ID, error_id).text


def submit_valid(driver, form_selector):
    form = driver.find_element(By.CSS_SELECTOR, form_selector)
    click_and_wait(driver, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    return driver.find_element(By.CSS_SELECTOR, ".flash").text


def test_pricing(admin, server):
    mode = "js" if admin.javascript else "nojs"
    admin.get(server.url + "/admin/storage/pricing")
    fill(admin, "price_per_gb", "4.999")
    error = submit_invalid(admin, "form[data-enhance]", "price_per_gb-error")
    assert "at most 2 decimals" in error
    assert admin.find_element(By.ID, "price_per_gb").get_attribute("aria-invalid") == "true"
    assert admin.find_element(By.ID, "price_per_gb").get_attribute("value") == "4.999", "the typed value is kept"
    screenshot(admin, f"pricing-invalid-{mode}")

    fill(admin, "price_per_gb", "0.12")
    fill(admin, "free_storage_number", "3.5")
    units = [o.get_attribute("value") for o in Select(admin.find_element(By.ID, "free_storage_unit")).options]
    assert units == ["MB", "GB", "TB"], "one unit system"
    Select(admin.find_element(By.ID, "free_storage_unit")).select_by_value("GB")
    admin.find_element(By.ID, "never_expires").click() if not admin.find_element(By.ID, "never_expires").is_selected() else None
    flash = submit_valid(admin, "form[data-enhance]")
    assert "saved as a new version" in flash
    assert admin.find_element(By.ID, "free_storage_number").get_attribute("value") == "3.5"
    assert Select(admin.find_element(By.ID, "free_storage_unit")).first_selected_option.text == "GB"
    assert "never expires" in admin.find_element(By.CSS_SELECTOR, "table.data tbody tr").text
    screenshot(admin, f"pricing-saved-{mode}")


def test_tariff_plan(admin, server):
    mode = "js" if admin.javascript else "nojs"
    admin.get(server.url + "/admin/tariffs")
    fill(admin, "name", f"Team {mode}")
    fill(admin, "monthly_price", "abc")
    error = submit_invalid(admin, "form[data-enhance]", "monthly_price-error")
    assert "like 4.99" in error
    fill(admin, "monthly_price", "19.90")
    flash = submit_valid(admin, "form[data-enhance]")
    assert f"Team {mode}" in flash
    assert f"Team {mode}" in admin.find_element(By.CSS_SELECTOR, "table.data").text
    screenshot(admin, f"tariffs-{mode}")


def test_quota_override(admin, server):
    mode = "js" if admin.javascript else "nojs"
    admin.get(server.url + "/admin/users/2")
    override_form = "form[action='/admin/storage/quotas'][data-enhance]"
    fill(admin, "override_number", "lots")
    error = submit_invalid(admin, override_form, "override-error")
    assert "like 1.5" in error, "a size's message speaks of sizes, not money"
    fill(admin, "override_number", "750")
    Select(admin.find_element(By.ID, "override_unit")).select_by_value("MB")
    flash = submit_valid(admin, override_form)
    assert "750 MB" in flash
    assert "750 MB" in admin.find_element(By.CSS_SELECTOR, "section[aria-labelledby=quota-title] .facts").text
    screenshot(admin, f"user-quota-{mode}")

    admin.get(server.url + "/admin/storage/quotas?q=owner")
    row = admin.find_element(By.CSS_SELECTOR, "table.data tbody tr")
    assert "owner@example.com" in row.text and "750 MB" in row.text
    assert admin.find_element(By.CSS_SELECTOR, ".usage[role=img]").get_attribute("aria-label").endswith("of the quota used")
    screenshot(admin, f"quotas-{mode}")

    admin.get(server.url + "/admin/audit?entity=user")
    assert "set a quota for user #" in admin.find_element(By.CSS_SELECTOR, ".audit-entries").text
    screenshot(admin, f"audit-{mode}")


def test_leaving_with_unsaved_changes_asks_first(server):
    """WebDriver accepts beforeunload prompts by itself, so the test asks the page's own handler:
    a cancelable beforeunload event is cancelled (the browser then asks) only after an edit."""
    driver = make_driver()
    probe = "var e = new Event('beforeunload', {cancelable: true}); window.dispatchEvent(e); return e.defaultPrevented;"
    try:
        sign_in(driver, server, "admin@example.com")
        driver.get(server.url + "/admin/tariffs")
        assert driver.execute_script(probe) is False, "nothing typed yet: leave freely"
        fill(driver, "name", "Half typed")
        assert driver.execute_script(probe) is True, "unsaved changes: the browser must ask"
    finally:
        driver.quit()
