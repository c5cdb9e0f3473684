"""Catalog cache: page keys, the global catalog version, per-product stock versions, and invalidation.

Two kinds of change, two kinds of invalidation:

* Anything but stock (names, prices, categories, images, a product appearing or vanishing) bumps the one
  global catalog *version* after its transaction commits. Every page key embeds that version, so the next
  read misses and recomputes: nothing is deleted by pattern and nothing stale is served.
* A stock change (catalog.stock: checkouts, cancellations, restocks) changes only the products it
  touched. Each product row carries `stock_version`, incremented by the same UPDATE that moves its stock
  (under the row lock, so versions follow commit order). A cached page stores, next to its bytes, the
  (product id, stock_version) pairs it was computed from; after commit the writer raises those products'
  versions in a Redis sorted set (`ZADD GT`: only upwards, so out-of-order callbacks cannot go back).
  A hit is served only when every product on the page still has the version the page was built with:
  checking out product 17 misses the pages that show product 17 and nothing else. A stock change that
  takes a product in or out of stock (0 <-> >0) also bumps the global version, because it changes which
  products an `in_stock` filter lists.

A hit is one Redis round trip: a Lua script compares the global version, reads the page and its
dependencies and checks them against the sorted set (ZMSCORE) inside Redis.

Every page lives at most PAGE_TTL seconds. That bounds what a lost invalidation can cost: a write made
while Redis was unreachable or hung (its after-commit bump failed) shows in cached reads at most PAGE_TTL
seconds after Redis is back (API.md: 60 s).

Without django-redis (the embedded default: in-process cache) stock changes fall back to the global bump.
"""

import hashlib
import logging
import time
from collections.abc import Mapping
from typing import NamedTuple

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

VERSION_KEY = "catalog:version"
STOCK_VERSIONS_KEY = "catalog:stockver"  # sorted set: member product id, score its committed stock_version
PAGE_TTL = 60  # seconds; API.md allows a write lost during a Redis outage to show at most 60 s after it is back

# KEYS: version, page, stock versions. ARGV: the version the page key was built with.
# Returns false (no version yet), {version} (a miss, or the wrong version guessed) or {version, body, etag}.
_HIT_SCRIPT = """
local v = redis.call('GET', KEYS[1])
if not v then return false end
if v ~= ARGV[1] then return {v} end
local page = redis.call('HMGET', KEYS[2], 'd', 'b', 'e')
if not page[2] then return {v} end
if page[1] and page[1] ~= '' then
  local ids, vers = {}, {}
  for id, ver in string.gmatch(page[1], '(%d+):(%d+)') do
    ids[#ids + 1] = id
    vers[#vers + 1] = ver
  end
  local scores = redis.call('ZMSCORE', KEYS[3], unpack(ids))
  for i = 1, #ids do
    if not scores[i] or tonumber(scores[i]) ~= tonumber(vers[i]) then return {v} end
  end
end
return {v, page[2], page[3]}
"""

# KEYS: version, stock versions. ARGV: score, member, score, member...
# A missing sorted set (evicted, flushed) means pages' dependencies can no longer be checked: bump the version.
_STOCK_BUMP_SCRIPT = """
if redis.call('EXISTS', KEYS[2]) == 0 and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCR', KEYS[1])
end
redis.call('ZADD', KEYS[2], 'GT', unpack(ARGV))
return 1
"""


def _redis():
    """The raw redis-py client behind the cache, or None when the cache is not django-redis."""
    client = getattr(cache, "client", None)
    if client is None or not hasattr(client, "get_client"):
        return None
    return client.get_client(write=True)


def _script(source: str):
    redis = _redis()
    if redis is None:
        return None
    scripts = _scripts.setdefault(id(redis), {})
    if source not in scripts:
        scripts[source] = redis.register_script(source)
    return scripts[source]


_scripts: dict[int, dict[str, object]] = {}


