import time

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed


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
