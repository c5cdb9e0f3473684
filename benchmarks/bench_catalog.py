"""Product list timing on a 10,000-product catalog: uncached (database) vs cached (Redis).

Not a test. Seeds its own PostgreSQL database (created if missing) and times GETs through Django's
in-process test Client, so the numbers are the application's own time (no network, no gunicorn).

    .venv/bin/python benchmarks/bench_catalog.py [--products 10000] [--repeat 200] [--url ...]

Environment: CATALOG_BENCH_DATABASE_URL [postgres://postgres@127.0.0.1:5432/shop_bench_catalog],
CATALOG_BENCH_REDIS_URL [redis://127.0.0.1:6379/6].
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import ensure_database, percentile  # noqa: E402

DATABASE_URL = os.environ.get("CATALOG_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shop_bench_catalog")
REDIS_URL = os.environ.get("CATALOG_BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--url", action="append", help="URL(s) to time [product list pages]")
    args = parser.parse_args()

    ensure_database(DATABASE_URL)
    os.environ.update(
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        CACHE_KEY_PREFIX="shop-bench-catalog",
        DEBUG="false",
        SECRET_KEY="benchmark-only-secret-key-0123456789-abcdefghijklmnop",
        ALLOWED_HOSTS="testserver,localhost",
        LOG_LEVEL="WARNING",
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from catalog.cache import _bump
    from catalog.models import Product

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    call_command("seed", products=args.products, verbosity=0)
    seeded = time.perf_counter() - started
    print(f"catalog: {Product.objects.count()} products (seed step {seeded:.1f}s)")

    client = Client()
    urls = args.url or [
        "/api/catalog/products/?page_size=20",
        "/api/catalog/products/?page_size=100",
        "/api/catalog/products/?category=clothing&ordering=-price&page_size=20",
        "/api/catalog/products/?search=headphone&page_size=20",
    ]
    rows = []
    for url in urls:
        for mode in ("uncached", "cached"):
            samples, outcomes = [], []
            client.get(url)  # warm connections (and the cache for the cached run)
            for _ in range(args.repeat):
                if mode == "uncached":
                    _bump()  # a new catalog version: the next GET misses, exactly like after a write
                t0 = time.perf_counter()
                response = client.get(url)
                samples.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, (url, response.status_code)
                outcomes.append(response["X-Cache"])
            hit_rate = outcomes.count("HIT") / len(outcomes)
            rows.append(
                (url, mode, statistics.median(samples), percentile(samples, 95), statistics.fmean(samples), hit_rate)
            )

    width = max(len(u) for u in urls)
    print(f"\n{'URL':<{width}}  {'mode':<8}  {'p50 ms':>7}  {'p95 ms':>7}  {'mean ms':>7}  hits   (n={args.repeat})")
    for url, mode, p50, p95, mean, hit_rate in rows:
        print(f"{url:<{width}}  {mode:<8}  {p50:7.2f}  {p95:7.2f}  {mean:7.2f}  {hit_rate:4.0%}")


if __name__ == "__main__":
    main()
