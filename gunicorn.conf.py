"""gunicorn settings for the web process; every value can be overridden from the environment."""

import glob
import multiprocessing
import os
import tempfile

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 2))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
keepalive = 5
# A leak safety net, not a habit: at sale-day rates (~400 req/s per worker in benchmarks/results.md) 2000
# restarted every worker every ~5 s, each restart a cold worker (new DB connections, empty per-process state).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 50000))
max_requests_jitter = 5000
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
