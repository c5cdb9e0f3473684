"""The machinery under every benchmark scenario: knobs, database and seed, gunicorn, wrk, Redis, timing.

Django is set up only once the environment is built (bench_env, then django_setup), so what touches Django
imports it inside the function.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "benchmarks"
OUTPUT_DIR = Path(os.environ.get("BENCH_OUTPUT") or BENCH_DIR)  # where results.json / results.md go


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


DURATION = _int("BENCH_DURATION", 10)
CONNECTIONS = _int("BENCH_CONNECTIONS", 16)
WRK_THREADS = 2
# The shop's gunicorn runs with gunicorn.conf.py's own workers and threads (what ships) unless these override them.
WORKERS = _int("BENCH_WORKERS", 0) or None
THREADS = _int("BENCH_THREADS", 0) or None
PRODUCTS = _int("BENCH_PRODUCTS", 10_000)
SEARCH_PRODUCTS = _int("BENCH_SEARCH_PRODUCTS", 100_000)
SCALE = _int("BENCH_SCALE", 0)  # make bench SCALE=N: only the scale scenarios, on N products (benchmarks/bulk_seed.py)
BUYERS = _int("BENCH_BUYERS", 200)
HOT_STOCK = _int("BENCH_HOT_STOCK", BUYERS // 2)
MAX_SECONDS = _int("BENCH_MAX_SECONDS", 2400)
SAMPLES = _int("BENCH_SAMPLES", 200)
ROUNDS = _int("BENCH_ROUNDS", 3)
ONLY = {g.strip() for g in os.environ.get("BENCH_GROUPS", "").split(",") if g.strip()}
MATRIX = os.environ.get("BENCH_MATRIX", "").strip()  # e.g. "2x4,4x4,5x2,3x8,4x4+pool": see parse_matrix
DB_NAME = os.environ.get("BENCH_DATABASE", "shop_bench")
WEBHOOK_SECRET = "whsec_bench_" + "0123456789abcdef" * 2
PYTHON = sys.executable

LIST = "/api/catalog/products/"
CEILING = "/bench/ceiling/"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


class Timeout(Exception):
    pass


def bound_run_time(seconds: int) -> None:
    """Raise Timeout in the main thread after `seconds`, and turn SIGTERM into KeyboardInterrupt, so that the
    caller's `finally` always stops what it started."""

    def on_alarm(signum, frame):
        raise Timeout(f"benchmark exceeded BENCH_MAX_SECONDS={seconds}")

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.alarm(seconds)


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile; NaN for no samples."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def percentiles_ms(times: list[float], *pcts: int) -> dict[str, float]:
    return {f"p{pct}_ms": round(percentile(times, pct), 2) for pct in pcts}


# --- environment, database, seed -------------------------------------------------------------------------------


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


def django_setup() -> None:
    import warnings

    import django

    # WhiteNoise warns that STATIC_ROOT is missing: the API serves no static files in these scenarios.
    warnings.filterwarnings("ignore", message="No directory at")

    django.setup()


def seed(env: dict, total: int) -> str:
    """Bring the catalog to `total` products with `manage.py seed --products N` (idempotent, adds what is missing)."""
    from django.db import connection

    from catalog.models import Product

    started = time.monotonic()
    manage(env, "seed", "--products", str(total), timeout=3600)
    with connection.cursor() as cursor:
        # A production table has planner statistics; a fresh bulk load has none.
        cursor.execute("VACUUM ANALYZE")
    count = Product.objects.count()
    log(
        f"seeded {count} products in {time.monotonic() - started:.0f}s (manage.py seed --products {total}); "
        "VACUUM ANALYZE"
    )
    return f"manage.py seed --products {total}: {count} products"


def redis_cleanup(env: dict) -> None:
    """Delete the run's cache keys and, on a Redis broker, the Celery queue nobody consumed. Best effort."""
    try:
        from django_redis import get_redis_connection

        redis = get_redis_connection("default")
        keys = list(redis.scan_iter(match=f"{env['CACHE_KEY_PREFIX']}:*", count=1000))
        for i in range(0, len(keys), 1000):
            redis.delete(*keys[i : i + 1000])
        if env["CELERY_BROKER_URL"] == env["REDIS_URL"]:
            # Tasks queued by the benchmark (never consumed) and kombu's bindings for that queue.
            redis.delete("celery", "_kombu.binding.celery", "_kombu.binding_permanent.celery")
    except Exception as error:  # noqa: BLE001 - cleanup is best effort
        log(f"redis cleanup failed: {error!r}")


