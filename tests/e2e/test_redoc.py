"""ReDoc as a reader opens it: everything it loads (script, schema, fonts, icon) comes from our own server."""

from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import SCREENSHOTS

pytestmark = pytest.mark.e2e


def test_redoc_loads_everything_from_our_own_server(shop_server, page):
    failed, hosts, fonts = [], set(), []
    # ReDoc's bundle always asks for Redocly's logo; the page's Content-Security-Policy refuses it in the
    # browser ("csp"), so it never leaves the machine. Anything else that fails or goes elsewhere is a bug.
    page.on("requestfailed", lambda request: failed.append((request.url, request.failure)))
    page.on("requestfinished", lambda request: hosts.add(urlsplit(request.url).netloc)
            if request.url.startswith("http") else None)  # blob: and data: URLs are the page's own
    page.on("request", lambda request: fonts.append(request.url) if request.resource_type == "font" else None)

    page.goto(f"{shop_server}/api/redoc/", wait_until="networkidle")
    page.wait_for_selector("h1", timeout=15000)
    page.locator("h2", has_text="Check out the cart").first.wait_for(timeout=15000)
    page.screenshot(path=str(SCREENSHOTS / "redoc.png"), full_page=False)

    assert all(failure == "csp" for _, failure in failed), failed
    assert hosts == {urlsplit(shop_server).netloc}
    assert fonts == []
    assert page.locator("img[src^='http']").count() == 0  # no logo from elsewhere


def test_the_browser_tab_gets_the_shops_icon(shop_server, page):
    page.goto(f"{shop_server}/favicon.ico")

    assert page.locator("svg").count() == 1
