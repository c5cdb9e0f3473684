"""Catalog cache keys and the one invalidation point.

Every cached catalog response is stored under a key that embeds the current catalog *version*.
Any write that could change a response bumps the version (after its transaction commits), so the
next read misses and recomputes: nothing is ever deleted by pattern and nothing stale is served.
"""

import logging
import time

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

VERSION_KEY = "catalog:version"


def catalog_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        # Seeded from the clock so a flushed or restarted Redis never reuses an old version number.
        version = time.time_ns()
        cache.add(VERSION_KEY, version, timeout=None)
        version = cache.get(VERSION_KEY) or version
    return int(version)


def _bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # the key is missing (first write, or evicted): start a new version
        cache.set(VERSION_KEY, time.time_ns(), timeout=None)


class _BumpOnce:
    """An on-commit callback that bumps the version at most once, however many times it is registered."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = False

    def __call__(self) -> None:
        if not self.done:
            self.done = True
            _bump()


def invalidate_catalog() -> None:
    """Make the next catalog read miss the cache. Safe inside or outside a transaction.

    Called by the model layer only (catalog.signals, CatalogQuerySet). A transaction bumps the version
    once however many writes it makes: a five-line checkout costs one INCR, not ten. Every call still
    registers a callback, sharing one pending token, so a rolled-back savepoint cannot swallow the bump.
    """
    connection = transaction.get_connection()
    token = None
    if connection.in_atomic_block:
        token = next(
            (entry[1] for entry in connection.run_on_commit if isinstance(entry[1], _BumpOnce) and not entry[1].done),
            None,
        )
    transaction.on_commit(token or _BumpOnce())


# The version this process saw last: a guess that lets a hit cost one Redis round trip (MGET of the
# version and the page keyed by the guess). It is only trusted when the same MGET confirms it.
_last_seen_version: int | None = None


def cached_response_get(*, view: str, query: str) -> tuple[object | None, int]:
    """The cached value for (view, query) at the current catalog version, and that version."""
    global _last_seen_version
    guess = _last_seen_version
    if guess is not None:
        key = response_cache_key(view=view, query=query, version=guess)
        found = cache.get_many([VERSION_KEY, key])
        current = found.get(VERSION_KEY)
        if current is not None and int(current) == guess:
            return found.get(key), guess
    version = catalog_version()
    _last_seen_version = version
    return cache.get(response_cache_key(view=view, query=query, version=version)), version


def response_cache_key(*, view: str, query: str, version: int | None = None) -> str:
    """Key of a cached catalog response: view name + normalized query string + catalog version."""
    return f"catalog:resp:v{version if version is not None else catalog_version()}:{view}:{query}"
