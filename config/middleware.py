import logging
import time

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse

from config.exceptions import DATABASE_UNAVAILABLE

logger = logging.getLogger(__name__)


class ServerTimingMiddleware:
    """Adds `Server-Timing: app;dur=<ms>` under DEBUG only.

    In production it would hand anyone a stopwatch on the server's work (e.g. whether the password-reset
    endpoint found an account), so it switches itself off unless DEBUG is on.
    """

    def __init__(self, get_response):
        if not settings.DEBUG:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        response["Server-Timing"] = f"app;dur={elapsed_ms:.1f}"
        return response


class DatabaseUnavailableMiddleware:
    """A lost or refused database connection is a 503 with `Retry-After` on every page, never a 500.

    API views already answer it with JSON through `config.exceptions.exception_handler` (DRF's); this catches
    what DRF does not see: the admin and its login pages. Django closes the broken connection when the request
    ends, so the next request reconnects.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error("Database unavailable on %s: %r", request.path, exception)
        page = f"<!doctype html><title>Service unavailable</title><h1>Service unavailable</h1><p>{DATABASE_UNAVAILABLE}"
        return HttpResponse(page, status=503, headers={"Retry-After": "5"})
