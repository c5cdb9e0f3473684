"""gunicorn settings for the web process; every value can be overridden from the environment."""

import glob
import multiprocessing
import os
import tempfile

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Processes and threads, measured rather than folklore: `BENCH_MATRIX=5x2,4x4,3x8,3x8+pool make bench` runs the
# uncached list and the sale day (200 buyers checking out while 16 connections browse and one reads the list) on
# one gunicorn per shape ("Server shapes" in benchmarks/results.md). Medians of 8 rounds (3 runs) on 2 CPUs:
# the classic 2 x CPUs + 1 workers of 2 threads (5 x 2) made 17 orders/s, browsed at 45 req/s with p99 2.0 s
# (5.2x its p99 without the checkouts) and the list reader's p99 5.9x; CPUs + 1 workers of 8 threads (3 x 8) made
# 28 orders/s, browsed at 106 req/s with p99 0.86 s (2.2x) and the list's p99 2.7x. (4 x 4: 27 orders/s, list
# 7.2x; 3 x 16: no better than 3 x 8, twice the connections.) A gthread worker queues what it accepted for its own
# threads, and a keep-alive connection stays with one worker: with 2 threads a worker's checkouts hold every
# thread and the reads behind them wait; with 8 a cheap read shares the CPU with them instead.
# (The final quiet run in benchmarks/results.md, with checkout 2.5x cheaper, no longer separates 4 x 4, 3 x 8 and
# the pool: within noise of each other; 3 x 8 stays, one process fewer than 4 x 4.)
# Each thread that touches the database keeps its own PostgreSQL connection (CONN_MAX_AGE=60): plan
# max_connections for workers x threads per instance. Django's psycopg pool (one pool per worker process, as many
# connections as threads) did no better on the same runs (3 x 8: 25 orders/s, browse p99 1.1 s), so there is none.
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 8))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
# Idle keep-alive connections wait in the worker's poller, not on a thread; 5 s outlives a proxy's reuse of an
# idle upstream connection for the next request. (wrk keeps its connections busy, so the bench does not vary it.)
keepalive = 5
# A leak safety net, not a habit: at sale-day rates (~400 req/s per worker in benchmarks/results.md) 2000
# restarted every worker every ~5 s, each restart a cold worker (new DB connections, empty per-process state).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 50000))
max_requests_jitter = 5000
# One line per request, and not free: on a cached catalog hit, gunicorn with this access log answered 1,310 req/s
# where the same config without it answered 2,130 (medians of 3 interleaved wrk rounds, 2 CPUs). Under
# LOG_FORMAT=json the app's AccessLogMiddleware writes the line instead (below).
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# --- Metrics: every worker's samples in one scrape (prometheus_client multiprocess mode) -------------------
# With METRICS_TOKEN set, workers write their samples under PROMETHEUS_MULTIPROC_DIR (a fresh private
# directory when unset); the master empties it at start so a restart does not count old processes.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # prometheus_client switches to multiprocess mode when the variable merely exists, even empty.
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if os.environ.get("METRICS_TOKEN"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="shop-metrics-")


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)
        for stale in glob.glob(os.path.join(directory, "*.db")):
            os.remove(stale)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Imported here, after PROMETHEUS_MULTIPROC_DIR is set: prometheus_client picks its mode on import.
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


# --- Logs: LOG_FORMAT=json makes gunicorn's own lines JSON too; the app writes the access lines -----------
if os.environ.get("LOG_FORMAT", "").strip().lower() == "json":
    accesslog = None  # config.logs.AccessLogMiddleware writes one JSON line per request instead
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "config.logs.JsonFormatter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
        },
    }
