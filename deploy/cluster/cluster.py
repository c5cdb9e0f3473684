"""A local cluster of real processes on loopback: what production runs, on one machine, for tests and demos.

    HAProxy :18080 ──┬── gunicorn web-a :18001 (2 workers) ──┐
                     └── gunicorn web-b :18002 (2 workers) ──┼── PostgreSQL primary :18432 ── streaming replica :18433
    Celery worker-1, worker-2 (RabbitMQ vhost shop-cluster) ─┤   Redis :18379 (cache)
    Celery beat ─────────────────────────────────────────────┘

Everything lives under one state directory (default /tmp/shop-cluster) and is recreated by `up`: a fresh
PostgreSQL cluster (initdb, run as the `postgres` OS user when started as root) with a replica made by
`pg_basebackup -R`, a private redis-server, a fresh RabbitMQ vhost. Needs haproxy, PostgreSQL 15's server
binaries, redis-server and a running RabbitMQ (`rabbitmqctl` for the vhost).

    python deploy/cluster/cluster.py up      # start, migrate, and stay up until Ctrl-C (`make cluster`)
    python deploy/cluster/cluster.py down    # stop what a previous `up` left running

The tests (tests/cluster/) import `Cluster` and drive it: kill an instance, stop the replica, and so on.
"""

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PYTHON = sys.executable

HTTP_PORT = 18080
WEB_PORTS = {"web-a": 18001, "web-b": 18002}
PRIMARY_PORT = 18432
REPLICA_PORT = 18433
REDIS_PORT = 18379
CHECK_INTER_MS = 500  # HAProxy's health check interval; two failures mark an instance down
VHOST = "shop-cluster"
METRICS_TOKEN = "cluster-metrics-token"  # a loopback-only demo cluster
STAFF_EMAIL = "staff@cluster.local"
STAFF_PASSWORD = "cluster-Staff-password-42"


