"""Settings are read from the environment; each case runs in a fresh interpreter."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRINT_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'debug': s.DEBUG, 'engine': s.DATABASES['default']['ENGINE'], "
    "'sqlite_mode': s.DATABASES['default'].get('OPTIONS', {}).get('transaction_mode'), "
    "'cache': s.CACHES['default']['BACKEND'], 'eager': s.CELERY_TASK_ALWAYS_EAGER, "
    "'email': s.EMAIL_BACKEND, 'ssl_redirect': s.SECURE_SSL_REDIRECT, 'hsts': s.SECURE_HSTS_SECONDS, "
    "'secure_cookies': s.SESSION_COOKIE_SECURE, 'hosts': s.ALLOWED_HOSTS, "
    "'shipping': str(s.SHIPPING_FEE), 'free_from': str(s.FREE_SHIPPING_MIN_SUBTOTAL)}))"
)

CONFIG_VARS = [
    "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "EMAIL_HOST",
    "HTTPS_ONLY", "SHIPPING_FEE", "FREE_SHIPPING_MIN_SUBTOTAL", "DJANGO_SETTINGS_MODULE",
]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    clean["DJANGO_SETTINGS_MODULE"] = "config.settings"
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


def run_settings(**env: str) -> subprocess.CompletedProcess:
    return run_python(PRINT_SETTINGS, **env)


REFUSAL = "SECRET_KEY is the development key but DEBUG is false"


@pytest.mark.parametrize("entry_point", ["import config.wsgi", "import config.asgi"])
def test_debug_false_with_the_development_key_refuses_to_serve(entry_point):
    result = run_python(entry_point, DEBUG="false")
    assert result.returncode != 0
    assert REFUSAL in result.stderr


def test_unset_debug_means_false_and_the_web_process_needs_a_real_key():
    result = run_python("import config.wsgi")
    assert result.returncode != 0
    assert REFUSAL in result.stderr


@pytest.mark.parametrize("signal", ["worker_init", "beat_init"])
def test_celery_worker_and_beat_refuse_the_development_key(signal):
    code = f"import django; django.setup(); import config.celery; from celery.signals import {signal}; "
    code += f"{signal}.send(None)"
    result = run_python(code, DEBUG="false")
    assert result.returncode != 0
    assert REFUSAL in result.stderr


def test_a_real_key_serves_with_debug_false():
    result = run_python("import config.wsgi", SECRET_KEY="a-real-secret-key-for-this-test-0123456789")
    assert result.returncode == 0, result.stderr


def test_offline_commands_run_without_a_real_key():
    # what CI and the pre-stop hook run: migrations in step with models, a clean schema
    commands = (
        ["makemigrations", "--check", "--dry-run"],
        ["spectacular", "--validate", "--fail-on-warn", "--file", os.devnull],
    )
    for command in commands:
        clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
        result = subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr


def test_embedded_default_needs_no_services():
    result = run_settings(DEBUG="true")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["debug"] is True
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["sqlite_mode"] == "IMMEDIATE"
    assert values["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert values["eager"] is True
    assert values["email"] == "django.core.mail.backends.console.EmailBackend"
    assert values["hosts"] == ["localhost", "127.0.0.1"]
    assert values["shipping"] == "0.00"
    assert values["free_from"] == "None"


def test_services_are_used_when_configured():
    result = run_settings(
        SECRET_KEY="a-real-secret-key-for-this-test-0123456789",
        DATABASE_URL="postgres://shop:pw@db.internal:5432/shop",
        REDIS_URL="redis://cache.internal:6379/0",
        CELERY_BROKER_URL="redis://cache.internal:6379/1",
        EMAIL_HOST="smtp.internal",
        ALLOWED_HOSTS="shop.example.com, api.example.com",
        SHIPPING_FEE="4.5",
        FREE_SHIPPING_MIN_SUBTOTAL="50",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["debug"] is False
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["cache"] == "django_redis.cache.RedisCache"
    assert values["eager"] is False
    assert values["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert values["hosts"] == ["shop.example.com", "api.example.com"]
    assert values["shipping"] == "4.50"
    assert values["free_from"] == "50.00"
    assert values["ssl_redirect"] is False  # DEBUG=false still works over plain HTTP


def test_https_only_switches_on_tls_settings():
    result = run_settings(SECRET_KEY="a-real-secret-key-for-this-test-0123456789", HTTPS_ONLY="true")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["ssl_redirect"] is True
    assert values["hsts"] == 31536000
    assert values["secure_cookies"] is True
