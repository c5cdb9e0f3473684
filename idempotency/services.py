"""`Idempotency-Key` for unsafe POSTs: the first answer below 500 is kept 24 hours per caller and path.

`@idempotent` wraps a DRF view handler. With the header, it INSERTs the key's row in its own committed
statement before any work (the unique row is the claim, so concurrent duplicates cannot both run), runs
the handler, and stores its status and body; a 5xx or an unexpected exception deletes the row so a retry
may run. A repeat with the same body replays the stored answer (`Idempotent-Replayed: true`); with another
body → 422; while the first is still running → 409. Without the header the handler runs as before.
A guest's stored answer is encrypted with a key derived from the guest's own token, which is never stored:
a guest checkout's answer holds the order's secret token, and the database keeps secrets only hashed.
The request is expected outside a transaction (ATOMIC_REQUESTS is off), so the claim commits at once.
"""

import base64
import functools
import hashlib
import json
import re
from datetime import timedelta

from cryptography.fernet import Fernet
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from config.exceptions import ApplicationError, Conflict
from idempotency.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_LIFETIME = timedelta(hours=24)
GUEST_TOKEN_HEADERS = ("X-Cart-Token", "X-Order-Token")
_PRINTABLE_KEY = re.compile(r"[\x20-\x7e]{1,255}")


class IdempotencyKeyReused(ApplicationError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_message = "This Idempotency-Key was used with a different request body."


class IdempotencyKeyInUse(Conflict):
    default_message = "A request with this Idempotency-Key is still being processed; retry later."


def _guest_secret(request) -> bytes | None:
    """The guest token(s) the request sent, joined; None for a user or a caller without any."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return None
    tokens = [request.headers.get(name, "") for name in GUEST_TOKEN_HEADERS]
    return "\n".join(tokens).encode() if any(tokens) else None


def idempotency_caller(request) -> str | None:
    """Whose key it is: the user, or a guest by the hash of the token(s) it sent; None for neither."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    secret = _guest_secret(request)
    return "guest:" + hashlib.sha256(secret).hexdigest() if secret is not None else None


def _fernet(secret: bytes) -> Fernet:
    # Another derivation than the caller's hash: knowing the stored caller does not give the key.
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"idempotency-seal\n" + secret).digest()))


def _seal(body, secret: bytes | None):
    if secret is None:
        return body
    return {"sealed": _fernet(secret).encrypt(json.dumps(body).encode()).decode()}


def _unseal(stored, secret: bytes | None):
    if secret is None:
        return stored
    return json.loads(_fernet(secret).decrypt(stored["sealed"].encode()))


def request_body_hash(data) -> str:
    """sha256 of the canonical JSON of the parsed body (key order and whitespace do not matter)."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _claim(*, caller: str, path: str, key: str, request_hash: str) -> tuple[IdempotencyKey, bool]:
    """Insert the key's row (committed before the work) or return the row already there."""
    for _ in range(2):
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(
                    caller=caller, path=path, key=key, request_hash=request_hash
                ), True
        except IntegrityError:
            existing = IdempotencyKey.objects.filter(caller=caller, path=path, key=key).first()
            if existing is None:
                continue  # deleted meanwhile (the first failed): claim it again
            if existing.created_at > timezone.now() - KEY_LIFETIME:
                return existing, False
            existing.delete()  # past its 24 hours: the key is free again
    raise IdempotencyKeyInUse()


def idempotent(handler):
    """Make a DRF view handler (`post(self, request, ...)`) honour `Idempotency-Key`."""

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        caller = idempotency_caller(request)
        if key is None or caller is None:
            return handler(view, request, *args, **kwargs)
        if not _PRINTABLE_KEY.fullmatch(key):
            raise ValidationError({HEADER: ["Use 1 to 255 printable ASCII characters."]})
        request_hash = request_body_hash(request.data)
        row, claimed = _claim(caller=caller, path=request.path, key=key, request_hash=request_hash)
        if not claimed:
            if row.request_hash != request_hash:
                raise IdempotencyKeyReused()
            if row.status_code is None:
                raise IdempotencyKeyInUse()
            body = _unseal(row.response_body, _guest_secret(request))
            return Response(body, status=row.status_code, headers={REPLAYED_HEADER: "true"})
        try:
            try:
                response = handler(view, request, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - DRF's handler turns API errors into the response to keep
                response = view.handle_exception(exc)  # re-raises what is not an API error (a 500)
        except BaseException:
            row.delete()
            raise
        if response.status_code >= 500:
            row.delete()
            return response
        body = json.loads(JSONRenderer().render(response.data)) if response.data is not None else None
        IdempotencyKey.objects.filter(pk=row.pk).update(
            status_code=response.status_code,
            response_body=_seal(body, _guest_secret(request)),
            completed_at=timezone.now(),
        )
        return response

    return wrapper


def idempotency_keys_purge(*, now=None) -> int:
    """Delete keys older than 24 hours; how many."""
    cutoff = (now or timezone.now()) - KEY_LIFETIME
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# --- OpenAPI: the header on the operations that take it, and what it adds to their answers -------------

IDEMPOTENCY_KEY_PARAM = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="1 to 255 printable characters. The first answer below 500 is kept 24 hours for you and this "
    "path: the same key with the same body answers it again (`Idempotent-Replayed: true`) without a second "
    "effect; with another body → 422; while the first is still running → 409.",
)
REPLAYED_RESPONSE_HEADER = OpenApiParameter(
    REPLAYED_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=True,
    description='"true" when the answer is the stored answer to an earlier request with the same Idempotency-Key.',
)
IDEMPOTENCY_RESPONSES = {
    409: OpenApiResponse(description="A request with this Idempotency-Key is still running, or the state conflicts."),
    422: OpenApiResponse(description="This Idempotency-Key was used with a different body."),
}
