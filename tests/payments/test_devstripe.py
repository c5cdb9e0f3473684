"""The Stripe test double `make run` uses: its hosted page sends the webhooks Stripe would, signed the same way."""

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import stripe

from payments.devstripe.hosted import HostedStripe

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_dev_double_test"


@pytest.fixture
def receiver():
    """A stand-in for the app's webhook endpoint that keeps what it receives."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            received.append({"body": body, "signature": self.headers["Stripe-Signature"]})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/payments/webhook/", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def double(receiver):
    url, _ = receiver
    double = HostedStripe(host="127.0.0.1", port=0, forward_to=url, webhook_secret=SECRET).start()
    yield double
    double.stop()


def open_session(double) -> dict:
    client = stripe.StripeClient("sk_test_dev", base_addresses={"api": double.url})
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [{"price_data": {"currency": "usd", "unit_amount": 1999, "product_data": {"name": "Mug"}},
                            "quantity": 2}],
            "metadata": {"order_id": "42", "order_number": "ORD-1"},
            "success_url": "http://shop.test/orders/42?payment=success",
            "cancel_url": "http://shop.test/orders/42?payment=cancelled",
        }
    )
    return session


def events(received) -> list[dict]:
    # construct_event is the real client's check: it raises unless the signature matches the secret.
    return [stripe.Webhook.construct_event(r["body"], r["signature"], SECRET) for r in received]


def test_session_url_is_the_doubles_hosted_page_with_four_buttons(double):
    session = open_session(double)

    page = requests.get(session.url, timeout=5)

    assert session.url == f"{double.url}/checkout/{session.id}"
    assert page.status_code == 200
    assert "39.98 USD" in page.text and "ORD-1" in page.text
    for label in ("Pay", "Decline", "Cancel", "Let it expire"):
        assert f">{label}</button>" in page.text


def test_pay_sends_a_signed_completed_paid_event(double, receiver):
    _, received = receiver
    session = open_session(double)

    answer = requests.post(f"{session.url}/pay", timeout=5)

    assert answer.status_code == 200 and "200" in answer.text
    (event,) = events(received)
    assert event.type == "checkout.session.completed"
    obj = event.data.object
    assert (obj.id, obj.payment_status, obj.amount_total) == (session.id, "paid", 3998)
    assert double.charge(obj.payment_intent)["amount"] == 3998


def test_decline_completes_unpaid_then_fails_the_async_payment(double, receiver):
    _, received = receiver
    session = open_session(double)

    requests.post(f"{session.url}/decline", timeout=5)

    assert [(e.type, e.data.object.payment_status) for e in events(received)] == [
        ("checkout.session.completed", "unpaid"),
        ("checkout.session.async_payment_failed", "unpaid"),
    ]


def test_let_it_expire_sends_expired_and_closes_the_page(double, receiver):
    _, received = receiver
    session = open_session(double)

    requests.post(f"{session.url}/expire", timeout=5)
    again = requests.post(f"{session.url}/pay", timeout=5)

    assert [e.type for e in events(received)] == ["checkout.session.expired"]
    assert again.status_code == 409
    assert "Pay</button>" not in requests.get(session.url, timeout=5).text


def test_cancel_sends_nothing_like_stripe_and_leaves_the_session_open(double, receiver):
    _, received = receiver
    session = open_session(double)

    answer = requests.post(f"{session.url}/cancel", timeout=5)

    assert received == []
    assert "payment=cancelled" in answer.text
    assert double.sessions[session.id]["status"] == "open"


def test_the_api_part_is_the_tests_fake(double):
    answer = requests.post(f"{double.url}/v1/refunds", data={"payment_intent": "pi_x"}, timeout=5,
                           headers={"Authorization": "Bearer sk_test_dev"})

    assert answer.status_code == 404
    assert json.loads(answer.text)["error"]["code"] == "resource_missing"


def _django(code: str, **env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in {"STRIPE_SECRET_KEY", "STRIPE_API_BASE"}}
    environ.update(DJANGO_SETTINGS_MODULE="config.settings", SECRET_KEY="x" * 60, **env)
    return subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=60)


def test_the_double_cannot_be_imported_with_debug_false():
    result = _django("import payments.devstripe", DEBUG="false")

    assert result.returncode != 0
    assert "not available when DEBUG is false" in result.stderr


def test_debug_without_keys_points_stripe_at_the_double_and_real_keys_win():
    show = "from django.conf import settings as s; print(s.STRIPE_DEV_DOUBLE, s.STRIPE_API_BASE)"

    dev = _django(f"import payments.devstripe; {show}", DEBUG="true")
    real = _django(show, DEBUG="true", STRIPE_SECRET_KEY="sk_test_real")
    prod = _django(show, DEBUG="false")

    assert dev.stdout.split() == ["True", "http://127.0.0.1:12111"], dev.stderr
    assert real.stdout.split()[0] == "False" and "12111" not in real.stdout, real.stderr
    assert prod.stdout.split()[0] == "False" and "12111" not in prod.stdout, prod.stderr


def test_a_seeded_demo_payment_can_be_refunded_through_the_double(double):
    client = stripe.StripeClient("sk_test_dev", base_addresses={"api": double.url})

    refund = client.v1.refunds.create(params={"payment_intent": "pi_demo_2599_ORD-2026-000003", "amount": 500})

    assert (refund.amount, refund.status) == (500, "succeeded")
    assert double.charge("pi_demo_2599_ORD-2026-000003")["amount_refunded"] == 500
