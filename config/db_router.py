"""Reads on a streaming replica (DATABASE_REPLICA_URL), everything else on the primary.

Only requests that `ReplicaReadsMiddleware` marks read-only use the replica: anonymous GET/HEAD of the
catalog and the reviews. Within them, a read inside an atomic block, and every read after the request's first
write, stays on the primary, and so does any read while the replica does not answer (checked with a short
connect timeout, the answer kept for a few seconds per process). Checkout, carts, staff and every write never
see the replica.
"""

import logging
import threading
import time
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"
READ_ONLY_PREFIXES = ("/api/catalog/", "/api/reviews/")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
HEALTH_TTL_SECONDS = 5.0

_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)
_replica_used: ContextVar[list[bool] | None] = ContextVar("replica_used", default=None)
_health_lock = threading.Lock()
_health: tuple[float, bool] = (0.0, False)  # (checked at, answered)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def replica_check() -> bool:
    """Whether the replica answers `SELECT 1` now (a fresh check; the connection is closed on failure)."""
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any driver error means "down"
        connections[REPLICA].close()
        return False


def replica_available() -> bool:
    """The replica's health as checked at most HEALTH_TTL_SECONDS ago by this process."""
    global _health
    if not replica_configured():
        return False
    checked_at, answered = _health
    now = time.monotonic()
    if now - checked_at < HEALTH_TTL_SECONDS:
        return answered
    with _health_lock:
        if time.monotonic() - _health[0] >= HEALTH_TTL_SECONDS:
            answered = replica_check()
            if not answered:
                logger.warning("Replica database does not answer: reading from the primary.")
            _health = (time.monotonic(), answered)
        return _health[1]


def replica_mark_down() -> None:
    """The replica just failed a query: read from the primary until the next check is due."""
    global _health
    _health = (time.monotonic(), False)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if not _replica_reads.get() or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        if not replica_available():
            return DEFAULT_DB_ALIAS
        used = _replica_used.get()
        if used is not None:
            used[0] = True
        return REPLICA

    def db_for_write(self, model, **hints):
        _replica_reads.set(False)  # read-your-writes: the rest of this request reads the primary
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database and its copy

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


def request_may_read_replica(request) -> bool:
    return (
        request.method in SAFE_METHODS
        and request.path.startswith(READ_ONLY_PREFIXES)
        and "HTTP_AUTHORIZATION" not in request.META
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


class ReplicaReadsMiddleware:
    """Marks anonymous catalog and review reads as allowed on the replica (a no-op without one).

    The replica can die between two health checks: a read-only request that failed (5xx) after reading the
    replica, while the replica no longer answers, is answered again from the primary (it wrote nothing).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_configured() or not request_may_read_replica(request):
            return self.get_response(request)
        used = [False]
        tokens = _replica_reads.set(True), _replica_used.set(used)
        try:
            response = self.get_response(request)
        finally:
            _replica_used.reset(tokens[1])
            _replica_reads.reset(tokens[0])
        if response.status_code >= 500 and used[0] and not replica_check():
            logger.warning("Replica database failed during %s: answering it from the primary.", request.path)
            replica_mark_down()
            response = self.get_response(request)
        return response