# --- gunicorn ---------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_config(env: dict) -> dict:
    """The settings gunicorn.conf.py gives under `env` (what the shop's gunicorn runs with, less the overrides)."""
    import runpy
    from unittest import mock

    with mock.patch.dict(os.environ, env, clear=True):  # the file reads os.environ, and may set a variable
        config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    return {key: config.get(key) for key in ("worker_class", "workers", "threads", "keepalive", "max_requests")}


def server_shape(env: dict) -> tuple[int, int]:
    """(workers, threads) of the shop's gunicorn: gunicorn.conf.py's, unless BENCH_WORKERS / BENCH_THREADS say."""
    config = gunicorn_config(env)
    return WORKERS or config["workers"], THREADS or config["threads"]


def parse_matrix(text: str) -> list[dict]:
    """BENCH_MATRIX "2x4,4x4+pool" -> [{"label": "2w x 4t", "workers": 2, "threads": 4, "pool": False}, ...].

    Each item is WORKERSxTHREADS, "+pool" runs that server on Django's psycopg pool (benchmarks/settings.py,
    BENCH_DB_POOL) instead of persistent connections.
    """
    shapes = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        match = re.fullmatch(r"(\d+)x(\d+)(\+pool)?", item)
        if not match or not int(match.group(1)) or not int(match.group(2)):
            raise ValueError(f"BENCH_MATRIX item {item!r}: expected WORKERSxTHREADS[+pool], e.g. 4x4+pool")
        workers, threads, pool = int(match.group(1)), int(match.group(2)), bool(match.group(3))
        label = f"{workers}w x {threads}t" + (" pool" if pool else "")
        shapes.append({"label": label, "workers": workers, "threads": threads, "pool": pool})
    return shapes


class Server:
    """gunicorn on loopback, in its own process group so that stop() reaches every worker.

    The shop's runs with gunicorn.conf.py (workers, threads, worker class, keep-alive as shipped) unless
    `workers` / `threads` are given; the BARE ceiling with gunicorn's defaults, only workers and threads set.
    """

    def __init__(
        self,
        env: dict,
        logdir: Path,
        *,
        bare: bool = False,
        workers: int | None = None,
        threads: int | None = None,
        extra_env: dict | None = None,
        name: str = "",
    ):
        self.env = {**env, **(extra_env or {})}
        self.bare = bare  # the BARE ceiling (benchmarks/bare.py): gunicorn defaults, no apps, no middleware
        self.workers, self.threads = workers, threads
        self.port = free_port()
        self.log_path = logdir / f"gunicorn{'-bare' if bare else ''}{'-' + name if name else ''}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Server:
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        shape = []
        if self.workers:
            shape += ["--workers", str(self.workers)]
        if self.threads:
            shape += ["--threads", str(self.threads)]
        if self.bare:
            cmd = [
                PYTHON, "-m", "gunicorn", "benchmarks.bare:application", "--bind", f"127.0.0.1:{self.port}", *shape,
            ]  # fmt: skip
            # gunicorn reads ./gunicorn.conf.py when no --config is given: started from the project's folder, the
            # "defaults" would be the shop's settings (access log, keep-alive...). The scratch folder has none.
            cwd = self.log_path.parent
            pythonpath = os.pathsep.join(p for p in (str(ROOT), self.env.get("PYTHONPATH", "")) if p)
            env = {**self.env, "DJANGO_SETTINGS_MODULE": "benchmarks.bare", "PYTHONPATH": pythonpath}
        else:
            cmd = [
                PYTHON, "-m", "gunicorn", "config.wsgi", "--config", "gunicorn.conf.py",
                "--bind", f"127.0.0.1:{self.port}", *shape,
            ]  # fmt: skip
            env, cwd = self.env, ROOT
        self.proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _, _ = http_get(self.port, "/bench/ceiling/" if self.bare else "/readyz/")
                if status == 200 or (self.bare and status == 503):
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not become ready; see {self.log_path}")
            time.sleep(0.3)
        kind = "bare ceiling" if self.bare else "shop"
        workers, threads = len(self.worker_pids()), self.threads or "gunicorn.conf.py's"
        log(f"gunicorn ({kind}) ready on 127.0.0.1:{self.port} ({workers} workers x {threads} threads)")
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


# --- HTTP -------------------------------------------------------------------------------------------------------


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
    """n sequential timed requests on one keep-alive connection: service time without queueing.

    Timed on the client (perf_counter around request and response): the app sends Server-Timing only
    under DEBUG, and the bench runs with DEBUG=false.
    """
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times, statuses, cache = [], Counter(), Counter()
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
    finally:
        conn.close()
    return {
        "n": n,
        **percentiles_ms(times, 50, 95, 99),
        "statuses": dict(statuses),
        "x_cache": dict(cache),
    }


