"""The benchmark scenarios, one function each, run in the order of `GROUPS` against one gunicorn.

Each takes the Bench (port, scratch folder, results) and writes its row in results["scenarios"] and what it
measured in results["queries"]. A scenario that finds its endpoint absent raises Skip with the reason.
Django is set up before any of them runs, so what touches it imports it inside the function.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import random
import re
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from benchmarks.bulk_seed import bulk_seed
from benchmarks.harness import (
    BUYERS,
    CEILING,
    CONNECTIONS,
    DURATION,
    HOT_STOCK,
    LIST,
    MATRIX,
    ONLY,
    ROUNDS,
    SAMPLES,
    SCALE,
    SEARCH_PRODUCTS,
    WEBHOOK_SECRET,
    Server,
    count_queries,
    http_get,
    http_request,
    log,
    next_bust_base,
    parse_matrix,
    percentiles_ms,
    run_wrk,
    seed,
    sequential_sample,
    start_wrk,
    unique_host,
    write_requests_file,
)


class Skip(Exception):
    """The scenario cannot run against this build (an endpoint is missing); the message says why."""


@dataclass
class Bench:
    """What the scenarios share: the server, a scratch folder, the results, and what one prepares for the next."""

    port: int
    tmp: Path
    bare_port: int
    env: dict
    results: dict
    slugs: list[str] = field(default_factory=list)  # active products, sampled once for the detail scenarios
    queries: dict[str, int] = field(default_factory=dict)  # SQL queries per request, by scenario

    def record(self, name: str, wrk_result: dict, *, sample: dict | None = None, note: str = "") -> None:
        entry = {**wrk_result, "queries": self.queries.get(name), "note": note}
        if sample:
            entry["sequential"] = sample
        self.results["scenarios"][name] = entry
        log(
            f"{name}: {entry['rps']} req/s, p50 {entry['p50_ms']} ms, p99 {entry['p99_ms']} ms, "
            f"queries {entry['queries']}, non-2xx {entry['non_2xx']}"
        )


# --- catalog ----------------------------------------------------------------------------------------------------


def catalog_queries(bench: Bench) -> None:
    """Store the ceiling bytes, sample product slugs, and count SQL per request of every catalog scenario."""
    from django.core.cache import cache

    from benchmarks.urls import CEILING_KEY
    from catalog.models import Product

    # The ceiling view answers the exact cached bytes of the product list with one cache.get.
    http_get(bench.port, LIST)
    status, body, headers = http_get(bench.port, LIST)
    assert status == 200 and headers.get("X-Cache") == "HIT", (status, headers)
    cache.set(CEILING_KEY, body, timeout=None)
    status, ceiling_body, _ = http_get(bench.bare_port, CEILING)
    assert status == 200 and ceiling_body == body, "ceiling bytes differ from the cached page"

    bench.slugs = list(Product.objects.filter(is_active=True).order_by("?").values_list("slug", flat=True)[:2000])
    detail = f"/api/catalog/products/{bench.slugs[0]}/"
    http_get(bench.port, detail)

    count_queries("GET", LIST)
    q_list_cached = count_queries("GET", LIST)
    q_list = {size: count_queries("GET", f"{LIST}?page_size={size}", host=unique_host()) for size in (1, 20, 100)}
    count_queries("GET", detail)
    q_detail_cached = count_queries("GET", detail)
    q_detail = count_queries("GET", detail, host=unique_host())
    q_ceiling = count_queries("GET", CEILING)
    assert q_list_cached["x_cache"] == "HIT" and all(q["x_cache"] == "MISS" for q in q_list.values())
    queries = bench.results["queries"]
    queries["list_uncached_by_page_size"] = {str(k): v["queries"] for k, v in q_list.items()}
    queries["list_uncached_sql"] = q_list[20]["sql"]
    log(
        f"SQL queries per request: list uncached by page_size {queries['list_uncached_by_page_size']}, "
        f"list cached {q_list_cached['queries']}, detail uncached {q_detail['queries']}, "
        f"detail cached {q_detail_cached['queries']}, ceiling {q_ceiling['queries']}"
    )
    queries["detail_uncached_sql"] = q_detail["sql"]
    bench.queries.update(
        {
            "ceiling": q_ceiling["queries"],
            "list cached": q_list_cached["queries"],
            "list uncached": q_list[20]["queries"],
            "detail cached": q_detail_cached["queries"],
            "detail uncached": q_detail["queries"],
        }
    )


BARE_NOTE = "BARE: gunicorn defaults, no apps, no middleware; one view: the cached list bytes from one cache.get"


def list_rounds(bench: Bench) -> None:
    """Ceiling, cached list, the list's 304 and uncached list, interleaved in ROUNDS rounds.

    Background load on a shared machine drifts, and neighbouring runs see the same drift: each figure is its
    median round, each ratio the median per-round ratio.
    """
    port = bench.port
    conditional = {"If-None-Match": list_etag(port)}
    runs = {"ceiling": [], "list cached": [], "list 304": [], "list uncached": []}
    for round_no in range(ROUNDS):
        runs["ceiling"].append(run_wrk(bench.bare_port, CEILING))
        runs["list cached"].append(run_wrk(port, LIST))
        runs["list 304"].append(run_wrk(port, LIST, headers=conditional))
        runs["list uncached"].append(run_wrk(port, LIST, bust=True))
        log(f"round {round_no + 1}/{ROUNDS}: " + ", ".join(f"{k} {v[-1]['rps']} req/s" for k, v in runs.items()))
        failed = {name: v[-1]["non_2xx"] for name, v in runs.items() if v[-1]["non_2xx"]}
        if failed:  # e.g. 503s from the ceiling: its bytes are gone (a test suite flushed the same Redis db?)
            raise RuntimeError(f"round {round_no + 1}: 4xx/5xx answers {failed}; see gunicorn*.log")
    bench.results["round_ratios"] = {
        f"{name} / ceiling": [round(r["rps"] / c["rps"], 3) for r, c in zip(runs[name], runs["ceiling"], strict=True)]
        for name in ("list cached", "list 304", "list uncached")
    }

    def median_run(name):
        ordered = sorted(runs[name], key=lambda r: r["rps"])
        return {**ordered[len(ordered) // 2], "rounds_rps": [r["rps"] for r in runs[name]]}

    bench.record("ceiling", median_run("ceiling"), note=BARE_NOTE)
    bench.record("list cached", median_run("list cached"), note="anonymous, same URL, warmed")
    bench.record(
        "list 304",
        median_run("list 304"),
        note="anonymous, If-None-Match: the page's ETag -> 304 Not Modified, empty body "
        "(answered by catalog.middleware.CatalogCacheHitMiddleware)",
    )
    bench.record(
        "list uncached",
        median_run("list uncached"),
        sample=sequential_sample(port, [("GET", LIST, {}, None)], bust_base=next_bust_base()),
        note="page_size 20; unique Host port per request -> cache miss",
    )


def list_etag(port: int) -> str:
    """The cached list's ETag, checked to be answered 304 when sent back in If-None-Match."""
    status, _, headers = http_get(port, LIST)
    etag = headers.get("ETag")
    if status != 200 or not etag:
        raise RuntimeError(f"GET {LIST} answers {status} without an ETag: {headers}")
    status, body, headers = http_get(port, LIST, headers={"If-None-Match": etag})
    if status != 304 or body:
        raise RuntimeError(f"GET {LIST} with If-None-Match {etag} answers {status} ({len(body)} bytes), not 304")
    return etag


