import logging

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve

from config.db_router import replica_available, replica_configured

logger = logging.getLogger(__name__)


def healthz(request):
    """The process is up."""
    return JsonResponse({"status": "ok"})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any driver error means "not ready"
        logger.warning("readyz: database check failed", exc_info=True)
        return False


def _cache_ok() -> bool:
    if not settings.REDIS_URL:
        return True  # the in-process cache cannot be down
    try:
        from django_redis import get_redis_connection

        return bool(get_redis_connection("default").ping())
    except Exception:  # any client error means "not ready"
        logger.warning("readyz: cache check failed", exc_info=True)
        return False


def readyz(request):
    """The database and the cache answer: 200, else 503 with what is down.

    A configured read replica is reported ("replica": "up" or "down") but never fails the check: without it
    reads fall back to the primary.
    """
    checks = {"database": _database_ok(), "cache": _cache_ok()}
    ready = all(checks.values())
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    if replica_configured():
        body["replica"] = "up" if replica_available() else "down"
    return JsonResponse(body, status=200 if ready else 503)


def api_not_found(request, path: str = ""):
    """Every unknown path under /api/: a JSON 404 in DRF's shape, also with DEBUG on.

    A path that only lacks its trailing slash names the right one: GET and HEAD are redirected there
    (what APPEND_SLASH does), other methods get a 404 saying where to send them, since a redirect
    would lose the body (APPEND_SLASH answers those with a 500 under DEBUG).
    """
    if not request.path.endswith("/"):
        slashed = f"{request.path}/"
        try:
            match = resolve(slashed)
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            query = request.META.get("QUERY_STRING", "")
            target = f"{slashed}?{query}" if query else slashed
            if request.method in ("GET", "HEAD"):
                return HttpResponsePermanentRedirect(target)
            return JsonResponse(
                {"detail": f"Not found. Every path ends with a slash: send this {request.method} to {slashed}"},
                status=404,
            )
    return JsonResponse({"detail": "Not found."}, status=404)


FAVICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect x="5" y="10" width="22" height="19" rx="3" fill="#635bff"/>'
    '<path d="M11 13V8a5 5 0 0 1 10 0v5" fill="none" stroke="#635bff" stroke-width="2.5"/>'
    '<circle cx="11" cy="14" r="1.6" fill="#fff"/><circle cx="21" cy="14" r="1.6" fill="#fff"/></svg>'
)


def favicon(request):
    """The shop's icon (a shopping bag) for the docs pages and the browser tab; /favicon.ico redirects here."""
    response = HttpResponse(FAVICON_SVG, content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response
