"""A live shop for browser tests and schema fuzzing: gunicorn with DEBUG=false on PostgreSQL + Redis.

The server runs in its own process on its own database (`<DATABASE_URL name>_e2e`, recreated each
session), so these tests talk to it only as a user would: over HTTP and through a browser.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "tests" / "e2e" / "screenshots"
STAFF_EMAIL = "e2e-staff@example.com"
STAFF_PASSWORD = "e2e-Staff-password-42"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# The test storefront's own origin (tests/e2e/storefront, served by test_storefront.py): the live server allows it.
STOREFRONT_PORT = int(os.environ.get("E2E_STOREFRONT_PORT", "17531"))
STOREFRONT_ORIGIN = f"http://127.0.0.1:{STOREFRONT_PORT}"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _recreate_database(url: str) -> str:
    parts = urlsplit(url)
    name = parts.path.lstrip("/") + "_e2e"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def fake_stripe_server():
    """Stripe is the one service we cannot reach: the live server talks to the local fake over HTTP."""
    from payments.devstripe.hosted import HostedStripe

    # make run's double (the tests' fake plus the hosted page); it can refund the seeded demo payments.
    server = HostedStripe(host="127.0.0.1", port=0, forward_to="http://127.0.0.1/api/payments/webhook/",
                          webhook_secret="whsec_e2e_0123456789abcdef").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live_env(fake_stripe_server) -> dict:
    database_url = _recreate_database(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shop"))
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "CELERY_BROKER_URL", "EMAIL_HOST", "HTTPS_ONLY"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="false",
        SECRET_KEY="e2e-secret-key-not-for-production-0123456789abcdef",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CACHE_KEY_PREFIX=f"e2e-{os.getpid()}",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        AUTH_THROTTLE_RATE="10000/minute",
        COUPON_THROTTLE_RATE="10000/minute",
        CORS_ALLOWED_ORIGINS=STOREFRONT_ORIGIN,
        LOW_STOCK_THRESHOLD="5",
        STRIPE_SECRET_KEY="sk_test_e2e_0123456789",
        STRIPE_WEBHOOK_SECRET="whsec_e2e_0123456789abcdef",
        STRIPE_API_BASE=fake_stripe_server.url,
        DJANGO_SUPERUSER_EMAIL=STAFF_EMAIL,
        DJANGO_SUPERUSER_PASSWORD=STAFF_PASSWORD,
    )
    return env


@pytest.fixture(scope="session")
def shop_server(live_env):
    """Base URL of a migrated, seeded gunicorn server; stopped at the end of the session."""
    python = sys.executable
    for command in (
        ["migrate", "--noinput"],
        ["collectstatic", "--noinput"],
        ["seed", "--products", "40"],
        ["createsuperuser", "--noinput"],
    ):
        subprocess.run([python, "manage.py", *command], cwd=ROOT, env=live_env, check=True, capture_output=True)

    port = _free_port()
    log = open(ROOT / "tests" / "e2e" / "gunicorn.log", "w")  # noqa: SIM115 - closed at teardown
    server = subprocess.Popen(
        [python, "-m", "gunicorn", "config.wsgi", "--config", "gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4"],
        cwd=ROOT, env=live_env, stdout=log, stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{base_url}/readyz/", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:  # refused, reset or timed out while gunicorn boots
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(f"gunicorn did not become ready; see {log.name}")
        time.sleep(0.3)
    yield base_url
    server.terminate()
    server.wait(timeout=15)
    log.close()


def api(base_url: str, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    """A tiny JSON client for setting up state over HTTP."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base_url}{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, (json.loads(raw) if raw else {})
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, (json.loads(raw) if raw else {})


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `apt-get install chromium` (.ci/run does this)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    context.close()