def detail_cached(bench: Bench) -> None:
    bench.record(
        "detail cached", run_wrk(bench.port, f"/api/catalog/products/{bench.slugs[0]}/"), note="one product, warmed"
    )


def detail_uncached(bench: Bench) -> None:
    requests = [("GET", f"/api/catalog/products/{slug}/", {}, None) for slug in bench.slugs]
    requests_file = write_requests_file(bench.tmp, "detail", requests)
    bench.record(
        "detail uncached",
        run_wrk(bench.port, LIST, requests_file=requests_file, bust=True),
        sample=sequential_sample(bench.port, requests, bust_base=next_bust_base()),
        note=f"{len(bench.slugs)} products in turn, unique Host port per request",
    )


# --- checkout ---------------------------------------------------------------------------------------------------


def make_buyer(tag: str, i: int) -> tuple[int, int, str]:
    from rest_framework_simplejwt.tokens import AccessToken

    from users.models import Address, User

    user = User.objects.create_user(email=f"bench-{tag}-{i}@example.com", password=None, first_name="Bench")
    address = Address.objects.create(
        user=user,
        full_name=f"Bench Buyer {i}",
        line1=f"{i} Load Street",
        city="Testville",
        region="CA",
        postal_code="94107",
        country="US",
        phone="+1 415 555 0100",
        is_default=True,
    )
    return user.pk, address.pk, str(AccessToken.for_user(user))