# --- cache busting: every request its own Host port (the catalog cache key includes request.get_host()) ---------

_bust_counter = [random.randint(1, 9) * 100_000_000]
_host_counter = [random.randint(1, 9) * 1_000_000]


def next_bust_base() -> int:
    """A fresh range of Host ports for one scenario, never reused in this run."""
    _bust_counter[0] += 50_000_000
    return _bust_counter[0]


def unique_host() -> str:
    _host_counter[0] += 1
    return f"127.0.0.1:{_host_counter[0]}"


# --- wrk --------------------------------------------------------------------------------------------------------


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


def start_wrk(
    port,
    path,
    *,
    requests_file: Path | None = None,
    bust: bool = False,
    duration: int = DURATION,
    headers: dict | None = None,
    connections: int = CONNECTIONS,
    count_cache: bool = False,
) -> Wrk:
    """wrk against 127.0.0.1:port, running in the background; Wrk.result() waits for it (or stop() ends it early)."""
    env = {**os.environ, "BENCH_WRK_THREADS": str(min(WRK_THREADS, connections))}
    for key in ("BENCH_DYNAMIC", "BENCH_REQUESTS_FILE", "BENCH_BUST_HOST", "BENCH_COUNT_CACHE"):
        env.pop(key, None)
    if requests_file or bust:
        env["BENCH_DYNAMIC"] = "1"
    if requests_file:
        env["BENCH_REQUESTS_FILE"] = str(requests_file)
    if bust:
        env["BENCH_BUST_HOST"] = str(next_bust_base())
    if count_cache:  # count the X-Cache answers (wrk then parses every response's headers)
        env["BENCH_COUNT_CACHE"] = "1"
    header_args = [arg for name, value in (headers or {}).items() for arg in ("-H", f"{name}: {value}")]
    cmd = [
        "wrk", f"-t{min(WRK_THREADS, connections)}", f"-c{connections}", f"-d{duration}s", "--latency",
        "--timeout", "10s", *header_args, "-s", str(BENCH_DIR / "wrk.lua"), f"http://127.0.0.1:{port}{path}",
    ]  # fmt: skip
    return Wrk(cmd, subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), duration)


class Wrk:
    def __init__(self, cmd: list[str], proc: subprocess.Popen, duration: int):
        self.cmd, self.proc, self.duration = cmd, proc, duration

    def stop(self) -> dict:
        """End the run now (wrk stops on SIGINT and reports what it measured so far)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        return self.result()

    def result(self) -> dict:
        try:
            out, err = self.proc.communicate(timeout=self.duration + 60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        if self.proc.returncode != 0:
            raise RuntimeError(f"wrk failed: {err}\n{out}")
        return parse_wrk(out, self.cmd)


def parse_wrk(out: str, cmd: list[str]) -> dict:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    dist = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, flags=re.M))
    extra = json.loads(re.search(r"^BENCH_JSON (.*)$", out, flags=re.M).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    result = {
        "rps": round(float(rps.group(1)), 1) if rps else None,
        "p50_ms": round(parse_latency(dist.get("50", "")), 2),
        "p75_ms": round(parse_latency(dist.get("75", "")), 2),
        "p90_ms": round(parse_latency(dist.get("90", "")), 2),
        "p95_ms": round(extra["p95_us"] / 1000, 2),
        "p99_ms": round(parse_latency(dist.get("99", "")), 2),
        "requests": extra["requests"],
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": extra["errors_connect"]
        + extra["errors_read"]
        + extra["errors_write"]
        + extra["errors_timeout"],
        "wrapped": extra["wrapped"],
        "command": " ".join(arg if " " not in arg else repr(arg) for arg in cmd[:-3] + ["wrk.lua", cmd[-1]]),
    }
    counted = sum(extra.get("x_cache", {}).values())
    if counted:  # BENCH_COUNT_CACHE
        result["x_cache"] = extra["x_cache"]
        result["hit_ratio"] = round(extra["x_cache"].get("HIT", 0) / counted, 3)
        result["statuses"] = extra["statuses"]
    return result


def run_wrk(port, path, **options) -> dict:
    """wrk for `duration` seconds (start_wrk's options), its figures once it is done."""
    return start_wrk(port, path, **options).result()


# --- SQL queries per request, in-process (django.test.Client against the same database and cache) ---------------

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
