"""Headers a browser storefront relies on: CORS for the allowed origins, X-Request-ID on every response and
in every log line; no Server-Timing outside DEBUG."""

import logging

import pytest
from django.test import Client

from config.request_id import RequestIdFilter
from tests.factories import ProductFactory

STOREFRONT = "http://localhost:3000"  # the origin of the default FRONTEND_URL
PRODUCTS = "/api/catalog/products/"
ALLOWED_HEADERS = {"authorization", "content-type", "idempotency-key", "x-cart-token", "x-order-token", "if-none-match"}
EXPOSED_HEADERS = {"X-Cart-Token", "ETag", "Idempotent-Replayed", "X-Request-ID"}


def header_set(value: str) -> set[str]:
    return {part.strip() for part in value.split(",") if part.strip()}


# --- CORS -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_storefront_origin_is_allowed_and_sees_the_exposed_headers(client):
    response = client.get("/api/catalog/categories/", HTTP_ORIGIN=STOREFRONT)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == STOREFRONT
    assert header_set(response["Access-Control-Expose-Headers"]) == EXPOSED_HEADERS
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.django_db
def test_another_origin_gets_no_cors_header(client):
    response = client.get("/api/catalog/categories/", HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


def test_a_preflight_allows_the_methods_and_headers_the_api_uses(client):
    response = client.options(
        "/api/orders/",
        HTTP_ORIGIN=STOREFRONT,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key",
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == STOREFRONT
    assert header_set(response["Access-Control-Allow-Headers"]) == ALLOWED_HEADERS
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= header_set(response["Access-Control-Allow-Methods"])
    assert "Access-Control-Allow-Credentials" not in response


def test_a_preflight_from_another_origin_is_not_allowed(client):
    response = client.options(
        "/api/orders/", HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.django_db
def test_the_catalogs_early_cache_hit_carries_cors_and_request_id(client):
    ProductFactory()
    assert client.get(PRODUCTS, HTTP_ORIGIN=STOREFRONT)["X-Cache"] == "MISS"

    hit = client.get(PRODUCTS, HTTP_ORIGIN=STOREFRONT, HTTP_X_REQUEST_ID="hit-1")

    assert hit["X-Cache"] == "HIT"
    assert hit["Access-Control-Allow-Origin"] == STOREFRONT
    assert header_set(hit["Access-Control-Expose-Headers"]) == EXPOSED_HEADERS
    assert hit["X-Request-ID"] == "hit-1"


def test_cors_allowed_origins_is_read_from_the_environment():
    from tests.ops.test_settings import run_python

    show = "import django; django.setup(); from django.conf import settings as s; print(s.CORS_ALLOWED_ORIGINS)"
    assert run_python(show, FRONTEND_URL="https://shop.example/app/").stdout.strip() == "['https://shop.example']"
    listed = run_python(show, CORS_ALLOWED_ORIGINS="https://a.example, https://b.example:8443").stdout.strip()
    assert listed == "['https://a.example', 'https://b.example:8443']"


# --- X-Request-ID -----------------------------------------------------------------------------


def test_a_valid_request_id_is_echoed(client):
    response = client.get("/healthz/", HTTP_X_REQUEST_ID="storefront.42_a-B")
    assert response["X-Request-ID"] == "storefront.42_a-B"


@pytest.mark.parametrize("sent", [None, "", "has space", "semi;colon", "ü", "x" * 201])
def test_a_missing_or_invalid_request_id_is_replaced(client, sent):
    extra = {} if sent is None else {"HTTP_X_REQUEST_ID": sent}
    response = client.get("/healthz/", **extra)
    generated = response["X-Request-ID"]
    assert generated != sent
    assert len(generated) == 32 and int(generated, 16) >= 0  # a uuid4 hex


def test_two_requests_get_two_ids(client):
    assert client.get("/healthz/")["X-Request-ID"] != client.get("/healthz/")["X-Request-ID"]


def test_the_longest_valid_id_is_kept(client):
    assert client.get("/healthz/", HTTP_X_REQUEST_ID="a" * 200)["X-Request-ID"] == "a" * 200


@pytest.mark.django_db
def test_error_responses_carry_the_request_id(client):
    assert client.get("/api/no-such-path/", HTTP_X_REQUEST_ID="e404")["X-Request-ID"] == "e404"
    assert client.get("/api/users/me/", HTTP_X_REQUEST_ID="e401")["X-Request-ID"] == "e401"
    assert client.get("/healthz/", HTTP_HOST="evil.example", HTTP_X_REQUEST_ID="e400")["X-Request-ID"] == "e400"


def test_an_unhandled_exception_answers_500_with_the_request_id(settings):
    settings.ROOT_URLCONF = "tests.ops.boom_urls"
    response = Client(raise_request_exception=False).get("/boom/", HTTP_X_REQUEST_ID="e500")
    assert response.status_code == 500
    assert response["X-Request-ID"] == "e500"


@pytest.mark.django_db
def test_log_lines_of_a_request_carry_its_id(client, caplog):
    # when: a request that logs (Django logs every 4xx/5xx on django.request)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get("/api/no-such-path/", HTTP_X_REQUEST_ID="trace-me")

    # then: the record carries the id, and the configured text format prints it
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.request_id == "trace-me"
    (console,) = [h for h in logging.getLogger().handlers if any(isinstance(f, RequestIdFilter) for f in h.filters)]
    assert "[trace-me]" in console.format(record)


def test_log_lines_outside_a_request_say_so():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    RequestIdFilter().filter(record)
    assert record.request_id == "-"


# --- Server-Timing ----------------------------------------------------------------------------


def test_no_server_timing_outside_debug(client):
    assert "Server-Timing" not in client.get("/healthz/")


def test_server_timing_under_debug(settings):
    settings.DEBUG = True
    response = Client().get("/healthz/")  # a new client loads the middleware chain anew
    assert response["Server-Timing"].startswith("app;dur=")
    assert float(response["Server-Timing"].removeprefix("app;dur=")) >= 0


@pytest.mark.django_db
def test_log_lines_written_inside_a_view_carry_the_id(client, caplog):
    # a failed login logs from inside the view (django-axes records the failure)
    with caplog.at_level(logging.WARNING, logger="axes"):
        client.post(
            "/api/auth/token/",
            {"email": "nobody@example.com", "password": "wrong"},
            content_type="application/json",
            HTTP_X_REQUEST_ID="login-7",
        )

    records = [r for r in caplog.records if r.name.startswith("axes")]
    assert records and {r.request_id for r in records} == {"login-7"}