def bench_products(prefix: str, count: int, stock: int) -> list[int]:
    from decimal import Decimal

    from catalog import services
    from catalog.models import Category

    category = Category.objects.filter(slug="bench-checkout").first() or services.category_create(
        name="Bench checkout", slug="bench-checkout"
    )
    return [
        services.product_create(
            name=f"Bench {prefix} {i}",
            sku=f"BENCH-{prefix}-{i}",
            category=category,
            price=Decimal("19.99"),
            stock=stock,
        ).pk
        for i in range(count)
    ]


def fill_carts(port: int, buyers, product_for) -> None:
    def add(args):
        index, (_, _, token) = args
        status, body, _ = http_request(
            port,
            "POST",
            "/api/cart/items/",
            {"product": product_for(index), "quantity": 1},
            {"Authorization": f"Bearer {token}"},
        )
        if status != 201:
            raise RuntimeError(f"cart add failed: {status} {body[:300]!r}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(add, enumerate(buyers)))


def fire_checkouts(port: int, buyers, *, watch_list: bool = False) -> dict:
    """POST /api/orders/ for every buyer from CONNECTIONS threads; optionally read the product list meanwhile
    (anonymous, one URL) to see how often it still hits the cache while orders change stock."""
    stop = threading.Event()
    seen = Counter()
    latencies: list[float] = []

    def watch():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            while not stop.is_set():
                started = time.perf_counter()
                conn.request("GET", LIST)
                response = conn.getresponse()
                response.read()
                latencies.append(time.perf_counter() - started)
                seen[response.getheader("X-Cache", "-")] += 1
        finally:
            conn.close()

    if watch_list:  # the same reader alone first, for the p99 ratio
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        time.sleep(3)
        stop.set()
        watcher.join(timeout=30)
        alone_p99 = _p99_ms(latencies)
        stop.clear()
        seen.clear()
        latencies.clear()

    watcher = threading.Thread(target=watch, daemon=True) if watch_list else None
    if watcher:
        watcher.start()
    try:
        result = _fire_checkouts(port, buyers)
    finally:
        stop.set()
        if watcher:
            watcher.join(timeout=30)
    if watch_list:
        total = sum(seen.values())
        during_p99 = _p99_ms(latencies)
        result["list_during_checkout"] = {
            "requests": total,
            "x_cache": dict(seen),
            "hit_ratio": round(seen.get("HIT", 0) / total, 3) if total else None,
            "p99_ms": during_p99,
            "p99_alone_ms": alone_p99,
            "p99_ratio": round(during_p99 / alone_p99, 2) if alone_p99 else None,
        }
    return result


def _p99_ms(latencies: list[float]) -> float | None:
    if not latencies:
        return None
    ordered = sorted(latencies)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2)


