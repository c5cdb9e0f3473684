"""X-Request-ID: one id per request, echoed on the response and written in every log line of that request.

The id is the client's `X-Request-ID` when it is 1-200 characters of `[A-Za-z0-9._-]` (a proxy or the
storefront can tie its own logs to ours), otherwise a fresh uuid4 hex. It lives in a context variable, so
it follows the request through the threads gunicorn runs it on, and Celery tasks queued by the request
carry it in their message headers (config.celery).
"""

import logging
import re
import uuid
from contextvars import ContextVar

HEADER = "X-Request-ID"
META_KEY = "HTTP_X_REQUEST_ID"
VALID_ID = re.compile(r"[A-Za-z0-9._-]{1,200}")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return _current.get()


def bind_request_id(request_id: str | None):
    """Make `request_id` the current id; returns the token for `unbind_request_id`."""
    return _current.set(request_id)


def unbind_request_id(token) -> None:
    _current.reset(token)


def request_id_from(value: str | None) -> str:
    """The client's id when it is acceptable, else a new one."""
    if value and VALID_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in MIDDLEWARE: binds the id for the whole request and sets it on every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.META.get(META_KEY))
        request.request_id = request_id
        token = bind_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            unbind_request_id(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record ("-" outside a request), for the formatters to print.

    Django logs a 4xx/5xx answer (`django.request`) after the middleware chain has returned, with the
    request in the record: that line takes the id the middleware left on the request.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            request_id = _current.get() or getattr(getattr(record, "request", None), "request_id", None)
            record.request_id = request_id or "-"
        return True
