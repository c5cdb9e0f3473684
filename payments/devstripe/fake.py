"""A small fake of the Stripe API over real HTTP, for the endpoints the payments app uses.

The real `stripe` client talks to it (STRIPE_API_BASE), so its request encoding, idempotency
headers, retries and error mapping are exercised. Implemented: POST /v1/coupons,
POST /v1/checkout/sessions, GET /v1/checkout/sessions/{id}, POST /v1/checkout/sessions/{id}/expire,
POST /v1/refunds. Test helpers play the customer's side (complete a session) and build the objects
Stripe would put in webhook events.
"""

import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

SESSION_PATH = re.compile(r"^/v1/checkout/sessions/(?P<id>[^/]+)$")
EXPIRE_PATH = re.compile(r"^/v1/checkout/sessions/(?P<id>[^/]+)/expire$")
INT_FIELDS = {"unit_amount", "quantity", "amount", "amount_off", "expires_at", "max_redemptions"}


def _new_id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


def decode_form(body: str) -> dict:
    """Stripe's form encoding (`a[b][0][c]=1`) back into nested dicts and lists."""
    root: dict = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = int(value) if parts[-1] in INT_FIELDS and value.lstrip("-").isdigit() else value
    return _listify(root)


def _listify(node):
    if not isinstance(node, dict):
        return node
    node = {k: _listify(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node):
        return [node[k] for k in sorted(node, key=int)]
    return node


class StripeFailure(Exception):
    def __init__(self, status: int, error: dict, should_retry: bool | None = False):
        self.status, self.error, self.should_retry = status, error, should_retry


class FakeStripe:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.server: ThreadingHTTPServer | None = None
        self.reset()

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> "FakeStripe":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def reset(self) -> None:
        with self.lock:
            self.sessions: dict[str, dict] = {}
            self.coupons: dict[str, dict] = {}
            self.charges: dict[str, dict] = {}  # by payment intent id
            self.refunds: list[dict] = []
            self.idempotent: dict[str, tuple[str, int, dict]] = {}
            self.requests: list[dict] = []
            self.failures: list[StripeFailure] = []

    # --- switches and helpers for tests -------------------------------------------------------------

    def fail_next(
        self,
        *,
        status: int = 500,
        error_type: str = "api_error",
        message: str = "Something went wrong on Stripe's end.",
        code: str | None = None,
        count: int = 1,
        should_retry: bool | None = False,
    ) -> None:
        """Make the next `count` requests fail with a Stripe-shaped error (not retried by default)."""
        error = {"type": error_type, "message": message}
        if code:
            error["code"] = code
        with self.lock:
            self.failures.extend(StripeFailure(status, error, should_retry) for _ in range(count))

    def calls(self, method: str | None = None, path_prefix: str = "") -> list[dict]:
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r["method"] == method) and r["path"].startswith(path_prefix)
            ]

    def complete_session(self, session_id: str, *, payment_status: str = "paid", amount_total: int | None = None):
        """The customer pays: the session completes and gets a payment intent with a charge."""
        with self.lock:
            session = self.sessions[session_id]
            if amount_total is not None:
                session["amount_total"] = amount_total
            session["status"] = "complete"
            session["payment_status"] = payment_status
            if not session["payment_intent"]:
                session["payment_intent"] = _new_id("pi")
            if payment_status == "paid":
                self._charge_for(session)
            return dict(session)

    def async_payment_settles(self, session_id: str, *, succeeded: bool) -> dict:
        with self.lock:
            session = self.sessions[session_id]
            session["payment_status"] = "paid" if succeeded else "unpaid"
            if succeeded:
                self._charge_for(session)
            return dict(session)

    def expire_session(self, session_id: str) -> dict:
        with self.lock:
            session = self.sessions[session_id]
            session["status"] = "expired"
            return dict(session)

    def charge(self, payment_intent: str) -> dict:
        with self.lock:
            return dict(self.charges[payment_intent])

    def refund_outside(self, payment_intent: str, amount: int) -> dict:
        """A refund made in the Stripe dashboard: only the charge changes."""
        with self.lock:
            charge = self.charges[payment_intent]
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
            return dict(charge)

    def _charge_for(self, session: dict) -> None:
        pi = session["payment_intent"]
        self.charges.setdefault(
            pi,
            {
                "id": _new_id("ch"),
                "object": "charge",
                "amount": session["amount_total"],
                "amount_refunded": 0,
                "currency": session["currency"],
                "payment_intent": pi,
                "refunded": False,
                "metadata": dict(session.get("metadata") or {}),
            },
        )

    # --- HTTP -------------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode() if length else ""
        path = handler.path.split("?", 1)[0]
        params = decode_form(raw)
        key = handler.headers.get("Idempotency-Key")
        with self.lock:
            self.requests.append(
                {
                    "method": method,
                    "path": path,
                    "params": params,
                    "idempotency_key": key,
                    "authorization": handler.headers.get("Authorization"),
                }
            )
            status, body, headers = self._respond(handler, method, path, params, key)
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Request-Id", _new_id("req"))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _respond(self, handler, method, path, params, key) -> tuple[int, dict, dict]:
        if not (handler.headers.get("Authorization") or "").startswith("Bearer sk_"):
            return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided."}}, {}
        if self.failures:
            failure = self.failures.pop(0)
            headers = {} if failure.should_retry is None else {"Stripe-Should-Retry": str(failure.should_retry).lower()}
            return failure.status, {"error": failure.error}, headers
        if method == "POST" and key:
            replay = self.idempotent.get(key)
            if replay is not None:
                fingerprint, status, body = replay
                if fingerprint != json.dumps([path, params], sort_keys=True):
                    return 400, {"error": {"type": "idempotency_error", "message": "Keys for idempotent requests "
                                           "can only be used with the same parameters they were first used with."}}, {}
                return status, body, {"Idempotent-Replayed": "true"}
        try:
            status, body = self._route(method, path, params)
        except StripeFailure as failure:
            status, body = failure.status, {"error": failure.error}
        if method == "POST" and key and status < 500:
            self.idempotent[key] = (json.dumps([path, params], sort_keys=True), status, body)
        return status, body, {}

    def _route(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        if method == "POST" and path == "/v1/coupons":
            return 200, self._coupon_create(params)
        if method == "POST" and path == "/v1/checkout/sessions":
            return 200, self._session_create(params)
        if method == "POST" and path == "/v1/refunds":
            return 200, self._refund_create(params)
        if method == "POST" and (match := EXPIRE_PATH.match(path)):
            return 200, self._session_expire(match["id"])
        if method == "GET" and (match := SESSION_PATH.match(path)):
            return 200, dict(self._session(match["id"]))
        raise StripeFailure(404, {"type": "invalid_request_error", "message": f"Unrecognized request URL ({path})."})

    @staticmethod
    def _invalid(message: str, param: str | None = None, code: str | None = None):
        error = {"type": "invalid_request_error", "message": message}
        if param:
            error["param"] = param
        if code:
            error["code"] = code
        return StripeFailure(400, error)

    def _session(self, session_id: str) -> dict:
        if session_id not in self.sessions:
            raise StripeFailure(404, {"type": "invalid_request_error", "code": "resource_missing",
                                      "message": f"No such checkout.session: '{session_id}'"})
        return self.sessions[session_id]

    def _coupon_create(self, params: dict) -> dict:
        if not params.get("amount_off") and not params.get("percent_off"):
            raise self._invalid("Coupons require an amount_off or percent_off.")
        coupon = {"id": secrets.token_hex(4), "object": "coupon", "valid": True, "times_redeemed": 0, **params}
        self.coupons[coupon["id"]] = coupon
        return coupon

    def _session_create(self, params: dict) -> dict:
        if params.get("mode") != "payment":
            raise self._invalid("Only mode=payment is supported by this fake.", "mode")
        line_items = params.get("line_items") or []
        if not line_items:
            raise self._invalid("line_items is required.", "line_items")
        currencies = {item["price_data"]["currency"] for item in line_items}
        if len(currencies) != 1:
            raise self._invalid("All line items must share one currency.", "line_items")
        subtotal = sum(item["price_data"]["unit_amount"] * item["quantity"] for item in line_items)
        discount = 0
        for entry in params.get("discounts") or []:
            coupon = self.coupons.get(entry.get("coupon"))
            if coupon is None:
                raise self._invalid(f"No such coupon: '{entry.get('coupon')}'", "discounts", "resource_missing")
            discount += coupon.get("amount_off") or 0
        now = int(time.time())
        expires_at = params.get("expires_at", now + 24 * 3600)
        if not now + 30 * 60 <= expires_at <= now + 24 * 3600:
            raise self._invalid("expires_at must be between 30 minutes and 24 hours from now.", "expires_at")
        session_id = _new_id("cs")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            "amount_subtotal": subtotal,
            "amount_total": max(subtotal - discount, 0),
            "currency": currencies.pop(),
            "status": "open",
            "payment_status": "unpaid",
            "payment_intent": None,
            "expires_at": expires_at,
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata") or {},
            "customer_email": params.get("customer_email"),
            "success_url": params.get("success_url"),
            "cancel_url": params.get("cancel_url"),
            "livemode": False,
        }
        self.sessions[session_id] = session
        return dict(session)

    def _session_expire(self, session_id: str) -> dict:
        session = self._session(session_id)
        if session["status"] != "open":
            raise self._invalid(
                f"Only Checkout Sessions with a status in [\"open\"] can be expired. This session has a "
                f"status of \"{session['status']}\"."
            )
        session["status"] = "expired"
        return dict(session)

    def _refund_create(self, params: dict) -> dict:
        pi = params.get("payment_intent")
        charge = self.charges.get(pi)
        if charge is None:
            raise StripeFailure(404, {"type": "invalid_request_error", "code": "resource_missing",
                                      "message": f"No such payment_intent: '{pi}'", "param": "payment_intent"})
        remaining = charge["amount"] - charge["amount_refunded"]
        amount = params.get("amount", remaining)
        if amount <= 0:
            raise self._invalid("Amount must be positive.", "amount")
        if amount > remaining:
            raise self._invalid(
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
                "amount",
                "amount_too_large",
            )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        refund = {
            "id": _new_id("re"),
            "object": "refund",
            "amount": amount,
            "currency": charge["currency"],
            "charge": charge["id"],
            "payment_intent": pi,
            "status": "succeeded",
            "metadata": params.get("metadata") or {},
        }
        self.refunds.append(refund)
        return refund
