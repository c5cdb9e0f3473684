"""`make run`'s Stripe: the tests' fake Stripe API plus a hosted checkout page that sends signed webhooks.

A separate process (`manage.py stripe_double`), not a view of the app: the app then talks to it over
HTTP exactly as it talks to Stripe (and as the tests talk to the fake), its sessions survive
runserver's reloads, and the app calling it while it calls the app back cannot tie up a worker.

The page at the session's `url` has four buttons, each doing what Stripe does:
Pay        the session completes paid                  → checkout.session.completed
Decline    a delayed payment method fails              → checkout.session.completed (unpaid), then
                                                          checkout.session.async_payment_failed
Cancel     the customer goes back to the shop           → nothing (Stripe sends no event; the session stays open)
Let it expire                                          → checkout.session.expired
Each event is signed with the webhook secret like Stripe's `Stripe-Signature` header and POSTed to
`forward_to` (what `stripe listen --forward-to` does with the real Stripe).
"""

import hashlib
import hmac
import html
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from payments.devstripe.fake import FakeStripe

PAGE_PATH = re.compile(r"^/checkout/(?P<id>[A-Za-z0-9_]+)/?$")
ACTION_PATH = re.compile(r"^/checkout/(?P<id>[A-Za-z0-9_]+)/(?P<action>pay|decline|cancel|expire)/?$")
API_VERSION = "2025-01-27.acacia"
# Payments `manage.py seed` writes (demo/seed.py): pi_demo_<amount in minor units>_<order number>.
DEMO_INTENT = re.compile(r"^pi_demo_(?P<amount>\d+)_")


def stripe_signature(payload: str, *, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header exactly as Stripe computes it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signature}"


def event_payload(event_type: str, obj: dict) -> str:
    return json.dumps(
        {
            "id": f"evt_test_{secrets.token_hex(12)}",
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
            "data": {"object": obj},
        }
    )


