"""A browser storefront on its own origin sells with the API: a guest cart that survives a reload, sign-up and
merge, checkout with an Idempotency-Key clicked twice, payment through the fake Stripe, the order paid; then
the same as a guest to the end (inline address, X-Order-Token).

The storefront is a fixture page (tests/e2e/storefront: plain HTML and fetch), served by `http.server` on a
second origin that the live server's CORS_ALLOWED_ORIGINS allows; Chromium drives it like a customer.
"""

import functools
import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.e2e.conftest import SCREENSHOTS, STAFF_EMAIL, STAFF_PASSWORD, STOREFRONT_ORIGIN, STOREFRONT_PORT, api

pytestmark = pytest.mark.e2e

STOREFRONT_DIR = Path(__file__).resolve().parent / "storefront"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def storefront():
    """The storefront page on its own origin (another port than the API)."""
    handler = functools.partial(_QuietHandler, directory=str(STOREFRONT_DIR))
    server = ThreadingHTTPServer(("127.0.0.1", STOREFRONT_PORT), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield STOREFRONT_ORIGIN
    server.shutdown()
    server.server_close()


@pytest.fixture
def console_errors(page):
    """Every console message of type error and every uncaught page error, for a test to assert none came."""
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _expect():
    from playwright.sync_api import expect

    return expect


def _product_to_buy(shop_server: str) -> dict:
    status, page = api(shop_server, "GET", "/api/catalog/products/?page_size=20&ordering=name")
    assert status == 200, page
    candidates = [p for p in page["results"] if not p["variants"] and p["stock"] > 5]
    assert candidates, "the seed should have simple products in stock on the first page"
    return candidates[0]


def _get(url: str, headers: dict) -> int:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _staff_orders(shop_server: str, email: str) -> list[dict]:
    status, tokens = api(shop_server, "POST", "/api/auth/token/", {"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
    assert status == 200, tokens
    status, page = api(shop_server, "GET", f"/api/orders/?email={email}", token=tokens["access"])
    assert status == 200, page
    return page["results"]


def _stripe_pays(shop_server: str, fake_stripe_server, live_env: dict, session_id: str) -> None:
    """The customer pays at (the fake) Stripe, and Stripe posts the signed event to the live server."""
    session = fake_stripe_server.complete_session(session_id)
    payload = json.dumps({
        "id": f"evt_e2e_{secrets.token_hex(8)}", "object": "event", "api_version": "2025-01-27.acacia",
        "created": int(time.time()), "livemode": False, "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "checkout.session.completed", "data": {"object": session},
    })
    timestamp = int(time.time())
    signature = hmac.new(
        live_env["STRIPE_WEBHOOK_SECRET"].encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256
    ).hexdigest()
    request = urllib.request.Request(
        f"{shop_server}/api/payments/webhook/", data=payload.encode(), method="POST",
        headers={"Content-Type": "application/json", "Stripe-Signature": f"t={timestamp},v1={signature}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def _open_and_add(page, storefront: str, shop_server: str) -> dict:
    expect = _expect()
    product = _product_to_buy(shop_server)
    page.goto(f"{storefront}/index.html?api={shop_server}", wait_until="networkidle")
    expect(page.locator("#status")).to_have_text("Ready")
    assert page.locator("#products li").count() > 1  # browsed the list
    page.click(f"a[data-slug='{product['slug']}']")
    expect(page.locator("#product-name")).to_have_text(product["name"])
    page.click("#add-to-cart")
    expect(page.locator("#cart-count")).to_have_text("1")
    return product


def _place_order_twice_and_pay(page, name: str, shop_server: str, fake_stripe_server, live_env: dict) -> str:
    expect = _expect()
    # Two clicks: the second request repeats the first with the same Idempotency-Key and is answered from the store.
    page.click("#place-order")
    page.click("#place-order")
    expect(page.locator("#replays")).to_have_text("1")
    expect(page.locator("#order-status")).to_have_text("pending")
    number = page.locator("#order-number").inner_text()
    page.screenshot(path=str(SCREENSHOTS / f"storefront-{name}-order.png"))

    page.click("#pay")
    expect(page.locator("#status")).to_have_text("Payment started")
    session_id = page.locator("#payment-session").inner_text()
    assert session_id.startswith("cs_")
    _stripe_pays(shop_server, fake_stripe_server, live_env, session_id)

    page.click("#refresh-order")
    expect(page.locator("#order-status")).to_have_text("paid")
    expect(page.locator("#order-payment")).to_have_text("succeeded")
    page.screenshot(path=str(SCREENSHOTS / f"storefront-{name}-paid.png"))
    return number


def test_a_guest_cart_survives_a_reload_and_becomes_a_paid_order_after_sign_up(
    shop_server, storefront, page, console_errors, fake_stripe_server, live_env
):
    expect = _expect()
    product = _open_and_add(page, storefront, shop_server)
    token = page.evaluate("localStorage.getItem('cartToken')")
    assert token

    # The cart survives a reload: its token is in localStorage.
    page.reload(wait_until="networkidle")
    expect(page.locator("#cart-count")).to_have_text("1")
    expect(page.locator("#cart-items li")).to_have_text(f"1 × {product['name']} = {product['price']}")
    page.screenshot(path=str(SCREENSHOTS / "storefront-user-guest-cart.png"))

    # Register, log in, merge the guest cart into the user's.
    email = f"shopper-{secrets.token_hex(4)}@example.com"
    page.fill("#email", email)
    page.fill("#password", "A-long-enough-password-42")
    page.click("#register")
    expect(page.locator("#status")).to_have_text("Registered; now log in.")
    page.click("#login")
    expect(page.locator("#status")).to_have_text("Logged in")
    page.click("#merge")
    expect(page.locator("#status")).to_have_text("Merged")
    expect(page.locator("#cart-count")).to_have_text("1")
    assert _get(f"{shop_server}/api/cart/", {"X-Cart-Token": token}) == 404  # the guest cart is gone

    number = _place_order_twice_and_pay(page, "user", shop_server, fake_stripe_server, live_env)

    orders = _staff_orders(shop_server, email)
    assert [(o["number"], o["status"]) for o in orders] == [(number, "paid")]
    assert console_errors == []


def test_a_guest_checks_out_and_pays_to_the_end(
    shop_server, storefront, page, console_errors, fake_stripe_server, live_env
):
    expect = _expect()
    _open_and_add(page, storefront, shop_server)
    email = f"guest-{secrets.token_hex(4)}@example.com"
    page.fill("#order-email", email)

    number = _place_order_twice_and_pay(page, "guest", shop_server, fake_stripe_server, live_env)

    order_token = page.evaluate("localStorage.getItem('orderToken')")
    order_id = page.evaluate("localStorage.getItem('orderId')")
    assert order_token
    assert _get(f"{shop_server}/api/orders/{order_id}/", {"X-Order-Token": order_token}) == 200
    assert _get(f"{shop_server}/api/orders/{order_id}/", {"X-Order-Token": "forged"}) == 404
    orders = _staff_orders(shop_server, email)
    assert [(o["number"], o["status"], o["email"]) for o in orders] == [(number, "paid", email)]
    expect(page.locator("#cart-count")).to_have_text("0")
    assert console_errors == []
