#!/usr/bin/env python3
"""Checkout throughput: concurrent buyers placing orders through orders.services.order_place.

Standalone script (not a test). It uses its own PostgreSQL database (BENCH_DATABASE, default
`shop_bench_checkout` on DATABASE_URL's server; created if missing, then migrated), creates
BENCH_PRODUCTS products and BENCH_BUYERS buyers with an address, and then, BENCH_RUNS times:
fills every buyer's cart with BENCH_LINES lines (random products; not timed), and lets BENCH_THREADS
threads, each with its own database connection, check all the carts out at once (timed).
It prints orders/second per run and the median, and the SQL query count of one checkout of a
5-line cart (and of a 1-line cart, for comparison).

Emails: the confirmation task's `.delay` is replaced by a no-op, as in production where it is only
queued on the broker; the low-stock alert is switched off (LOW_STOCK_THRESHOLD=0).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/bench_checkout.py

Knobs (environment): BENCH_BUYERS (60), BENCH_THREADS (8), BENCH_PRODUCTS (200), BENCH_LINES (5),
BENCH_RUNS (5), BENCH_DATABASE (shop_bench_checkout), DATABASE_URL, REDIS_URL (unset: in-process cache).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import ensure_database  # noqa: E402


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


BUYERS = _int("BENCH_BUYERS", 60)
THREADS = _int("BENCH_THREADS", 8)
PRODUCTS = _int("BENCH_PRODUCTS", 200)
LINES = _int("BENCH_LINES", 5)
RUNS = _int("BENCH_RUNS", 5)
DATABASE = os.environ.get("BENCH_DATABASE", "shop_bench_checkout")
SERVER_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def database_url(name: str) -> str:
    parts = urlsplit(SERVER_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def setup_django() -> None:
    os.environ["DATABASE_URL"] = database_url(DATABASE)
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("CACHE_KEY_PREFIX", "bench-checkout")
    os.environ["LOW_STOCK_THRESHOLD"] = "0"
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.conf import settings

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)

    from orders import tasks

    tasks.send_order_email.delay = lambda **kwargs: None


def make_fixtures():
    from catalog.models import Product
    from catalog.services import category_create, product_create
    from users.models import Address, User

    tag = f"{int(time.time())}-{random.randint(0, 99999)}"  # re-runs add rows next to the old ones
    category = category_create(name=f"Bench {tag}")
    products = [
        product_create(name=f"Bench product {tag}-{i}", sku=f"B-{tag}-{i}", category=category,
                       price=Decimal("9.99") + i % 7, stock=1_000_000)
        for i in range(PRODUCTS)
    ]
    buyers = []
    for i in range(BUYERS + 2):
        user = User.objects.create_user(email=f"buyer-{tag}-{i}@bench.local", password=None)
        address = Address.objects.create(user=user, full_name="Bench Buyer", line1="1 Loop Rd", city="Bench",
                                         postal_code="00000", country="US")
        buyers.append((user, address.pk))
    return [Product.objects.get(pk=p.pk) for p in products], buyers


def fill(user, products, lines: int) -> None:
    from cart.services import cart_item_add

    for product in random.sample(products, lines):
        cart_item_add(user=user, product_id=product.pk, quantity=random.randint(1, 3))


def run_once(products, buyers) -> tuple[float, int, int]:
    from django.db import connections

    from orders.services import order_place

    for user, _ in buyers:
        fill(user, products, LINES)
    queue = list(buyers)
    lock = threading.Lock()
    placed, failed = [0], [0]
    barrier = threading.Barrier(THREADS + 1)

    def worker():
        barrier.wait()
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    user, address_id = queue.pop()
                try:
                    order_place(user=user, shipping_address_id=address_id)
                    with lock:
                        placed[0] += 1
                except Exception as exc:  # report, keep going
                    print(f"  checkout failed: {exc!r}", file=sys.stderr)
                    with lock:
                        failed[0] += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return placed[0] / elapsed, placed[0], failed[0]


def query_count(products, buyer, lines: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from orders.services import order_place

    user, address_id = buyer
    fill(user, products, lines)
    with CaptureQueriesContext(connection) as ctx:
        order_place(user=user, shipping_address_id=address_id)
    return len(ctx.captured_queries)


def main() -> None:
    ensure_database(database_url(DATABASE))
    setup_django()
    from django.db import connection

    products, buyers = make_fixtures()
    single_1, single_5 = buyers[-2], buyers[-1]
    buyers = buyers[:-2]
    print(f"checkout benchmark on {connection.settings_dict['NAME']} (PostgreSQL {connection.pg_version})")
    print(f"{BUYERS} buyers, {THREADS} threads, {PRODUCTS} products, {LINES} lines per cart, {RUNS} runs")
    rates = []
    for i in range(RUNS):
        rate, placed, failed = run_once(products, buyers)
        rates.append(rate)
        print(f"  run {i + 1}: {placed} orders ({failed} failed) -> {rate:.1f} orders/s")
    print(f"median: {statistics.median(rates):.1f} orders/s")
    print(f"SQL queries, one checkout of a 5-line cart: {query_count(products, single_5, 5)}")
    print(f"SQL queries, one checkout of a 1-line cart: {query_count(products, single_1, 1)}")


if __name__ == "__main__":
    main()
