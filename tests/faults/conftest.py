"""Real parts for the fault tests: private redis-server processes (cache, broker) and real Celery workers.

Everything listens on 127.0.0.1 ports 17000-17099 and is stopped at the end of the module. Each test
appends what it injected, what the client saw, what was lost and how long recovery took to FAULTS,
printed in the terminal summary.
"""

import email
import email.header
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.db import connection

from config.celery import app
from tests.payments.conftest import fake_stripe, fake_stripe_server  # noqa: F401 (fixtures used here)

ROOT = Path(__file__).resolve().parents[2]
CACHE_PORT = 17001
BROKER_PORT = 17002
FAULTS: list[dict] = []


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.05):
    """Poll until predicate() is truthy; its value, or None after the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value or None
        time.sleep(interval)


class RedisServer:
    """A throwaway redis-server without persistence: kill() is a crash, start() an empty restart."""

    def __init__(self, port: int, workdir: Path):
        self.port, self.workdir, self.process = port, workdir, None
        self.url = f"redis://127.0.0.1:{port}/0"

    def ping(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
        except redis.RedisError:
            return False

    def start(self) -> "RedisServer":
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--logfile", str(self.workdir / f"redis-{self.port}.log")],
        )  # fmt: skip
        assert wait_for(self.ping, timeout=15), f"redis-server on {self.port} did not start"
        return self

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


class Worker:
    """`celery -A config worker` in its own process group, on the private broker and the test database."""

    def __init__(self, workdir: Path, env: dict, name: str):
        self.workdir, self.env, self.name, self.process = workdir, env, name, None
        self.log_path = workdir / f"{name}.log"

    def start(self, **extra_env) -> "Worker":
        log = open(self.log_path, "w")  # noqa: SIM115 (handed to the child)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-l", "info",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{self.name}@%h"],
            cwd=ROOT, env={**self.env, **extra_env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        log.close()
        ready = wait_for(lambda: "ready." in self.log_path.read_text() or self.process.poll() is not None, 60, 0.1)
        assert ready and self.process.poll() is None, f"worker did not start:\n{self.log_path.read_text()[-3000:]}"
        return self

    def kill(self) -> None:
        """SIGKILL the whole worker (no warm shutdown, no ack, no restore)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def _forget_broker_state() -> None:
    # Pools and queue declarations are built lazily from the config of their time; drop them when it changes.
    app._pool = None
    app.amqp._producer_pool = None
    for cached in ("queues", "default_queue"):
        app.amqp.__dict__.pop(cached, None)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("faults")


@pytest.fixture(scope="module")
def broker(workdir):
    """A private Redis broker; this process publishes to it (not eager) for the module's duration."""
    server = RedisServer(BROKER_PORT, workdir).start()
    keys = ("broker_url", "task_always_eager", "broker_transport_options")
    previous = {key: app.conf[key] for key in keys}
    app.conf.broker_url = server.url
    app.conf.task_always_eager = False
    app.conf.broker_transport_options = {"socket_connect_timeout": 0.5, "socket_timeout": 2}
    _forget_broker_state()
    yield server
    for key, value in previous.items():
        app.conf[key] = value
    _forget_broker_state()
    server.kill()


@pytest.fixture(scope="module")
def cache_server(workdir):
    server = RedisServer(CACHE_PORT, workdir).start()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def email_dir(workdir) -> Path:
    path = workdir / "emails"
    path.mkdir()
    return path


@pytest.fixture(scope="module")
def worker_env(
    workdir, email_dir, broker, cache_server, django_db_setup, django_db_blocker, fake_stripe_server  # noqa: F811
) -> dict:
    with django_db_blocker.unblock():
        db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.faults.worker_settings",
        "DATABASE_URL": f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": cache_server.url,
        "CELERY_BROKER_URL": broker.url,
        "FAULT_EMAIL_DIR": str(email_dir),
        "FAULT_TASK_LOG": str(workdir / "tasks.log"),
        "STRIPE_SECRET_KEY": "sk_test_fake_0123456789",
        "STRIPE_API_BASE": fake_stripe_server.url,
        "STRIPE_WEBHOOK_SECRET": "whsec_test_0123456789abcdef",
    }


@pytest.fixture(scope="module")
def workers(workdir, worker_env):
    """Start workers on demand (`workers.start()`); all are stopped at the end of the module."""

    class Workers:
        started: list[Worker] = []

        def start(self, **extra_env) -> Worker:
            worker = Worker(workdir, worker_env, f"fault{len(self.started) + 1}")
            self.started.append(worker)
            return worker.start(**extra_env)

    pool = Workers()
    yield pool
    for worker in pool.started:
        worker.stop()


@pytest.fixture(scope="module")
def task_log(workdir):
    path = workdir / "tasks.log"
    path.touch()

    def runs(event: str, task_name: str) -> list[str]:
        """Task ids of every `start` or `done` of that task, in order."""
        return [line.split()[2] for line in path.read_text().splitlines() if line.split()[:2] == [event, task_name]]

    return runs


@pytest.fixture
def sent_emails(email_dir):
    """(to, subject) of every email the worker wrote (the file backend: messages split by a dashed line)."""

    def read() -> list[tuple[str, str]]:
        found = []
        for path in sorted(email_dir.iterdir()):
            for chunk in path.read_text().split("-" * 79):
                if chunk.strip():
                    message = email.message_from_string(chunk.strip())
                    subject = email.header.make_header(email.header.decode_header(message["Subject"]))
                    found.append((message["To"], str(subject)))
        return found

    return read


def pytest_terminal_summary(terminalreporter):
    if not FAULTS:
        return
    terminalreporter.section("fault injection results")
    for fault in FAULTS:
        terminalreporter.write_line(
            f"{fault['fault']}: client saw {fault['client_saw']}; lost: {fault['lost']}; "
            f"recovery {fault['recovery_s']:.2f} s" + (f"; {fault['note']}" if fault.get("note") else "")
        )
