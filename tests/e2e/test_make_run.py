"""The proof of `make run`: DEBUG on, SQLite, no services, runserver and the Stripe test double.

`make run` itself is started (with this interpreter instead of .venv's, and its own SQLite file and
ports); the demo customer pays an order on the double's hosted checkout page in Chromium, sees it
`paid`, then reviews what they bought.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.e2e.conftest import ROOT, SCREENSHOTS, api

pytestmark = pytest.mark.e2e
PORTS = range(17400, 17500)  # this test's own range: app and double


def _two_free_ports() -> tuple[int, int]:
    free = []
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            free.append(port)
        if len(free) == 2:
            return free[0], free[1]
    pytest.fail(f"no two free ports in {PORTS}")


def _wait(url: str, process: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"make run did not come up on {url}; see {log.name}")
        time.sleep(0.3)


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    port, stripe_port = _two_free_ports()
    data = tmp_path_factory.mktemp("make-run")
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "REDIS_URL", "CELERY_", "STRIPE_", "EMAIL_", "DJANGO_SETTINGS", "DEBUG"))
    }
    env.update(DATABASE_URL=f"sqlite:///{data / 'db.sqlite3'}", STRIPE_API_BASE=f"http://127.0.0.1:{stripe_port}")
    log = open(ROOT / "tests" / "e2e" / "make-run.log", "w")  # noqa: SIM115 - closed at teardown
    make = shutil.which("make")
    if make is None:
        pytest.fail("`make` is not installed (apt-get install make)")
    # -o: the venv is this interpreter's, nothing to install.
    process = subprocess.Popen(
        [make, "-o", ".venv/.installed-run", "run", f"PY={sys.executable}", f"PORT={port}"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        _wait(f"http://127.0.0.1:{port}/healthz/", process, log)
        _wait(f"http://127.0.0.1:{stripe_port}/checkout/none", process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does: runserver stops, the double with it
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def test_a_customer_pays_on_the_hosted_page_sees_it_paid_and_reviews(make_run, page):
    base = make_run
    # given the demo customer (seeded by make run) with a product in the cart and their address
    status, tokens = api(base, "POST", "/api/auth/token/", {"email": "customer@example.com",
                                                             "password": "buy-things-123"})
    assert status == 200, tokens
    token = tokens["access"]
    products = api(base, "GET", "/api/catalog/products/?in_stock=true&ordering=price&page_size=100")[1]["results"]
    product = next(p for p in products if not p["variants"] and p["review_count"] == 0)
    assert api(base, "POST", "/api/cart/items/", {"product": product["id"], "quantity": 1}, token)[0] == 201
    address = api(base, "GET", "/api/users/addresses/", token=token)[1]["results"][0]
    status, order = api(base, "POST", "/api/orders/", {"shipping_address": address["id"]}, token)
    assert status == 201, order
    status, checkout = api(base, "POST", "/api/payments/checkout/", {"order": order["id"]}, token)
    assert status == 201, checkout

    # when they pay on the Stripe double's hosted page
    page.goto(checkout["checkout_url"])
    assert page.locator(".amount").inner_text().startswith(order["total"])
    page.screenshot(path=str(SCREENSHOTS / "make-run-1-checkout.png"))
    page.get_by_role("button", name="Pay").click()
    page.locator("#result").wait_for()
    page.screenshot(path=str(SCREENSHOTS / "make-run-2-paid.png"))
    assert page.locator(".delivery").inner_text() == "200"  # the signed webhook was accepted

    # then their order is paid, in the browsable API as they see it
    page.set_extra_http_headers({"Authorization": f"Bearer {token}"})
    page.goto(f"{base}/api/orders/{order['id']}/")
    body = page.locator(".response-info").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "make-run-3-order-paid.png"))
    assert '"status": "paid"' in body and '"payment_status": "succeeded"' in body

    # and they can review what they bought
    status, review = api(base, "POST", "/api/reviews/", {"product": product["id"], "rating": 5,
                                                         "title": "Paid and happy", "body": "Smooth checkout."}, token)
    assert status == 201, review
    assert review["verified_purchase"] is True
    page.goto(f"{base}/api/reviews/?product={product['slug']}")
    assert "Paid and happy" in page.locator(".response-info").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "make-run-4-review.png"))
