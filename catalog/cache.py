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


def invalidate_catalog() -> None:
    """Make the next catalog read miss the cache. Safe inside or outside a transaction."""
    transaction.on_commit(_bump)


def response_cache_key(*, view: str, query: str, version: int | None = None) -> str:
    """Key of a cached catalog response: view name + normalized query string + catalog version."""
    return f"catalog:resp:v{version if version is not None else catalog_version()}:{view}:{query}"