@dataclass
class Cluster:
    state: Path = Path(os.environ.get("CLUSTER_DIR", "/tmp/shop-cluster"))
    celery_app: str = "config"  # the tests pass a module that slows webhook processing down
    extra_env: dict = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    # --- addresses --------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{HTTP_PORT}"

    def web_url(self, name: str) -> str:
        return f"http://127.0.0.1:{WEB_PORTS[name]}"

    @property
    def database_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{PRIMARY_PORT}/shop"

    @property
    def replica_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{REPLICA_PORT}/shop"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of every app process: the README's Configuration variables, nothing else."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PROMETHEUS_", "CELERY_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DEBUG="false",
            SECRET_KEY="cluster-secret-key-not-for-production-0123456789abcdef",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            DATABASE_URL=self.database_url,
            DATABASE_REPLICA_URL=self.replica_url,
            REDIS_URL=f"redis://127.0.0.1:{REDIS_PORT}/0",
            CACHE_KEY_PREFIX="shop-cluster",
            CELERY_BROKER_URL=f"amqp://guest:guest@127.0.0.1:5672/{VHOST}",
            TRUSTED_PROXY_COUNT="0",
            AUTH_THROTTLE_RATE="100000/minute",
            COUPON_THROTTLE_RATE="100000/minute",
            METRICS_TOKEN=METRICS_TOKEN,
            LOG_FORMAT="json",
            DJANGO_SUPERUSER_EMAIL=STAFF_EMAIL,
            DJANGO_SUPERUSER_PASSWORD=STAFF_PASSWORD,
        )
        env.update(self.extra_env)
        env.update(extra)
        return env

    # --- helpers ----------------------------------------------------------------------------------
    def _log(self, name: str):
        return open(self.state / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child process

    def _as_postgres(self, args: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args

    def _run(self, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)

    def spawn(self, name: str, args: list[str], **env: str) -> subprocess.Popen:
        """Start a process in its own process group (so `kill` takes its children too)."""
        process = subprocess.Popen(
            args, cwd=ROOT, env=self.env(**env), stdout=self._log(name), stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        (self.state / "pids.json").write_text(json.dumps({n: p.pid for n, p in self.processes.items()}))
        return process

    def manage(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return self._run([PYTHON, "manage.py", *args], cwd=ROOT, env=self.env(), **kwargs)

    def wait_http(self, url: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{url} did not answer 200 within {timeout:.0f} s")

    # --- PostgreSQL -------------------------------------------------------------------------------
    def _pg_ctl(self, data: Path, action: str, port: int | None = None) -> None:
        args = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-t", "60"]
        if action == "start":
            args += ["-l", str(self.state / f"{data.name}.log"), "-o", f"-p {port} -k {self.state / 'sock'}", "start"]
        else:
            args += ["-m", "immediate" if action == "kill" else "fast", "stop"]
        self._run(self._as_postgres(args))

    def start_postgres(self) -> None:
        primary, replica = self.state / "primary", self.state / "replica"
        sock = self.state / "sock"
        sock.mkdir()
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root: its files belong to `postgres`
            shutil.chown(self.state, "postgres")
            shutil.chown(sock, "postgres")
        self._run(self._as_postgres([
            str(PG_BIN / "initdb"), "-D", str(primary), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8",
        ]))
        with open(primary / "postgresql.conf", "a") as conf:
            # A test cluster: durability traded for speed; replication on loopback.
            conf.write(
                "listen_addresses = '127.0.0.1'\nfsync = off\nfull_page_writes = off\n"
                "max_connections = 200\nshared_buffers = 64MB\nwal_level = replica\nmax_wal_senders = 4\n"
                "hot_standby = on\n"
            )
        self._pg_ctl(primary, "start", PRIMARY_PORT)
        self._run(self._as_postgres([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(PRIMARY_PORT), "shop"]))
        self._run(self._as_postgres([
            str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(PRIMARY_PORT), "-U", "postgres",
            "-D", str(replica), "-R", "-X", "stream", "--no-sync", "--checkpoint=fast",
        ]))
        self.start_replica()
        # A commit returns once the replica has applied it, so a read that starts after a write's commit sees
        # it on the replica too (catalog reads are never stale). The price: with the replica down, commits
        # wait for it. An asynchronous replica instead serves reads up to its lag old.
        self.psql("ALTER SYSTEM SET synchronous_standby_names = '*'")
        self.psql("ALTER SYSTEM SET synchronous_commit = 'remote_apply'")
        self.psql("SELECT pg_reload_conf()")

    def psql(self, sql: str, port: int = PRIMARY_PORT, database: str = "postgres") -> str:
        return self._run(self._as_postgres([
            str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", database, "-Atc", sql,
        ])).stdout.strip()

    def start_replica(self) -> None:
        self._pg_ctl(self.state / "replica", "start", REPLICA_PORT)

    def stop_replica(self) -> None:
        self._pg_ctl(self.state / "replica", "kill")


    # --- RabbitMQ ---------------------------------------------------------------------------------
    def fresh_vhost(self) -> None:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", VHOST], capture_output=True)  # absent is fine
        self._run(["rabbitmqctl", "-q", "add_vhost", VHOST])
        self._run(["rabbitmqctl", "-q", "set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*"])

    # --- the app ----------------------------------------------------------------------------------
    def start_web(self, name: str) -> None:
        metrics_dir = self.state / f"metrics-{name}"
        metrics_dir.mkdir(exist_ok=True)
        self.spawn(
            name,
            [PYTHON, "-m", "gunicorn", "config.wsgi", "--config", "gunicorn.conf.py", "--bind",
             f"127.0.0.1:{WEB_PORTS[name]}", "--workers", "2", "--threads", "4"],
            PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        )

    def start_worker(self, name: str) -> None:
        # The workers write their samples next to web-a's (started before them, so its cleanup at start is
        # over): one scrape of web-a shows the Celery task metrics too.
        self.spawn(
            name,
            [PYTHON, "-m", "celery", "-A", self.celery_app, "worker", "-n", f"{name}@cluster", "--concurrency", "1",
             "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
            PROMETHEUS_MULTIPROC_DIR=str(self.state / "metrics-web-a"),
        )

    def kill(self, name: str) -> None:
        """`kill -9` the process and everything it started (its process group)."""
        process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def up(self) -> "Cluster":
        self.down()
        if self.state.exists():
            shutil.rmtree(self.state)
        self.state.mkdir(parents=True)
        self.spawn("redis", ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"])
        self.start_postgres()
        self.fresh_vhost()
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")
        self.manage("createsuperuser", "--noinput")
        for name in WEB_PORTS:
            self.start_web(name)
        for name in WEB_PORTS:
            self.wait_http(f"{self.web_url(name)}/readyz/", timeout=90)
        for name in ("worker-1", "worker-2"):
            self.start_worker(name)
        self.spawn("beat", [PYTHON, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
                            "--schedule", str(self.state / "beat-schedule")])
        self.spawn("haproxy", ["haproxy", "-f", str(ROOT / "deploy" / "cluster" / "haproxy.cfg"), "-db"],
                   CLUSTER_HTTP_PORT=str(HTTP_PORT), CLUSTER_WEB_A_PORT=str(WEB_PORTS["web-a"]),
                   CLUSTER_WEB_B_PORT=str(WEB_PORTS["web-b"]), CLUSTER_CHECK_INTER_MS=str(CHECK_INTER_MS))
        self.wait_http(f"{self.url}/readyz/")
        return self

    def down(self) -> None:
        """Stop every process of this or an earlier `up` (by the pids it recorded) and both PostgreSQLs."""
        pids = {name: process.pid for name, process in self.processes.items()}
        recorded = self.state / "pids.json"
        if recorded.exists():
            pids = {**json.loads(recorded.read_text()), **pids}
        for pid in pids.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for data in ("replica", "primary"):
            if (self.state / data / "postmaster.pid").exists():
                subprocess.run(self._as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.state / data),
                                                  "-m", "immediate", "stop"]), capture_output=True)
        self.processes.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["up", "down"])
    action = parser.parse_args().action
    cluster = Cluster()
    if action == "down":
        cluster.down()
        return
    started = time.monotonic()
    cluster.up()
    print(f"Cluster up in {time.monotonic() - started:.0f} s: {cluster.url} (HAProxy), admin {STAFF_EMAIL} / "
          f"{STAFF_PASSWORD}, /metrics with 'Authorization: Bearer {METRICS_TOKEN}', logs in {cluster.state}. "
          "Ctrl-C stops it.", flush=True)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        cluster.down()


if __name__ == "__main__":
    main()