class HostedStripe(FakeStripe):
    """The fake Stripe API on a fixed address, with Checkout's hosted page and webhook delivery."""

    def __init__(self, *, host: str, port: int, forward_to: str, webhook_secret: str) -> None:
        if urlsplit(forward_to).scheme not in ("http", "https"):
            raise ValueError(f"forward_to must be an http(s) URL, not {forward_to!r}")
        self.host, self.port = host, port
        self.forward_to, self.webhook_secret = forward_to, webhook_secret
        self.deliveries: list[dict] = []
        super().__init__()

    def start(self) -> "HostedStripe":
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                double._dispatch(self, "GET")

            def do_POST(self):
                double._dispatch(self, "POST")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    # --- the API: the fake's, with session URLs on this server ----------------------------------

    def _session_create(self, params: dict) -> dict:
        session = super()._session_create(params)
        session["url"] = self.sessions[session["id"]]["url"] = f"{self.url}/checkout/{session['id']}"
        return session

    def _refund_create(self, params: dict) -> dict:
        intent = params.get("payment_intent") or ""
        if intent not in self.charges and (match := DEMO_INTENT.match(intent)):
            # A seeded payment never went through any Stripe: adopt it so staff can refund it here.
            self.charges[intent] = {"id": f"ch_{intent}", "object": "charge", "amount": int(match["amount"]),
                                    "amount_refunded": 0, "currency": "usd", "payment_intent": intent,
                                    "refunded": False, "metadata": {}}
        return super()._refund_create(params)

    # --- the hosted page ----------------------------------------------------------------------

    def _dispatch(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        path = handler.path.split("?", 1)[0]
        if method == "GET" and (match := PAGE_PATH.match(path)):
            return self._page(handler, match["id"])
        if method == "POST" and (match := ACTION_PATH.match(path)):
            return self._act(handler, match["id"], match["action"])
        if path.startswith("/checkout/"):
            return self._html(handler, 404, "Not found", "<p>No such checkout page.</p>")
        return self._handle(handler, method)

    def _page(self, handler, session_id: str) -> None:
        with self.lock:
            session = dict(self.sessions.get(session_id) or {})
        if not session:
            return self._html(handler, 404, "Not found", f"<p>No such Checkout Session: {html.escape(session_id)}</p>")
        amount = f"{session['amount_total'] / 100:.2f} {session['currency'].upper()}"
        metadata = session.get("metadata") or {}
        order = metadata.get("order_number") or metadata.get("order_id") or session.get("client_reference_id") or "?"
        rows = (
            f"<p class=amount>{html.escape(amount)}</p>"
            f"<p>Order {html.escape(str(order))} · {html.escape(session.get('customer_email') or '')}</p>"
            f"<p>Session <code>{html.escape(session_id)}</code>: <b id=status>{html.escape(session['status'])}</b>"
            f" / {html.escape(session['payment_status'])}</p>"
        )
        if session["status"] == "open":
            buttons = "".join(
                f'<form method=post action="/checkout/{html.escape(session_id)}/{action}">'
                f'<button name=action value={action} class={action}>{label}</button></form>'
                for action, label in (
                    ("pay", "Pay"),
                    ("decline", "Decline"),
                    ("cancel", "Cancel"),
                    ("expire", "Let it expire"),
                )
            )
            rows += f"<div class=buttons>{buttons}</div>"
        else:
            rows += "<p>This session is no longer open.</p>"
        self._html(handler, 200, "Pay with the Stripe double", rows)

    def _act(self, handler, session_id: str, action: str) -> None:
        with self.lock:
            session = self.sessions.get(session_id)
            if session is None:
                return self._html(handler, 404, "Not found", "<p>No such Checkout Session.</p>")
            if session["status"] != "open":
                return self._html(handler, 409, "Not open", f"<p>This session is {html.escape(session['status'])}.</p>")
            if action == "pay":
                events = [("checkout.session.completed", self.complete_session(session_id))]
            elif action == "decline":
                events = [
                    ("checkout.session.completed", self.complete_session(session_id, payment_status="unpaid")),
                    ("checkout.session.async_payment_failed",
                     self.async_payment_settles(session_id, succeeded=False)),
                ]
            elif action == "expire":
                events = [("checkout.session.expired", self.expire_session(session_id))]
            else:
                events = []
            back = session["cancel_url"] if action in ("cancel", "expire", "decline") else session["success_url"]
        lines = [f"<li><code>{t}</code> → <b class=delivery>{self._deliver(t, obj)}</b></li>" for t, obj in events]
        sent = f"<ul>{''.join(lines)}</ul>" if lines else (
            "<p>Stripe sends no event when the customer goes back: the session stays open until it expires.</p>"
        )
        body = (
            f"<p id=result>{html.escape(action)}</p>{sent}"
            f'<p>Stripe would now redirect to <a href="{html.escape(back or "#")}">{html.escape(back or "")}</a>.</p>'
            f'<p><a href="/checkout/{html.escape(session_id)}">Back to the checkout page</a></p>'
        )
        self._html(handler, 200, "Done", body)

    def _deliver(self, event_type: str, obj: dict) -> str:
        """POST the signed event to the app; answers the app's status (or the connection error)."""
        payload = event_payload(event_type, obj)
        request = urllib.request.Request(  # noqa: S310 (an http(s) URL: checked in __init__)
            self.forward_to,
            data=payload.encode(),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": stripe_signature(payload, secret=self.webhook_secret),
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks) dev double",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                outcome = str(response.status)
        except urllib.error.HTTPError as exc:
            outcome = str(exc.code)
        except OSError as exc:
            outcome = f"not delivered ({exc})"
        with self.lock:
            self.deliveries.append({"type": event_type, "payload": payload, "outcome": outcome})
        return html.escape(outcome)

    @staticmethod
    def _html(handler, status: int, title: str, body: str) -> None:
        page = (
            "<!doctype html><html lang=en><head><meta charset=utf-8>"
            f"<title>{html.escape(title)}</title><link rel=icon href='data:,'>"
            "<style>body{font:16px system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}"
            ".amount{font-size:2rem;font-weight:600}.buttons{display:flex;gap:.5rem;flex-wrap:wrap}"
            "button{font:inherit;padding:.6rem 1.1rem;border-radius:6px;border:1px solid #aaa;cursor:pointer}"
            ".pay{background:#635bff;color:#fff;border-color:#635bff}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p><small>Stripe test double (development only)</small></p>{body}"
            "</body></html>"
        ).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(page)))
        handler.end_headers()
        handler.wfile.write(page)


def address_of(api_base: str) -> tuple[str, int]:
    parts = urlsplit(api_base)
    return parts.hostname or "127.0.0.1", parts.port or 80
