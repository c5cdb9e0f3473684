import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse

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
