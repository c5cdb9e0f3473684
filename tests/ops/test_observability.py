"""JSON logs (LOG_FORMAT=json) and Sentry (SENTRY_DSN): what an operator's log pipeline and Sentry receive."""

import gzip
import io
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from celery import shared_task
from django.test import Client
from rest_framework_simplejwt.tokens import RefreshToken

from config.logs import CeleryTaskFilter, JsonFormatter
from config.request_id import RequestIdFilter
from tests.ops.test_settings import run_python


@pytest.fixture
def json_lines():
    """Records of every logger, formatted as the JSON handler does, one parsed object per line."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(CeleryTaskFilter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


@pytest.mark.django_db
def test_json_access_line_per_request_with_request_id_user_path_status_duration(settings, json_lines, user):
    settings.LOG_FORMAT = "json"
    client = Client()  # a new handler loads the middleware with the setting above
    token = RefreshToken.for_user(user).access_token  # DRF authenticates in the view: the line still has the user

    response = client.get("/api/users/me/", HTTP_X_REQUEST_ID="req-json-1", HTTP_AUTHORIZATION=f"Bearer {token}")

    access = [line for line in json_lines() if line["logger"] == "shop.access"]
    assert len(access) == 1
    line = access[0]
    assert {"time", "level", "logger", "message"} <= set(line)
    assert line["request_id"] == "req-json-1"
    assert line["user_id"] == user.pk
    assert line["path"] == "/api/users/me/"
    assert response.status_code == 200
    assert line["status"] == 200
    assert line["method"] == "GET"
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "INFO"


@pytest.mark.django_db
def test_no_access_lines_from_the_app_with_text_logs(settings, json_lines):
    settings.LOG_FORMAT = "text"  # gunicorn's own access log does the job
    Client().get("/healthz/")
    assert not [line for line in json_lines() if line["logger"] == "shop.access"]


def test_a_log_line_inside_a_celery_task_names_the_task(json_lines):
    @shared_task(name="tests.observability.logs_something")
    def logs_something():
        logging.getLogger("tests.task").info("inside the task")

    result = logs_something.apply(task_id="task-id-42")

    line = next(line for line in json_lines() if line["logger"] == "tests.task")
    assert result.successful()
    assert line["message"] == "inside the task"
    assert line["task_id"] == "task-id-42"
    assert line["task_name"] == "tests.observability.logs_something"


def test_exceptions_are_one_line_with_the_traceback(json_lines):
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("tests.exc").exception("failed")
    line = next(line for line in json_lines() if line["logger"] == "tests.exc")
    assert line["level"] == "ERROR"
    assert "ValueError: boom" in line["exc"]


def test_settings_choose_the_json_formatter_only_for_log_format_json():
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.LOG_FORMAT, s.LOGGING['handlers']['console']['formatter']]))"
    )
    assert json.loads(run_python(code, LOG_FORMAT="json").stdout) == ["json", "json"]
    assert json.loads(run_python(code).stdout) == ["text", "plain"]


class _FakeSentry(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        type(self).received.append((self.path, body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_sentry():
    _FakeSentry.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeSentry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


CAPTURE = (
    "import django; django.setup(); import sentry_sdk; "
    "print('active' if sentry_sdk.get_client().is_active() else 'off'); "
    "sentry_sdk.capture_exception(RuntimeError('sentry-probe-7')); sentry_sdk.flush(timeout=5)"
)


def test_errors_go_to_sentry_when_a_dsn_is_set(fake_sentry):
    port = fake_sentry.server_address[1]
    result = run_python(CAPTURE, SENTRY_DSN=f"http://publickey@127.0.0.1:{port}/42")

    assert result.stdout.strip() == "active", result.stderr
    paths = [path for path, _ in _FakeSentry.received]
    assert paths and all(path.startswith("/api/42/envelope/") for path in paths)
    assert any(b"sentry-probe-7" in body for _, body in _FakeSentry.received)


def test_sentry_is_off_without_a_dsn(fake_sentry):
    result = run_python(CAPTURE, SENTRY_DSN="")
    assert result.stdout.strip() == "off", result.stderr
    assert _FakeSentry.received == []
