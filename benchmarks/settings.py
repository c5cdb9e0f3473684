"""Benchmark settings: the real settings plus a URLconf with the `ceiling` view (see benchmarks/urls.py).

BENCH_DB_POOL=1 (set by BENCH_MATRIX's "+pool" shapes) runs the server on Django's psycopg connection pool,
BENCH_DB_POOL_MAX connections per worker process and database alias, instead of persistent connections. It needs
psycopg's pool package (requirements-dev.txt), which the project itself does not use: measured against persistent
connections (results.md, "Server shapes"), the pool did not pay.
"""

import os

from config.settings import *  # noqa: F403
from config.settings import DATABASES

ROOT_URLCONF = "benchmarks.urls"

if os.environ.get("BENCH_DB_POOL") == "1":
    for database in DATABASES.values():
        if database["ENGINE"].endswith("postgresql"):
            size = int(os.environ.get("BENCH_DB_POOL_MAX") or 4)
            database["CONN_MAX_AGE"] = 0  # Django refuses persistent connections with a pool
            # CONN_HEALTH_CHECKS stays as config.settings has it: the pool then checks a connection it lends
            database["OPTIONS"] = {**database.get("OPTIONS", {}), "pool": {"min_size": size, "max_size": size}}
