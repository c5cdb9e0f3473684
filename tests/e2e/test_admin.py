"""The stock room as staff use it: log into the admin, edit stock in the changelist, see it in the API."""

import pytest

from tests.e2e.conftest import SCREENSHOTS, STAFF_EMAIL, STAFF_PASSWORD, api

pytestmark = pytest.mark.e2e


def _product_without_variants(shop_server: str) -> dict:
    status, page = api(shop_server, "GET", "/api/catalog/products/?page_size=100&ordering=name")
    assert status == 200, page
    candidates = [p for p in page["results"] if not p["variants"] and p["stock"] > 5]
    assert candidates, "the seed should have simple products in stock"
    return candidates[0]


def test_staff_edits_stock_inline_and_the_api_shows_it(shop_server, page):
    # given a product the storefront has already read (and cached)
    product = _product_without_variants(shop_server)
    status, before = api(shop_server, "GET", f"/api/catalog/products/{product['slug']}/")
    assert status == 200 and before["stock"] == product["stock"]

    # when a staff user logs in and edits its stock in the product changelist
    page.goto(f"{shop_server}/admin/login/?next=/admin/", wait_until="networkidle")
    page.fill("#id_username", STAFF_EMAIL)
    page.fill("#id_password", STAFF_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")

    page.goto(f"{shop_server}/admin/catalog/product/?q={product['sku']}", wait_until="networkidle")
    row = page.locator("#result_list tbody tr").filter(has_text=product["sku"])
    assert row.count() == 1
    row.locator("input[type=number][name$='-stock']").fill("3")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    page.screenshot(path=str(SCREENSHOTS / "admin-stock-edit.png"), full_page=False)

    # then the API (cached for anonymous readers) shows the new stock at once
    status, after = api(shop_server, "GET", f"/api/catalog/products/{product['slug']}/")
    assert status == 200
    assert after["stock"] == 3
    assert after["in_stock"] is True

    # and the low-stock filter lists it
    page.goto(f"{shop_server}/admin/catalog/product/?stock_level=low&q={product['sku']}", wait_until="networkidle")
    assert page.locator("#result_list tbody tr").filter(has_text=product["sku"]).count() == 1
    page.goto(f"{shop_server}/admin/catalog/product/?stock_level=low", wait_until="networkidle")
    page.screenshot(path=str(SCREENSHOTS / "admin-low-stock.png"), full_page=False)
    listed = page.locator("#result_list tbody tr").all_inner_texts()
    assert any(product["sku"] in text for text in listed)


def test_admin_static_files_are_served_by_whitenoise(shop_server, page):
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
    page.goto(f"{shop_server}/admin/login/", wait_until="networkidle")
    assert failed == []
    assert page.locator("link[rel=stylesheet]").count() > 0