def _fire_checkouts(port: int, buyers) -> dict:
    barrier = threading.Barrier(min(CONNECTIONS, len(buyers)))

    def checkout(buyer):
        _, address_id, token = buyer
        started = time.perf_counter()
        status, body, _ = http_request(
            port,
            "POST",
            "/api/orders/",
            {"shipping_address": address_id},
            {"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        return status, (time.perf_counter() - started) * 1000, body[:200]

    def first(buyer):
        barrier.wait(timeout=30)
        return checkout(buyer)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:
        n0 = min(CONNECTIONS, len(buyers))
        outcomes = list(pool.map(first, buyers[:n0])) + list(pool.map(checkout, buyers[n0:]))
    wall = time.perf_counter() - started
    statuses = Counter(status for status, _, _ in outcomes)
    times = [ms for _, ms, _ in outcomes]
    errors = [body for status, _, body in outcomes if status >= 500][:3]
    return {
        "buyers": len(buyers),
        "wall_s": round(wall, 2),
        "orders": statuses.get(201, 0),
        "orders_per_s": round(statuses.get(201, 0) / wall, 1),
        "attempts_per_s": round(len(buyers) / wall, 1),
        **percentiles_ms(times, 50, 95, 99),
        "statuses": {str(k): v for k, v in statuses.items()},
        "server_errors": errors,
    }


def verify_stock(product_ids: list[int], initial: int) -> dict:
    from django.db.models import Sum

    from catalog.models import Product, StockMovement
    from orders.models import OrderItem

    problems = []
    for product in Product.objects.filter(pk__in=product_ids):
        ledger = StockMovement.objects.filter(product=product).aggregate(s=Sum("delta"))["s"] or 0
        sold = OrderItem.objects.filter(product=product).aggregate(s=Sum("quantity"))["s"] or 0
        if product.stock < 0 or ledger != product.stock or initial - sold != product.stock:
            problems.append({"product": product.pk, "stock": product.stock, "ledger": ledger, "sold": sold})
    return {"products": len(product_ids), "oversold_or_inconsistent": problems, "ok": not problems}


def stock_audit() -> str:
    """`manage.py stock_audit` over the whole catalog after a checkout scenario: "exit 0" or the drift report."""
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    try:
        call_command("stock_audit", stdout=out)
    except CommandError as exc:
        return f"exit {exc.returncode}: {out.getvalue().strip()}"
    return "exit 0"


def checkout_queries(bench: Bench) -> None:
    """SQL queries of one checkout against the number of cart lines (1, 5, 20), in-process; Skip when cart or
    checkout do not answer as documented."""
    _, address_id, token = make_buyer("probe", 0)
    auth = {"Authorization": f"Bearer {token}"}
    status, _, _ = http_request(bench.port, "POST", "/api/orders/", {"shipping_address": address_id}, auth)
    if status in (404, 405):
        raise Skip(f"POST /api/orders/ answers {status}")
    status, _, _ = http_request(bench.port, "GET", "/api/cart/", None, auth)
    if status != 200:
        raise Skip(f"GET /api/cart/ answers {status}")

    line_products = bench_products("lines", 20, 1000)
    by_lines = {}
    for lines in (1, 5, 20):
        _, address_id, token = make_buyer(f"lines{lines}", 0)
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        for product_id in line_products[:lines]:
            added = count_queries("POST", "/api/cart/items/", data={"product": product_id, "quantity": 1}, headers=auth)
            assert added["status"] == 201, added
        placed = count_queries("POST", "/api/orders/", data={"shipping_address": address_id}, headers=auth)
        assert placed["status"] == 201, placed
        by_lines[str(lines)] = placed["queries"]
        if lines == 20:
            bench.results["queries"]["checkout_20_lines_sql"] = placed["sql"]
    bench.results["queries"]["checkout_by_cart_lines"] = by_lines
    bench.queries["checkout"] = by_lines["1"]
    log(f"checkout queries by cart lines: {by_lines}")


def checkout_distinct(bench: Bench) -> None:
    """Every buyer has a product of their own; the product list is read meanwhile."""
    from catalog.cache import catalog_version

    distinct = bench_products("distinct", BUYERS, 5)
    buyers = [make_buyer("distinct", i) for i in range(BUYERS)]
    fill_carts(bench.port, buyers, lambda i: distinct[i])
    http_get(bench.port, LIST)
    version_before = catalog_version()
    entry = fire_checkouts(bench.port, buyers, watch_list=True)
    entry["catalog_version_bumps"] = catalog_version() - version_before
    entry["verification"] = verify_stock(distinct, 5)
    entry["queries"] = bench.queries["checkout"]
    entry["stock_audit"] = stock_audit()
    entry["note"] = f"{BUYERS} buyers, 1 line each, {CONNECTIONS} concurrent; stock_audit {entry['stock_audit']}"
    bench.results["scenarios"]["checkout distinct"] = entry
    log(f"checkout distinct: {entry}")


def checkout_hot_product(bench: Bench) -> None:
    """One hot product, more buyers than stock: exactly HOT_STOCK orders may succeed, the rest get 409."""
    from catalog.models import Product

    (hot,) = bench_products("hot", 1, HOT_STOCK)
    buyers = [make_buyer("hot", i) for i in range(BUYERS)]
    fill_carts(bench.port, buyers, lambda i: hot)
    entry = fire_checkouts(bench.port, buyers)
    verification = entry["verification"] = verify_stock([hot], HOT_STOCK)
    verification["final_stock"] = Product.objects.get(pk=hot).stock
    verification["ok"] = (
        verification["ok"] and entry["orders"] == HOT_STOCK and entry["statuses"].get("409", 0) == BUYERS - HOT_STOCK
    )
    entry["queries"] = bench.queries["checkout"]
    entry["stock_audit"] = stock_audit()
    entry["note"] = f"{BUYERS} buyers, stock {HOT_STOCK}, {CONNECTIONS} concurrent; stock_audit {entry['stock_audit']}"
    bench.results["scenarios"]["checkout hot product"] = entry
    log(f"checkout hot: {entry}")


# --- webhook ----------------------------------------------------------------------------------------------------


def signed_event(event_type: str = "payment_intent.created") -> tuple[str, dict, bytes]:
    now = int(time.time())
    event = {
        "id": f"evt_bench_{uuid.uuid4().hex}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": now,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
        "data": {
            "object": {
                "id": f"pi_bench_{uuid.uuid4().hex[:16]}",
                "object": "payment_intent",
                "amount": 1999,
                "currency": "usd",
                "status": "requires_payment_method",
            }
        },
    }
    payload = json.dumps(event, separators=(",", ":")).encode()
    signature = hmac.new(WEBHOOK_SECRET.encode(), f"{now}.".encode() + payload, hashlib.sha256).hexdigest()
    headers = {"Stripe-Signature": f"t={now},v1={signature}", "Content-Type": "application/json"}
    return "/api/payments/webhook/", headers, payload


def webhook(bench: Bench) -> None:
    """Signed events of a type the shop ignores: verified, stored once, acknowledged."""
    path, headers, payload = signed_event()
    status, body, _ = http_request(bench.port, "POST", path, payload, headers)
    if status != 200:
        raise Skip(f"POST {path} with a signed event answers {status} {body[:120]!r}")
    path, headers, payload = signed_event()
    queries = count_queries("POST", path, data=payload, headers={"HTTP_STRIPE_SIGNATURE": headers["Stripe-Signature"]})
    bench.results["queries"]["webhook_sql"] = queries["sql"]
    bench.queries["webhook"] = queries["queries"]
    # Enough unique, freshly signed events that wrk never has to repeat one (repeats would be cheap duplicates).
    events = [("POST", *signed_event()) for _ in range(max(2000, DURATION * 1500))]
    wrk_result = run_wrk(bench.port, path, requests_file=write_requests_file(bench.tmp, "webhook", events))
    # Service time: SAMPLES one-at-a-time events, each unique and freshly signed (a repeat is a cheap duplicate).
    sample = sequential_sample(bench.port, [("POST", *signed_event()) for _ in range(SAMPLES)])
    note = "signed payment_intent.created (irrelevant type: verified, stored once, acknowledged)"
    if wrk_result["wrapped"]:
        note += f"; {wrk_result['wrapped']} requests repeated an event id"
    bench.record("webhook", wrk_result, sample=sample, note=note)


# --- search -----------------------------------------------------------------------------------------------------


def search_requests(n: int = 1000) -> list:
    """Search term + category + price range per request, each built from a real product so results are not empty."""
    from catalog.models import Category, Product

    rng = random.Random(42)
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    slugs = dict(Category.objects.values_list("pk", "slug"))
    rows = list(Product.objects.filter(is_active=True).order_by("?").values_list("name", "category_id", "price")[:n])
    requests = []
    for name, category_id, price in rows:
        words = [w for w in re.findall(r"[A-Za-z]{4,}", name)] or [name[:4]]
        category = parents.get(category_id) or category_id
        query = {
            "search": rng.choice(words).lower(),
            "category": slugs[category],
            "min_price": f"{max(0, float(price) * 0.5):.2f}",
            "max_price": f"{float(price) * 2 + 1:.2f}",
        }
        requests.append(("GET", f"{LIST}?{urlencode(query)}", {}, None))
    return requests


def search(bench: Bench) -> None:
    """Filtered search on a catalog grown to SEARCH_PRODUCTS, every request a cache miss."""
    from catalog.models import Product

    bench.results["config"]["search_seed"] = seed(bench.env, SEARCH_PRODUCTS)
    requests = search_requests()
    path = requests[0][1]
    queries = count_queries("GET", path, host=unique_host())
    counts = [count_queries("GET", r[1], host=unique_host()) for r in requests[:20]]
    bench.results["queries"]["search_uncached_sql"] = queries["sql"]
    wrk_result = run_wrk(bench.port, LIST, requests_file=write_requests_file(bench.tmp, "search", requests), bust=True)
    sample = sequential_sample(bench.port, requests, bust_base=next_bust_base())
    entry = {
        **wrk_result,
        "sequential": sample,
        "queries": max(c["queries"] for c in counts),
        "example": path,
        "note": f"{Product.objects.count()} products; search + category (with descendants) + price range, "
        f"{len(requests)} combinations, unique Host port per request",
    }
    bench.results["scenarios"]["search 100k uncached"] = entry
    log(
        f"search: {entry['rps']} req/s, wrk p95 {entry['p95_ms']} ms, sequential p95 {sample['p95_ms']} ms, "
        f"queries {entry['queries']}, example {path}"
    )


# --- scale (make bench SCALE=N) ---------------------------------------------------------------------------------


def scale(bench: Bench) -> None:
    """The catalog grown to SCALE products (benchmarks/bulk_seed.py): list page 1 and filtered search (each
    request a cache miss), and a logged-in superuser's admin product changelist, sequential p50/p95."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from catalog.models import Product

    started = time.monotonic()
    bench.results["config"]["scale_seed"] = bulk_seed(SCALE)
    bench.results["config"]["scale_seed_s"] = round(time.monotonic() - started, 1)
    total = bench.results["config"]["scale_products"] = Product.objects.count()
    label = f"{total / 1_000_000:g}M" if total >= 1_000_000 else f"{total // 1000}k"
    page_one = [("GET", LIST, {}, None)]
    searches = search_requests(200)
    User = get_user_model()
    admin, _ = User.objects.get_or_create(email="bench-admin@example.com",
                                          defaults={"is_staff": True, "is_superuser": True})  # fmt: skip
    client = Client()
    client.force_login(admin)
    cookie = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"}
    changelist = [("GET", "/admin/catalog/product/", cookie, None)]
    n = 100
    for name, requests, bust, path in [
        (f"scale {label}: list page 1 uncached", page_one, True, LIST),
        (f"scale {label}: filtered search uncached", searches, True, searches[0][1]),
        (f"scale {label}: admin product changelist", changelist, False, changelist[0][1]),
    ]:
        headers = {} if bust else {"HTTP_COOKIE": cookie["Cookie"]}
        queries = count_queries("GET", path, host=unique_host(), headers=headers)
        sample = sequential_sample(bench.port, requests, bust_base=next_bust_base() if bust else None, n=n)
        entry = {
            "p50_ms": sample["p50_ms"],
            "p95_ms": sample["p95_ms"],
            "p99_ms": sample["p99_ms"],
            "queries": queries["queries"],
            "sequential": sample,
            "example": path,
            "note": f"{total} products; {n} sequential requests, statuses {sample['statuses']}",
        }
        bench.results["scenarios"][name] = entry
        log(
            f"{name}: sequential p50 {sample['p50_ms']} ms, p95 {sample['p95_ms']} ms, queries {entry['queries']}, "
            f"statuses {sample['statuses']}"
        )


# --- sale day: checkouts and browsing at once, and the server shapes it is measured on ----------------------------

POPULAR = 20  # products whose detail pages every shopper looks at (cached); the rest is the long tail (misses)


def browse_requests(bench: Bench, n: int) -> list:
    """The sale-day browse mix, n requests in a shuffled order, about 70 % cache hits:

    - 35 % product list page 1, 10 % pages 2 and 3 (anonymous, cached);
    - 25 % detail of one of POPULAR products (cached);
    - 15 % detail of a long-tail product, 15 % filtered search (search + category + price range): each with
      its own Host port, so each is a miss that runs the SQL of a real miss.
    """
    rng = random.Random(16)
    searches = search_requests(200)
    popular, tail = bench.slugs[:POPULAR], bench.slugs[POPULAR:] or bench.slugs
    requests = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.35:
            requests.append(("GET", LIST, {}, None))
        elif roll < 0.45:
            requests.append(("GET", f"{LIST}?page={rng.choice((2, 3))}", {}, None))
        elif roll < 0.70:
            requests.append(("GET", f"/api/catalog/products/{rng.choice(popular)}/", {}, None))
        elif roll < 0.85:
            requests.append(("GET", f"/api/catalog/products/{rng.choice(tail)}/", {"Host": unique_host()}, None))
        else:
            requests.append(("GET", rng.choice(searches)[1], {"Host": unique_host()}, None))
    return requests


_sale_days = [0]


def sale_day_run(bench: Bench, port: int) -> dict:
    """BUYERS buyers check out (a product each) while CONNECTIONS connections browse (browse_requests) and one
    more reads the product list's page 1; the same browsing and reading alone (DURATION s) first.

    The list's p99 comes from that one reader (wrk, one connection, X-Cache counted): its p99 during the
    checkouts ÷ its p99 alone is the issue's "reads must not queue behind checkouts" figure.
    """
    _sale_days[0] += 1
    tag = f"sale{_sale_days[0]}"
    products = bench_products(tag, BUYERS, 5)
    buyers = [make_buyer(tag, i) for i in range(BUYERS)]
    fill_carts(port, buyers, lambda i: products[i])
    expected = max(DURATION, 20) * 1500  # more lines than wrk sends, so that no miss repeats (and turns into a hit)
    for method, path, headers, _ in {(r[0], r[1]): r for r in browse_requests(bench, 400) if not r[2]}.values():
        http_request(port, method, path, headers=headers)  # warm the cacheable pages
    phases = {}
    for phase in ("alone", "during"):
        browse_file = write_requests_file(bench.tmp, f"browse-{tag}-{phase}", browse_requests(bench, expected))
        long = 600 if phase == "during" else DURATION  # during: stopped when the last checkout is answered
        browse = start_wrk(port, LIST, requests_file=browse_file, duration=long, count_cache=True)
        reader = start_wrk(port, LIST, connections=1, duration=long, count_cache=True)
        if phase == "during":
            time.sleep(0.5)
            try:
                checkout = _fire_checkouts(port, buyers)
            finally:
                phases[phase] = {"browse": browse.stop(), "list": reader.stop()}
        else:
            phases[phase] = {"browse": browse.result(), "list": reader.result()}
    verification = verify_stock(products, 5)
    alone, during = phases["alone"], phases["during"]

    def ratio(a, b):
        return round(a / b, 2) if a and b else None

    return {
        **checkout,
        "orders_ok": verification["ok"] and checkout["orders"] == BUYERS,
        "verification": verification,
        "stock_audit": stock_audit(),
        "browse": during["browse"],
        "browse_alone": alone["browse"],
        "list": during["list"],
        "list_alone": alone["list"],
        "list_hit_ratio": during["list"].get("hit_ratio"),
        "list_p99_ratio": ratio(during["list"]["p99_ms"], alone["list"]["p99_ms"]),
        "browse_p99_ratio": ratio(during["browse"]["p99_ms"], alone["browse"]["p99_ms"]),
    }


SALE_DAY_NOTE = (
    f"{BUYERS} buyers (a product each, {CONNECTIONS} concurrent) check out while {CONNECTIONS} "
    "connections browse (35 % list page 1, 10 % pages 2-3, 25 % 20 popular details: cached; 15 % "
    "long-tail details, 15 % filtered search: misses) and 1 connection reads list page 1"
)


def sale_day(bench: Bench) -> None:
    entry = sale_day_run(bench, bench.port)
    entry["queries"] = bench.queries.get("checkout")
    entry["note"] = SALE_DAY_NOTE
    bench.results["scenarios"]["sale day"] = entry
    log(f"sale day: {sale_day_summary(entry)}")


def sale_day_summary(e: dict) -> str:
    b, lst = e["browse"], e["list"]
    return (
        f"{e['orders_per_s']} orders/s (checkout p50/p95/p99 {e['p50_ms']}/{e['p95_ms']}/{e['p99_ms']} ms, "
        f"{e['orders']} orders, {e['statuses']}); browse {b['rps']} req/s p50/p95/p99 {b['p50_ms']}/"
        f"{b['p95_ms']}/{b['p99_ms']} ms (alone {e['browse_alone']['rps']} req/s, p99 "
        f"{e['browse_alone']['p99_ms']} ms); list p99 {lst['p99_ms']} ms vs {e['list_alone']['p99_ms']} ms "
        f"alone ({e['list_p99_ratio']}x), hit ratio {e['list_hit_ratio']}; stock_audit {e['stock_audit']}"
    )


def serving_matrix(bench: Bench) -> None:
    """BENCH_MATRIX: for each gunicorn shape (and connection mode), a server of its own measures the uncached
    list (wrk, DURATION s) and the sale day; ROUNDS rounds, the shapes in turn within each round."""
    shapes = parse_matrix(MATRIX)
    runs = {shape["label"]: [] for shape in shapes}
    for round_no in range(ROUNDS):
        for shape in shapes:
            extra = {"BENCH_DB_POOL": "1", "BENCH_DB_POOL_MAX": str(shape["threads"])} if shape["pool"] else {}
            name = shape["label"].replace(" ", "")
            server = Server(
                bench.env, bench.tmp, workers=shape["workers"], threads=shape["threads"], extra_env=extra, name=name
            ).start()
            try:
                http_get(server.port, LIST)
                uncached = run_wrk(server.port, LIST, bust=True)
                sale = sale_day_run(bench, server.port)
            finally:
                server.stop()
            runs[shape["label"]].append({"list uncached": uncached, "sale day": sale})
            log(
                f"matrix round {round_no + 1} {shape['label']}: list uncached {uncached['rps']} req/s; "
                f"sale day {sale_day_summary(sale)}"
            )
    bench.results["matrix"] = {"shapes": shapes, "runs": runs}


# (group, its scenarios in order, whether the run goes on when the group fails). A group stops at its first
# Skip or failure, which results["skipped"][group] records.
GROUPS = [
    ("catalog", [catalog_queries, list_rounds, detail_cached, detail_uncached], False),
    ("checkout", [checkout_queries, checkout_distinct, checkout_hot_product], True),
    ("webhook", [webhook], True),
    ("saleday", [sale_day], True),
    *([("serving", [serving_matrix], True)] if MATRIX else []),
    *([("search", [search], False)] if SEARCH_PRODUCTS else []),
]
if SCALE:  # `make bench SCALE=N` measures the big catalog only
    GROUPS = [("scale", [scale], False)]
if ONLY:  # BENCH_GROUPS=checkout,webhook: only these groups, after catalog_queries (the others use what it prepares)
    GROUPS = [
        g if g[0] in ONLY or g[0] != "catalog" else ("catalog", [catalog_queries], False)
        for g in GROUPS
        if g[0] in ONLY or g[0] == "catalog"
    ]
