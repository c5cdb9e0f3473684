#!/usr/bin/env python3
"""`make bench`: the shop under load on PostgreSQL + Redis + gunicorn (DEBUG=false), measured with wrk on loopback.

What it does, in order (everything it starts is stopped in `finally`, and the whole run is time-bounded):
1. recreates its own database (`shop_bench` on DATABASE_URL's server), migrates, seeds BENCH_PRODUCTS products
   (`manage.py seed`), runs VACUUM ANALYZE (a production table has planner statistics; a fresh bulk load has none);
2. starts gunicorn on 127.0.0.1 with `benchmarks.settings` (config.settings + the `ceiling` view), its own
   CACHE_KEY_PREFIX on REDIS_URL, Celery tasks queued on a Redis broker as in production (nothing consumes them);
3. runs the scenarios (wrk for HTTP throughput, a thread pool over real HTTP for checkout) and counts SQL
   queries per request in-process (django.test.Client + CaptureQueriesContext, same database and cache);
4. prints a table and writes benchmarks/results.json and benchmarks/results.md.

How the cache is defeated for "uncached" scenarios: each request carries its own Host port
(`Host: 127.0.0.1:<n>`). Django accepts it (ALLOWED_HOSTS ignores ports) and the catalog response cache key
includes `request.get_host()`, so every request is a miss that runs exactly the SQL of a real miss, with
identical query parameters (varying `page` or `ordering` instead would change the SQL being measured).

Knobs (environment): BENCH_DURATION (s per wrk scenario, 10), BENCH_CONNECTIONS (16), BENCH_ROUNDS (3: interleaved
rounds of ceiling / cached list / uncached list), BENCH_WORKERS (4), BENCH_THREADS (gunicorn threads per worker, 4),
BENCH_PRODUCTS (10000), BENCH_SEARCH_PRODUCTS (100000; 0 skips the search phase), BENCH_BUYERS (200),
BENCH_HOT_STOCK (BUYERS/2), BENCH_DATABASE (shop_bench), BENCH_OUTPUT (benchmarks/: where the results go),
BENCH_MAX_SECONDS (2400: hard bound on the whole run), DATABASE_URL, REDIS_URL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "benchmarks"
OUTPUT_DIR = Path(os.environ.get("BENCH_OUTPUT") or BENCH_DIR)  # where results.json / results.md go
sys.path.insert(0, str(ROOT))

from benchmarks.common import percentile  # noqa: E402


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


DURATION = _int("BENCH_DURATION", 10)
CONNECTIONS = _int("BENCH_CONNECTIONS", 16)
WRK_THREADS = 2
WORKERS = _int("BENCH_WORKERS", 4)
THREADS = _int("BENCH_THREADS", 4)
PRODUCTS = _int("BENCH_PRODUCTS", 10_000)
SEARCH_PRODUCTS = _int("BENCH_SEARCH_PRODUCTS", 100_000)
BUYERS = _int("BENCH_BUYERS", 200)
HOT_STOCK = _int("BENCH_HOT_STOCK", BUYERS // 2)
MAX_SECONDS = _int("BENCH_MAX_SECONDS", 2400)
SAMPLES = _int("BENCH_SAMPLES", 200)
ROUNDS = _int("BENCH_ROUNDS", 3)
DB_NAME = os.environ.get("BENCH_DATABASE", "shop_bench")
WEBHOOK_SECRET = "whsec_bench_" + "0123456789abcdef" * 2
PYTHON = sys.executable

LIST = "/api/catalog/products/"
CEILING = "/bench/ceiling/"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


class Timeout(Exception):
    pass


# --- environment, database, server --------------------------------------------------------------------------


def bench_env() -> dict[str, str]:
    base = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/shop"
    parts = urlsplit(base)
    database_url = urlunsplit(parts._replace(path=f"/{DB_NAME}"))
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/10"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "EMAIL_HOST", "HTTPS_ONLY", "CELERY_BROKER_URL", "DEBUG"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="benchmarks.settings",
        DEBUG="false",
        SECRET_KEY="bench-secret-key-not-for-production-" + uuid.uuid4().hex,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CACHE_KEY_PREFIX=f"bench-{os.getpid()}",
        # Production queues Celery tasks on a broker; nothing consumes them here (the queue is deleted at the end).
        CELERY_BROKER_URL=os.environ.get("BENCH_CELERY_BROKER_URL", redis_url),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        AUTH_THROTTLE_RATE="1000000/minute",
        JWT_ACCESS_MINUTES="240",
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_SECRET_KEY="sk_test_bench",
        STRIPE_API_BASE="http://127.0.0.1:9",  # never reached by these scenarios; fails fast if it were
        LOG_LEVEL="WARNING",
        GUNICORN_MAX_REQUESTS="0",  # no worker recycling mid-run: peak RSS is the whole run's
        PYTHONUNBUFFERED="1",
    )
    return env


def recreate_database(database_url: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def manage(env: dict, *args: str, timeout: int = 900) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn on loopback, in its own process group so that stop() reaches every worker."""

    def __init__(self, env: dict, logdir: Path):
        self.env = env
        self.port = free_port()
        self.log_path = logdir / "gunicorn.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Server:
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        cmd = [
            PYTHON, "-m", "gunicorn", "config.wsgi", "--config", "gunicorn.conf.py",
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(WORKERS), "--threads", str(THREADS),
            "--worker-class", "gthread",
        ]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _, _ = http_get(self.port, "/readyz/")
                if status == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not become ready; see {self.log_path}")
            time.sleep(0.3)
        log(f"gunicorn ready on 127.0.0.1:{self.port} ({WORKERS} gthread workers x {THREADS} threads)")
        return self

    def worker_pids(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                if self.proc and ppid == self.proc.pid:
                    pids.append(int(entry.name))
        return sorted(pids)

    def peak_rss_kb(self) -> dict[int, int]:
        peaks = {}
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"VmHWM:\s+(\d+) kB", status)
            if match:
                peaks[pid] = int(match.group(1))
        return peaks

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            pgid = self.proc.pid  # start_new_session: the group id is the master's pid
            try:
                os.killpg(pgid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(pgid, signal.SIGKILL)
                self.proc.wait(timeout=5)
            except ProcessLookupError:
                pass
            log("gunicorn stopped")
        if getattr(self, "log", None):
            self.log.close()


# --- HTTP helpers -----------------------------------------------------------------------------------------


def http_request(port, method, path, body=None, headers=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if isinstance(body, dict | list) else body
        h = {"Content-Type": "application/json", **(headers or {})}
        conn.request(method, path, body=data, headers=h)
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        conn.close()


def http_get(port, path, headers=None):
    return http_request(port, "GET", path, headers=headers, timeout=10)


def sequential_sample(port, requests, *, bust_base: int | None = None, n: int = SAMPLES) -> dict:
    """n sequential timed requests on one keep-alive connection: service time without queueing."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times, app, statuses, cache = [], [], Counter(), Counter()
    try:
        for i in range(n):
            method, path, headers, body = requests[i % len(requests)]
            h = dict(headers)
            if bust_base is not None:
                h["Host"] = f"127.0.0.1:{bust_base + i}"
            started = time.perf_counter()
            conn.request(method, path, body=body, headers=h)
            response = conn.getresponse()
            response.read()
            times.append((time.perf_counter() - started) * 1000)
            statuses[response.status] += 1
            cache[response.getheader("X-Cache", "-")] += 1
            timing = re.search(r"dur=([\d.]+)", response.getheader("Server-Timing", ""))
            if timing:
                app.append(float(timing.group(1)))
    finally:
        conn.close()
    return {
        "n": n,
        "p50_ms": round(percentile(times, 50), 2),
        "p95_ms": round(percentile(times, 95), 2),
        "p99_ms": round(percentile(times, 99), 2),
        "app_p50_ms": round(percentile(app, 50), 2) if app else None,
        "app_p95_ms": round(percentile(app, 95), 2) if app else None,
        "statuses": dict(statuses),
        "x_cache": dict(cache),
    }


# --- wrk ----------------------------------------------------------------------------------------------------

_bust_counter = [random.randint(1, 9) * 100_000_000]


def next_bust_base() -> int:
    """A fresh range of Host ports for one scenario, never reused in this run."""
    _bust_counter[0] += 50_000_000
    return _bust_counter[0]


def write_requests_file(tmp: Path, name: str, requests) -> Path:
    path = tmp / f"{name}.requests"
    with open(path, "w") as f:
        for method, req_path, headers, body in requests:
            header_text = "\x1f".join(f"{k}: {v}" for k, v in headers.items())
            body_text = body.decode() if isinstance(body, bytes) else (body or "")
            assert "\t" not in body_text and "\n" not in body_text
            f.write(f"{method}\t{req_path}\t{header_text}\t{body_text}\n")
    return path


def parse_latency(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not match:
        return float("nan")
    number, unit = float(match.group(1)), match.group(2)
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(port, path, *, requests_file: Path | None = None, bust: bool = False, duration: int = DURATION) -> dict:
    env = {**os.environ, "BENCH_WRK_THREADS": str(WRK_THREADS)}
    for key in ("BENCH_DYNAMIC", "BENCH_REQUESTS_FILE", "BENCH_BUST_HOST"):
        env.pop(key, None)
    if requests_file or bust:
        env["BENCH_DYNAMIC"] = "1"
    if requests_file:
        env["BENCH_REQUESTS_FILE"] = str(requests_file)
    if bust:
        env["BENCH_BUST_HOST"] = str(next_bust_base())
    cmd = [
        "wrk", f"-t{WRK_THREADS}", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency", "--timeout", "10s",
        "-s", str(BENCH_DIR / "wrk.lua"), f"http://127.0.0.1:{port}{path}",
    ]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=duration + 60)
    out = result.stdout
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed: {result.stderr}\n{out}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    dist = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, flags=re.M))
    extra = json.loads(re.search(r"^BENCH_JSON (.*)$", out, flags=re.M).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": round(float(rps.group(1)), 1) if rps else None,
        "p50_ms": round(parse_latency(dist.get("50", "")), 2),
        "p75_ms": round(parse_latency(dist.get("75", "")), 2),
        "p90_ms": round(parse_latency(dist.get("90", "")), 2),
        "p95_ms": round(extra["p95_us"] / 1000, 2),
        "p99_ms": round(parse_latency(dist.get("99", "")), 2),
        "requests": extra["requests"],
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": extra["errors_connect"] + extra["errors_read"] + extra["errors_write"]
        + extra["errors_timeout"],
        "wrapped": extra["wrapped"],
        "command": " ".join(cmd[:-3] + ["wrk.lua", cmd[-1]]),
    }


# --- in-process measurements (django.test.Client against the same database and cache) -------------------------


def django_setup() -> None:
    import warnings

    import django

    # WhiteNoise warns that STATIC_ROOT is missing: the API serves no static files in these scenarios.
    warnings.filterwarnings("ignore", message="No directory at")

    django.setup()


_client = None


def count_queries(method: str, path: str, *, host: str = "127.0.0.1", data=None, headers=None) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    global _client
    if _client is None:  # one client: building one loads the middleware (WhiteNoise scans static files)
        _client = Client()
    client = _client
    kwargs = {"HTTP_HOST": host, **(headers or {})}
    if data is not None:
        kwargs["data"] = data if isinstance(data, bytes | str) else json.dumps(data)
        kwargs["content_type"] = "application/json"
    with CaptureQueriesContext(connection) as ctx:
        response = client.generic(method, path, **kwargs)
    return {
        "status": response.status_code,
        "queries": len(ctx.captured_queries),
        "x_cache": response.headers.get("X-Cache"),
        "sql": [q["sql"][:300] for q in ctx.captured_queries],
    }


_host_counter = [random.randint(1, 9) * 1_000_000]


def unique_host() -> str:
    _host_counter[0] += 1
    return f"127.0.0.1:{_host_counter[0]}"


# --- seeding -------------------------------------------------------------------------------------------------


def seed(env: dict, total: int) -> str:
    """Bring the catalog to `total` products with `manage.py seed --products N` (idempotent, adds what is missing)."""
    from django.db import connection

    from catalog.models import Product

    started = time.monotonic()
    manage(env, "seed", "--products", str(total), timeout=3600)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    count = Product.objects.count()
    log(f"seeded {count} products in {time.monotonic() - started:.0f}s (manage.py seed --products {total}); "
        "VACUUM ANALYZE")
    return f"manage.py seed --products {total}: {count} products"


# --- scenarios -----------------------------------------------------------------------------------------------


def store_ceiling(port: int) -> bytes:
    """Warm the product list, then store its exact cached bytes for the ceiling view (one cache.get per request)."""
    from django.core.cache import cache

    from benchmarks.urls import CEILING_KEY

    status, _, _ = http_get(port, LIST)
    status, body, headers = http_get(port, LIST)
    assert status == 200 and headers.get("X-Cache") == "HIT", (status, headers)
    cache.set(CEILING_KEY, body, timeout=None)
    status, ceiling_body, _ = http_get(port, CEILING)
    assert status == 200 and ceiling_body == body, "ceiling bytes differ from the cached page"
    return body


def catalog_scenarios(port: int, tmp: Path, results: dict) -> None:
    from catalog.models import Product

    store_ceiling(port)
    slugs = list(Product.objects.filter(is_active=True).order_by("?").values_list("slug", flat=True)[:2000])
    detail = f"/api/catalog/products/{slugs[0]}/"
    http_get(port, detail)

    scenarios = results["scenarios"]

    def record(name, wrk_result, sample=None, queries=None, note=""):
        entry = {**wrk_result, "queries": queries, "note": note}
        if sample:
            entry["sequential"] = sample
        scenarios[name] = entry
        log(f"{name}: {entry['rps']} req/s, p50 {entry['p50_ms']} ms, p99 {entry['p99_ms']} ms, "
            f"queries {queries}, non-2xx {entry['non_2xx']}")

    # Query counts in-process, next to the figures.
    count_queries("GET", LIST)
    q_list_cached = count_queries("GET", LIST)
    q_list = {size: count_queries("GET", f"{LIST}?page_size={size}", host=unique_host()) for size in (1, 20, 100)}
    count_queries("GET", detail)
    q_detail_cached = count_queries("GET", detail)
    q_detail = count_queries("GET", detail, host=unique_host())
    q_ceiling = count_queries("GET", CEILING)
    assert q_list_cached["x_cache"] == "HIT" and all(q["x_cache"] == "MISS" for q in q_list.values())
    results["queries"]["list_uncached_by_page_size"] = {str(k): v["queries"] for k, v in q_list.items()}
    results["queries"]["list_uncached_sql"] = q_list[20]["sql"]
    log(f"SQL queries per request: list uncached by page_size {results['queries']['list_uncached_by_page_size']}, "
        f"list cached {q_list_cached['queries']}, detail uncached {q_detail['queries']}, "
        f"detail cached {q_detail_cached['queries']}, ceiling {q_ceiling['queries']}")
    results["queries"]["detail_uncached_sql"] = q_detail["sql"]

    # The ratio scenarios run interleaved in ROUNDS rounds: background load on a shared machine drifts, and
    # neighbouring runs see the same drift. Each figure is its median round; each ratio the median per-round ratio.
    runs = {"ceiling": [], "list cached": [], "list uncached": []}
    for round_no in range(ROUNDS):
        runs["ceiling"].append(run_wrk(port, CEILING))
        runs["list cached"].append(run_wrk(port, LIST))
        runs["list uncached"].append(run_wrk(port, LIST, bust=True))
        log(f"round {round_no + 1}/{ROUNDS}: " + ", ".join(f"{k} {v[-1]['rps']} req/s" for k, v in runs.items()))
    results["round_ratios"] = {
        f"{name} / ceiling": [round(r["rps"] / c["rps"], 3) for r, c in zip(runs[name], runs["ceiling"], strict=True)]
        for name in ("list cached", "list uncached")
    }

    def median_run(name):
        ordered = sorted(runs[name], key=lambda r: r["rps"])
        return {**ordered[len(ordered) // 2], "rounds_rps": [r["rps"] for r in runs[name]]}

    record("ceiling", median_run("ceiling"), queries=q_ceiling["queries"],
           note="bare view: cached list bytes from one cache.get")
    record("list cached", median_run("list cached"), queries=q_list_cached["queries"],
           note="anonymous, same URL, warmed")
    plain = [("GET", LIST, {}, None)]
    record("list uncached", median_run("list uncached"),
           sample=sequential_sample(port, plain, bust_base=next_bust_base()), queries=q_list[20]["queries"],
           note="page_size 20; unique Host port per request -> cache miss")
    record("detail cached", run_wrk(port, detail), queries=q_detail_cached["queries"], note="one product, warmed")
    detail_requests = [("GET", f"/api/catalog/products/{slug}/", {}, None) for slug in slugs]
    detail_file = write_requests_file(tmp, "detail", detail_requests)
    record("detail uncached", run_wrk(port, LIST, requests_file=detail_file, bust=True),
           sample=sequential_sample(port, detail_requests, bust_base=next_bust_base()),
           queries=q_detail["queries"], note=f"{len(slugs)} products in turn, unique Host port per request")


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


def search_scenario(port: int, tmp: Path, results: dict) -> None:
    from catalog.models import Product

    requests = search_requests()
    path = requests[0][1]
    queries = count_queries("GET", path, host=unique_host())
    counts = [count_queries("GET", r[1], host=unique_host()) for r in requests[:20]]
    results["queries"]["search_uncached_sql"] = queries["sql"]
    wrk_result = run_wrk(port, LIST, requests_file=write_requests_file(tmp, "search", requests), bust=True)
    sample = sequential_sample(port, requests, bust_base=next_bust_base())
    entry = {**wrk_result, "sequential": sample, "queries": max(c["queries"] for c in counts),
             "example": path,
             "note": f"{Product.objects.count()} products; search + category (with descendants) + price range, "
                     f"{len(requests)} combinations, unique Host port per request"}
    results["scenarios"]["search 100k uncached"] = entry
    log(f"search: {entry['rps']} req/s, wrk p95 {entry['p95_ms']} ms, sequential p95 {sample['p95_ms']} ms, "
        f"queries {entry['queries']}, example {path}")


# --- checkout ------------------------------------------------------------------------------------------------


def make_buyer(tag: str, i: int) -> tuple[int, int, str]:
    from rest_framework_simplejwt.tokens import AccessToken

    from users.models import Address, User

    user = User.objects.create_user(email=f"bench-{tag}-{i}@example.com", password=None, first_name="Bench")
    address = Address.objects.create(user=user, full_name=f"Bench Buyer {i}", line1=f"{i} Load Street",
                                     city="Testville", region="CA", postal_code="94107", country="US",
                                     phone="+1 415 555 0100", is_default=True)
    return user.pk, address.pk, str(AccessToken.for_user(user))


def bench_products(prefix: str, count: int, stock: int) -> list[int]:
    from decimal import Decimal

    from catalog import services
    from catalog.models import Category

    category = Category.objects.filter(slug="bench-checkout").first() or services.category_create(
        name="Bench checkout", slug="bench-checkout")
    return [
        services.product_create(name=f"Bench {prefix} {i}", sku=f"BENCH-{prefix}-{i}", category=category,
                                price=Decimal("19.99"), stock=stock).pk
        for i in range(count)
    ]


def fill_carts(port: int, buyers, product_for) -> None:
    def add(args):
        index, (_, _, token) = args
        status, body, _ = http_request(port, "POST", "/api/cart/items/", {"product": product_for(index), "quantity": 1},
                                       {"Authorization": f"Bearer {token}"})
        if status != 201:
            raise RuntimeError(f"cart add failed: {status} {body[:300]!r}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(add, enumerate(buyers)))


def fire_checkouts(port: int, buyers, *, watch_list: bool = False) -> dict:
    """POST /api/orders/ for every buyer from CONNECTIONS threads; optionally read the product list meanwhile
    (anonymous, one URL) to see how often it still hits the cache while orders change stock."""
    stop = threading.Event()
    seen = Counter()

    def watch():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            while not stop.is_set():
                conn.request("GET", LIST)
                response = conn.getresponse()
                response.read()
                seen[response.getheader("X-Cache", "-")] += 1
        finally:
            conn.close()

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
        result["list_during_checkout"] = {"requests": total, "x_cache": dict(seen),
                                          "hit_ratio": round(seen.get("HIT", 0) / total, 3) if total else None}
    return result


def _fire_checkouts(port: int, buyers) -> dict:
    barrier = threading.Barrier(min(CONNECTIONS, len(buyers)))

    def checkout(buyer):
        _, address_id, token = buyer
        started = time.perf_counter()
        status, body, _ = http_request(port, "POST", "/api/orders/", {"shipping_address": address_id},
                                       {"Authorization": f"Bearer {token}"}, timeout=60)
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
        "buyers": len(buyers), "wall_s": round(wall, 2), "orders": statuses.get(201, 0),
        "orders_per_s": round(statuses.get(201, 0) / wall, 1), "attempts_per_s": round(len(buyers) / wall, 1),
        "p50_ms": round(percentile(times, 50), 2), "p95_ms": round(percentile(times, 95), 2),
        "p99_ms": round(percentile(times, 99), 2), "statuses": {str(k): v for k, v in statuses.items()},
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


def checkout_available(port: int) -> str | None:
    """None when cart + checkout answer as documented, else why the scenario is skipped."""
    _, address_id, token = make_buyer("probe", 0)
    auth = {"Authorization": f"Bearer {token}"}
    status, body, _ = http_request(port, "POST", "/api/orders/", {"shipping_address": address_id}, auth)
    if status in (404, 405):
        return f"POST /api/orders/ answers {status}"
    status, body, _ = http_request(port, "GET", "/api/cart/", None, auth)
    if status != 200:
        return f"GET /api/cart/ answers {status}"
    return None


def checkout_scenarios(port: int, results: dict) -> None:
    from catalog.cache import catalog_version

    reason = checkout_available(port)
    if reason:
        results["skipped"]["checkout"] = reason
        log(f"checkout skipped: {reason}")
        return

    # Query count against the number of cart lines, in-process.
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
            results["queries"]["checkout_20_lines_sql"] = placed["sql"]
    results["queries"]["checkout_by_cart_lines"] = by_lines
    log(f"checkout queries by cart lines: {by_lines}")

    # Distinct products: every buyer has a product of their own.
    distinct = bench_products("distinct", BUYERS, 5)
    buyers = [make_buyer("distinct", i) for i in range(BUYERS)]
    fill_carts(port, buyers, lambda i: distinct[i])
    http_get(port, LIST)
    version_before = catalog_version()
    entry = fire_checkouts(port, buyers, watch_list=True)
    entry["catalog_version_bumps"] = catalog_version() - version_before
    entry["verification"] = verify_stock(distinct, 5)
    entry["queries"] = by_lines["1"]
    entry["note"] = f"{BUYERS} buyers, 1 line each, {CONNECTIONS} concurrent"
    results["scenarios"]["checkout distinct"] = entry
    log(f"checkout distinct: {entry}")

    # One hot product: more buyers than stock; exactly HOT_STOCK orders may succeed, the rest get 409.
    (hot,) = bench_products("hot", 1, HOT_STOCK)
    buyers = [make_buyer("hot", i) for i in range(BUYERS)]
    fill_carts(port, buyers, lambda i: hot)
    entry = fire_checkouts(port, buyers)
    entry["verification"] = verify_stock([hot], HOT_STOCK)
    from catalog.models import Product

    entry["verification"]["final_stock"] = Product.objects.get(pk=hot).stock
    entry["verification"]["ok"] = (entry["verification"]["ok"] and entry["orders"] == HOT_STOCK
                                   and entry["statuses"].get("409", 0) == BUYERS - HOT_STOCK)
    entry["queries"] = by_lines["1"]
    entry["note"] = f"{BUYERS} buyers, stock {HOT_STOCK}, {CONNECTIONS} concurrent"
    results["scenarios"]["checkout hot product"] = entry
    log(f"checkout hot: {entry}")


# --- webhook -------------------------------------------------------------------------------------------------


def signed_event(event_type: str = "payment_intent.created") -> tuple[str, dict, bytes]:
    now = int(time.time())
    event = {
        "id": f"evt_bench_{uuid.uuid4().hex}", "object": "event", "api_version": "2024-06-20", "created": now,
        "livemode": False, "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
        "type": event_type,
        "data": {"object": {"id": f"pi_bench_{uuid.uuid4().hex[:16]}", "object": "payment_intent", "amount": 1999,
                            "currency": "usd", "status": "requires_payment_method"}},
    }
    payload = json.dumps(event, separators=(",", ":")).encode()
    signature = hmac.new(WEBHOOK_SECRET.encode(), f"{now}.".encode() + payload, hashlib.sha256).hexdigest()
    headers = {"Stripe-Signature": f"t={now},v1={signature}", "Content-Type": "application/json"}
    return "/api/payments/webhook/", headers, payload


def webhook_scenario(port: int, tmp: Path, results: dict) -> None:
    path, headers, payload = signed_event()
    status, body, _ = http_request(port, "POST", path, payload, headers)
    if status != 200:
        results["skipped"]["webhook"] = f"POST {path} with a signed event answers {status} {body[:120]!r}"
        log(f"webhook skipped: {results['skipped']['webhook']}")
        return
    path, headers, payload = signed_event()
    queries = count_queries("POST", path, data=payload, headers={"HTTP_STRIPE_SIGNATURE": headers["Stripe-Signature"]})
    results["queries"]["webhook_sql"] = queries["sql"]
    # Enough unique, freshly signed events that wrk never has to repeat one (repeats would be cheap duplicates).
    events = []
    for _ in range(max(2000, DURATION * 1500)):
        p, h, b = signed_event()
        events.append(("POST", p, h, b))
    wrk_result = run_wrk(port, path, requests_file=write_requests_file(tmp, "webhook", events))
    entry = {**wrk_result, "queries": queries["queries"],
             "note": "signed payment_intent.created (irrelevant type: verified, stored once, acknowledged)"}
    if wrk_result["wrapped"]:
        entry["note"] += f"; {wrk_result['wrapped']} requests repeated an event id"
    results["scenarios"]["webhook"] = entry
    log(f"webhook: {entry['rps']} events/s, p95 {entry['p95_ms']} ms, queries {entry['queries']}")


# --- report --------------------------------------------------------------------------------------------------


def machine_info() -> dict:
    match = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    cpu = match.group(1) if match else ""
    mem = ""
    try:
        total_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f"{total_kb // 1024} MiB"
    except (OSError, AttributeError):
        pass
    versions = {}
    try:
        import django
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            versions["postgresql"] = cursor.fetchone()[0]
        from django_redis import get_redis_connection

        versions["redis"] = get_redis_connection("default").info().get("redis_version")
        versions["django"] = django.get_version()
    except Exception as error:  # noqa: BLE001 - informational only
        versions["error"] = str(error)
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "python": platform.python_version(),
            "platform": platform.platform(), "wrk": wrk_version.strip(), **versions,
            "load_average_at_end": os.getloadavg()}


def fmt(value, digits=1):
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table(results: dict) -> str:
    lines = [
        "| Scenario | req/s (orders/s, events/s) | p50 ms | p95 ms | p99 ms | SQL/request | Notes |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, s in results["scenarios"].items():
        rps = s.get("rps", s.get("orders_per_s"))
        note = s.get("note", "")
        if "sequential" in s:
            seq = s["sequential"]
            note += f"; sequential p50/p95 {seq['p50_ms']}/{seq['p95_ms']} ms"
        if "verification" in s:
            v = s["verification"]
            note += f"; {s['orders']} orders, statuses {s['statuses']}, oversell check {'OK' if v['ok'] else 'FAILED'}"
        if "list_during_checkout" in s:
            w = s["list_during_checkout"]
            note += (f"; catalog version bumped {s.get('catalog_version_bumps')}x, product list meanwhile: "
                     f"{w['requests']} reads, cache hit ratio {w['hit_ratio']}")
        lines.append(f"| {name} | {fmt(rps)} | {fmt(s.get('p50_ms'), 2)} | {fmt(s.get('p95_ms'), 2)} | "
                     f"{fmt(s.get('p99_ms'), 2)} | {fmt(s.get('queries'))} | {note} |")
    return "\n".join(lines)


def compute_summary(results: dict) -> None:
    s = results["scenarios"]
    ratios = {}
    if "ceiling" in s:
        for name in ("list cached", "list uncached"):  # detail pages are smaller than the ceiling's bytes
            if name in s and s["ceiling"]["rps"]:
                ratios[f"{name} / ceiling"] = round(s[name]["rps"] / s["ceiling"]["rps"], 3)
    for name, values in results.get("round_ratios", {}).items():
        ratios[name] = sorted(values)[len(values) // 2]  # median of the per-round ratios
    results["ratios"] = ratios
    q = results["queries"]
    targets = {}
    if "list cached / ceiling" in ratios:
        targets["cached list >= 0.8 x ceiling"] = {"value": ratios["list cached / ceiling"],
                                                   "met": ratios["list cached / ceiling"] >= 0.8}
    if "list_uncached_by_page_size" in q:
        worst = max(q["list_uncached_by_page_size"].values())
        targets["uncached list <= 4 queries at any page size"] = {"value": q["list_uncached_by_page_size"],
                                                                   "met": worst <= 4}
    if "search 100k uncached" in s:
        seq = s["search 100k uncached"]["sequential"]["p95_ms"]
        targets["100k filtered search p95 <= 50 ms"] = {
            "value": {"sequential_p95_ms": seq, "under_load_p95_ms": s["search 100k uncached"]["p95_ms"]},
            "met": seq <= 50}
    if "checkout_by_cart_lines" in q:
        values = set(q["checkout_by_cart_lines"].values())
        targets["checkout queries independent of cart lines"] = {"value": q["checkout_by_cart_lines"],
                                                                 "met": len(values) == 1}
    results["targets"] = targets


def write_reports(results: dict) -> None:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUTPUT_DIR / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    q = results["queries"]
    md = [
        "# Benchmark results",
        "",
        f"{results['date']} · `{results['command']}` · {results['duration_s']} s per wrk scenario, "
        f"{CONNECTIONS} connections, gunicorn {WORKERS} gthread workers x {THREADS} threads, DEBUG=false, "
        f"PostgreSQL + Redis, {results['config']['products']:,} products.",
        "",
        table(results),
        "",
        "## Ratios (same run)",
        "",
        f"Median of {ROUNDS} interleaved rounds (ceiling, cached list, uncached list, one after another); "
        f"per-round ratios: {results.get('round_ratios')}.",
        "",
        *[f"- {k}: **{v}**" for k, v in results["ratios"].items()],
        "",
        "## Targets",
        "",
        *[f"- {k}: {'met' if v['met'] else '**missed**'} ({v['value']})" for k, v in results["targets"].items()],
        "",
        "## SQL queries per request",
        "",
        f"- uncached list by page_size: {q.get('list_uncached_by_page_size')}",
        f"- checkout by cart lines: {q.get('checkout_by_cart_lines', 'not measured')}",
        "",
        "## Peak RSS of gunicorn workers (VmHWM)",
        "",
        f"{results.get('peak_rss_mib')}",
        "",
    ]
    if results["skipped"]:
        md += ["## Skipped", "", *[f"- {k}: {v}" for k, v in results["skipped"].items()], ""]
    md += [
        "## Method",
        "",
        "- wrk on loopback (`-t2 -c16 --latency`, script benchmarks/wrk.lua); p95 comes from wrk's own histogram.",
        "- Uncached: every request carries its own `Host: 127.0.0.1:<n>`; the response cache key includes the host",
        "  (port included), so each request misses and runs the SQL of a real miss with the same query string.",
        "- `sequential` = 200 one-at-a-time requests on a keep-alive connection (service time, no queueing).",
        "- SQL/request: in-process django.test.Client + CaptureQueriesContext on the same database and cache.",
        "- Checkout: buyers and addresses via the ORM, JWTs minted with simplejwt, carts filled through",
        "  POST /api/cart/items/, then POST /api/orders/ from a thread pool over real HTTP; stock, ledger and",
        "  order items are checked afterwards.",
        "- The machine was shared with other test suites during the run: absolute numbers are noisy, ratios less so.",
        "",
        "## Machine",
        "",
        "```",
        json.dumps(results["machine"], indent=2, default=str),
        "```",
        "",
    ]
    (OUTPUT_DIR / "results.md").write_text("\n".join(md))


# --- main ----------------------------------------------------------------------------------------------------


def main() -> int:
    def on_alarm(signum, frame):
        raise Timeout(f"benchmark exceeded BENCH_MAX_SECONDS={MAX_SECONDS}")

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.alarm(MAX_SECONDS)

    env = bench_env()
    os.environ.update(env)
    tmp = Path(tempfile.mkdtemp(prefix="shop-bench-"))
    results = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": os.environ.get("BENCH_COMMAND", "make bench"),
        "duration_s": DURATION,
        "config": {"products": PRODUCTS, "search_products": SEARCH_PRODUCTS, "connections": CONNECTIONS,
                   "wrk_threads": WRK_THREADS, "workers": WORKERS, "threads": THREADS, "buyers": BUYERS,
                   "hot_stock": HOT_STOCK, "database": DB_NAME, "cache_prefix": env["CACHE_KEY_PREFIX"]},
        "scenarios": {}, "queries": {}, "skipped": {}, "ratios": {}, "targets": {},
    }
    server = None
    failed = None
    try:
        log(f"recreating database {DB_NAME}; logs in {tmp}")
        recreate_database(env["DATABASE_URL"])
        manage(env, "migrate", "--noinput")
        django_setup()
        results["config"]["seed"] = seed(env, PRODUCTS)
        server = Server(env, tmp).start()
        catalog_scenarios(server.port, tmp, results)
        try:
            checkout_scenarios(server.port, results)
        except Exception as error:  # noqa: BLE001 - report it and go on with the other scenarios
            results["skipped"]["checkout"] = f"failed: {error!r}"[:500]
            log(f"checkout failed: {error!r}")
        try:
            webhook_scenario(server.port, tmp, results)
        except Exception as error:  # noqa: BLE001
            results["skipped"]["webhook"] = f"failed: {error!r}"[:500]
            log(f"webhook failed: {error!r}")
        if SEARCH_PRODUCTS:
            results["config"]["search_seed"] = seed(env, SEARCH_PRODUCTS)
            search_scenario(server.port, tmp, results)
        peaks = server.peak_rss_kb()
        results["peak_rss_mib"] = {str(pid): round(kb / 1024, 1) for pid, kb in peaks.items()}
        results["peak_rss_max_mib"] = round(max(peaks.values()) / 1024, 1) if peaks else None
        log(f"peak RSS per worker (MiB): {results['peak_rss_mib']}")
    except (Exception, KeyboardInterrupt) as error:
        failed = error
        log(f"FAILED: {error!r}")
    finally:
        signal.alarm(0)
        if server:
            server.stop()
        try:
            from django_redis import get_redis_connection

            redis = get_redis_connection("default")
            keys = list(redis.scan_iter(match=f"{env['CACHE_KEY_PREFIX']}:*", count=1000))
            for i in range(0, len(keys), 1000):
                redis.delete(*keys[i:i + 1000])
            if env["CELERY_BROKER_URL"] == env["REDIS_URL"]:
                # Tasks queued by the benchmark (never consumed) and kombu's bindings for that queue.
                redis.delete("celery", "_kombu.binding.celery", "_kombu.binding_permanent.celery")
        except Exception as error:  # noqa: BLE001 - cleanup is best effort
            log(f"redis cleanup failed: {error!r}")
    if failed is None:
        shutil.rmtree(tmp, ignore_errors=True)  # kept after a failure: gunicorn.log says why
    if failed is not None and not results["scenarios"]:
        return 1
    results["machine"] = machine_info()
    compute_summary(results)
    if failed is not None:
        results["skipped"]["run"] = f"aborted: {failed!r}"[:500]
    write_reports(results)
    print()
    print(table(results))
    print()
    for key, value in results["ratios"].items():
        print(f"{key}: {value}")
    for key, value in results["targets"].items():
        print(f"{key}: {'met' if value['met'] else 'MISSED'} ({value['value']})")
    print(f"\nwrote {OUTPUT_DIR / 'results.json'} and {OUTPUT_DIR / 'results.md'}")
    return 1 if failed is not None else 0


if __name__ == "__main__":
    sys.exit(main())
