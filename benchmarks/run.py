#!/usr/bin/env python3
"""`make bench`: the shop under load on PostgreSQL + Redis + gunicorn (DEBUG=false), measured with wrk on loopback.

What it does, in order (everything it starts is stopped in `finally`, and the whole run is time-bounded):
1. recreates its own database (`shop_bench` on DATABASE_URL's server), migrates, seeds BENCH_PRODUCTS products
   (`manage.py seed`), runs VACUUM ANALYZE (a production table has planner statistics; a fresh bulk load has none);
2. starts gunicorn on 127.0.0.1 with `benchmarks.settings` (config.settings + the `ceiling` view) and the
   project's gunicorn.conf.py as shipped (its workers, threads, worker class, keep-alive: the bench measures what
   ships; BENCH_WORKERS / BENCH_THREADS override), its own CACHE_KEY_PREFIX on REDIS_URL, Celery tasks queued on a
   Redis broker as in production (nothing consumes them); and a second, BARE gunicorn (benchmarks/bare.py:
   gunicorn defaults, no apps, no middleware, one view answering the cached list bytes from Redis, the same
   number of workers and threads) that every ratio is measured against ("ceiling");
3. runs the scenarios (wrk for HTTP throughput, a thread pool over real HTTP for checkout) and counts SQL
   queries per request in-process (django.test.Client + CaptureQueriesContext, same database and cache);
   the groups, in order: catalog (ceiling / cached list / the list's 304 / uncached list in interleaved rounds,
   detail), checkout, webhook, saleday (BUYERS checkouts while CONNECTIONS connections browse), search, and
   serving (only with BENCH_MATRIX: the uncached list and the sale day on one gunicorn per shape);
4. prints a table and writes results.json (results-scale.json for a SCALE run) and results.md, which shows the
   issue-16 goals from both files when both are in the folder.

benchmarks/harness.py holds the machinery (knobs, database, gunicorn, wrk, Redis, timing), scenarios.py one
function per scenario (GROUPS: their order), report.py the results files.

How the cache is defeated for "uncached" scenarios: each request carries its own Host port
(`Host: 127.0.0.1:<n>`). Django accepts it (ALLOWED_HOSTS ignores ports) and the catalog response cache key
includes `request.get_host()`, so every request is a miss that runs exactly the SQL of a real miss, with
identical query parameters (varying `page` or `ordering` instead would change the SQL being measured).

Knobs (environment): BENCH_DURATION (s per wrk scenario, 10), BENCH_CONNECTIONS (16), BENCH_ROUNDS (3: interleaved
rounds of ceiling / cached list / 304 / uncached list, and of the BENCH_MATRIX shapes), BENCH_WORKERS and
BENCH_THREADS (default: gunicorn.conf.py's), BENCH_MATRIX (e.g. `3x8,5x2,3x8+pool`: gunicorn shapes WORKERSxTHREADS,
"+pool" on Django's psycopg pool instead of persistent connections), BENCH_PRODUCTS (10000), BENCH_SEARCH_PRODUCTS
(100000; 0 skips the search phase), BENCH_SCALE (`make bench SCALE=N`: only the scale scenarios, on N products
bulk-seeded by benchmarks/bulk_seed.py, written to results-scale.json), BENCH_BUYERS (200), BENCH_HOT_STOCK
(BUYERS/2), BENCH_GROUPS (e.g. `checkout,saleday`: only those groups, after the catalog's query counts),
BENCH_DATABASE (shop_bench), BENCH_OUTPUT (benchmarks/: where the results go), BENCH_MAX_SECONDS (2400: hard bound
on the whole run), DATABASE_URL, REDIS_URL.

A smoke run that leaves the committed results and database alone:
    BENCH_OUTPUT=/tmp/bench-smoke BENCH_DATABASE=shop_bench_smoke BENCH_DURATION=2 BENCH_ROUNDS=1 \
    BENCH_PRODUCTS=200 BENCH_SEARCH_PRODUCTS=0 BENCH_BUYERS=20 .venv/bin/python benchmarks/run.py
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness, report  # noqa: E402
from benchmarks.harness import DB_NAME, MAX_SECONDS, PRODUCTS, log  # noqa: E402
from benchmarks.scenarios import GROUPS, Bench, Skip  # noqa: E402


def run_groups(bench: Bench) -> None:
    for group, scenarios, goes_on in GROUPS:
        try:
            for scenario in scenarios:
                scenario(bench)
        except Skip as reason:
            bench.results["skipped"][group] = str(reason)
            log(f"{group} skipped: {reason}")
        except Exception as error:
            if not goes_on or isinstance(error, harness.Timeout):
                raise
            bench.results["skipped"][group] = f"failed: {error!r}"[:500]  # report it and go on with the others
            log(f"{group} failed: {error!r}")


def main() -> int:
    harness.bound_run_time(MAX_SECONDS)
    env = harness.bench_env()
    os.environ.update(env)
    tmp = Path(tempfile.mkdtemp(prefix="shop-bench-"))
    results = report.results_new(env)
    server = bare = None
    failed = None
    try:
        log(f"recreating database {DB_NAME}; logs in {tmp}")
        harness.recreate_database(env["DATABASE_URL"])
        harness.manage(env, "migrate", "--noinput")
        if harness.SCALE:  # the admin changelist scenario renders admin pages: DEBUG=false needs the manifest
            harness.manage(env, "collectstatic", "--noinput", "-v0")
        harness.django_setup()
        results["config"]["seed"] = harness.seed(env, PRODUCTS)
        # The shop with gunicorn.conf.py as shipped (BENCH_WORKERS / BENCH_THREADS override), the BARE ceiling with
        # gunicorn's defaults and the same number of workers and threads.
        workers, threads = harness.server_shape(env)
        results["config"].update(
            workers=workers,
            threads=threads,
            gunicorn=harness.gunicorn_config(env),
            shape_from="BENCH_WORKERS / BENCH_THREADS" if harness.WORKERS or harness.THREADS else "gunicorn.conf.py",
        )
        server = harness.Server(env, tmp, workers=harness.WORKERS, threads=harness.THREADS).start()
        bare = harness.Server(env, tmp, bare=True, workers=workers, threads=threads).start()
        run_groups(Bench(port=server.port, bare_port=bare.port, tmp=tmp, env=env, results=results))
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
        if bare:
            bare.stop()
        harness.redis_cleanup(env)
    if failed is None:
        shutil.rmtree(tmp, ignore_errors=True)  # kept after a failure: gunicorn.log says why
    if failed is not None and not results["scenarios"]:
        return 1
    results["machine"] = report.machine_info()
    report.compute_summary(results)
    if failed is not None:
        results["skipped"]["run"] = f"aborted: {failed!r}"[:500]
    report.write_reports(results)
    report.print_summary(results)
    return 1 if failed is not None else 0


if __name__ == "__main__":
    sys.exit(main())
