"""Staff upload a product image in the admin (Chromium); the API and the admin preview show it."""

import io
import urllib.request

import pytest
from PIL import Image

from tests.e2e.conftest import SCREENSHOTS, STAFF_EMAIL, STAFF_PASSWORD, api

pytestmark = pytest.mark.e2e


def test_staff_upload_an_image_in_the_admin_and_the_api_and_preview_show_it(shop_server, page, tmp_path):
    # given a product the storefront has already read (and cached), and a photo on the staff member's disk
    status, listing = api(shop_server, "GET", "/api/catalog/products/?page_size=1&ordering=name")
    assert status == 200, listing
    product = listing["results"][0]
    api(shop_server, "GET", f"/api/catalog/products/{product['slug']}/")
    photo = tmp_path / "e2e-photo.jpg"
    Image.new("RGB", (1200, 900), "darkorange").save(photo, format="JPEG")
    alt_text = "E2E uploaded photo"

    # when they log in and add it in the product page's image inline
    page.goto(f"{shop_server}/admin/login/?next=/admin/", wait_until="networkidle")
    page.fill("#id_username", STAFF_EMAIL)
    page.fill("#id_password", STAFF_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    change_url = f"{shop_server}/admin/catalog/product/{product['id']}/change/"
    page.goto(change_url, wait_until="networkidle")
    existing = page.locator("#images-group img.product-image-preview").count()
    empty_row = page.locator("#images-group tr.form-row:not(.has_original):not(.empty-form)").first
    empty_row.locator("input[type=file]").set_input_files(str(photo))
    empty_row.locator("input[name$='-alt_text']").fill(alt_text)
    empty_row.locator("input[name$='-position']").fill("9")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")

    # then the API shows it (the cache was invalidated), with its thumbnail made after the commit
    status, detail = api(shop_server, "GET", f"/api/catalog/products/{product['slug']}/")
    assert status == 200
    uploaded = [image for image in detail["images"] if image["alt_text"] == alt_text]
    assert len(uploaded) == 1, detail["images"]
    image = uploaded[0]
    assert (image["width"], image["height"], image["position"]) == (1200, 900, 9)
    assert image["url"].startswith(f"{shop_server}/media/products/") and image["thumbnail_url"]
    with urllib.request.urlopen(image["thumbnail_url"], timeout=10) as response:  # noqa: S310 - the live server
        data = response.read()
    with Image.open(io.BytesIO(data)) as thumbnail:
        assert thumbnail.format == "WEBP" and thumbnail.size == (400, 300)

    # and the admin shows a preview that really loaded (served by the app with DEBUG=false)
    page.goto(change_url, wait_until="networkidle")
    previews = page.locator("#images-group img.product-image-preview")
    assert previews.count() == existing + 1
    preview = page.locator(f"#images-group img.product-image-preview[alt='{alt_text}']")
    preview.scroll_into_view_if_needed()
    assert preview.evaluate("img => img.complete && img.naturalWidth") == 400
    page.locator("#images-group").screenshot(path=str(SCREENSHOTS / "admin-product-images.png"))