def _guarded(action, default=None):
    """Run a Redis action; an outage or a hung server degrades to `default` (a miss), never to a 500."""
    try:
        return action()
    except Exception:  # redis.ConnectionError, TimeoutError...: the cache is an optimisation
        logger.warning("catalog cache unavailable", exc_info=True)
        return default


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
    once however many writes it makes: a five-line order cancellation costs one INCR, not ten. Every call
    still registers a callback, sharing one pending token, so a rolled-back savepoint cannot swallow the bump.
    """
    connection = transaction.get_connection()
    token = None
    if connection.in_atomic_block:
        token = next(
            (entry[1] for entry in connection.run_on_commit if isinstance(entry[1], _BumpOnce) and not entry[1].done),
            None,
        )
    transaction.on_commit(token or _BumpOnce())


def _stock_bump(versions: Mapping[int, int]) -> None:
    script = _script(_STOCK_BUMP_SCRIPT)
    if script is None:
        _bump()
        return
    args = [value for pk, version in versions.items() for value in (version, pk)]
    keys = [cache.make_key(VERSION_KEY), cache.make_key(STOCK_VERSIONS_KEY)]
    _guarded(lambda: script(keys=keys, args=args))


def invalidate_product_stock(*, versions: Mapping[int, int], listings_changed: bool) -> None:
    """After commit, publish the new `stock_version` of each product whose stock (or a variant's) changed.

    Only the cached pages showing those products miss. `listings_changed` (a product went in or out of
    stock, so an `in_stock` filter lists other products) also bumps the global version. Called by
    catalog.stock only, inside the transaction that incremented the versions.
    """
    versions = dict(versions)
    if versions:
        transaction.on_commit(lambda: _stock_bump(versions))
    if listings_changed:
        invalidate_catalog()


# The version this process saw last: a guess that lets a hit cost one Redis round trip (the script checks
# the version and reads the page keyed by the guess). It is only trusted when the same script confirms it.
_last_seen_version: int | None = None


class CachedPage(NamedTuple):
    body: bytes | None  # None: a miss
    etag: str | None
    version: int  # the catalog version a miss must store its page under


def page_etag(body: bytes) -> str:
    """A strong ETag: a digest of the exact bytes (computed once, when the page is stored)."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _fallback_get(view: str, query: str) -> CachedPage:
    version = catalog_version()
    found = cache.get(response_cache_key(view=view, query=query, version=version))
    body, etag = found if found else (None, None)
    return CachedPage(body, etag, version)


def cached_response_get(*, view: str, query: str) -> CachedPage:
    """The cached body and ETag for (view, query) at the current catalog version, and that version.

    The version is what a miss must store its page under (read before the database is queried, so a page
    computed during a write is stored under a version that the write's commit makes obsolete).
    """
    global _last_seen_version
    script = _script(_HIT_SCRIPT)
    if script is None:
        return _fallback_get(view, query)
    keys_for = lambda version: [  # noqa: E731
        cache.make_key(VERSION_KEY),
        cache.make_key(response_cache_key(view=view, query=query, version=version)),
        cache.make_key(STOCK_VERSIONS_KEY),
    ]
    guess = _last_seen_version if _last_seen_version is not None else 0
    for _ in range(2):
        found = _guarded(lambda guess=guess: script(keys=keys_for(guess), args=[guess]), default=None)
        if not found:  # no version yet (first read, flushed Redis) or Redis unavailable
            version = catalog_version()
            _last_seen_version = version
            return CachedPage(None, None, version)
        version = int(found[0])
        _last_seen_version = version
        if len(found) > 1:
            etag = found[2].decode() if found[2] else page_etag(found[1])
            return CachedPage(found[1], etag, version)
        if version == guess:
            return CachedPage(None, None, version)
        guess = version
    return CachedPage(None, None, guess)


def cached_response_set(
    *, view: str, query: str, version: int, body: bytes, etag: str, stock_deps: Mapping[int, int]
) -> None:
    """Store a page under `version`, with the (product id -> stock_version) it was computed from.

    The dependencies are also written to the sorted set with GT (a page computed from an older row cannot
    lower the version a committed write published), so a set evicted or never filled fills itself.
    """
    key = response_cache_key(view=view, query=query, version=version)
    redis = _redis()
    if redis is None:
        cache.set(key, (body, etag), timeout=PAGE_TTL)
        return
    raw_key = cache.make_key(key)
    deps = ",".join(f"{pk}:{ver}" for pk, ver in sorted(stock_deps.items()))

    def store() -> None:
        pipe = redis.pipeline(transaction=False)
        if stock_deps:
            pipe.zadd(cache.make_key(STOCK_VERSIONS_KEY), {str(pk): ver for pk, ver in stock_deps.items()}, gt=True)
        pipe.hset(raw_key, mapping={"d": deps, "b": body, "e": etag})
        pipe.expire(raw_key, PAGE_TTL)
        pipe.execute()

    _guarded(store)


def response_cache_key(*, view: str, query: str, version: int | None = None) -> str:
    """Key of a cached catalog response: view name + normalized query string + catalog version."""
    return f"catalog:resp:v{version if version is not None else catalog_version()}:{view}:{query}"


def cached_count(*, key: str, version: int, compute) -> int:
    """COUNT(*) of a filter set, cached per catalog version (PAGE_TTL at most).

    A count changes only with what bumps the global version (products appearing, vanishing, moving category
    or price, going in or out of stock); a stock change within a product's stock never moves it, so the
    per-product stock versions do not take part. `key` names the filter set without page or host.
    """
    full_key = f"catalog:count:v{version}:{key}"
    found = cache.get(full_key)
    if found is not None:
        return int(found)
    count = compute()
    cache.set(full_key, count, timeout=PAGE_TTL)
    return count
