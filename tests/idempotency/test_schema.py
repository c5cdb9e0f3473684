"""The OpenAPI schema documents the headers a browser storefront relies on."""

import pytest
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def header_params(schema, path: str, method: str) -> set[str]:
    operation = schema["paths"][path][method]
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}


def response_headers(schema, path: str, method: str, code: str) -> set[str]:
    return set(schema["paths"][path][method]["responses"][code].get("headers", {}))


@pytest.mark.parametrize(
    ("path", "method", "expected"),
    [
        ("/api/cart/", "get", {"X-Cart-Token"}),
        ("/api/cart/items/", "post", {"X-Cart-Token"}),
        ("/api/cart/items/{id}/", "patch", {"X-Cart-Token"}),
        ("/api/cart/coupon/", "post", {"X-Cart-Token"}),
        ("/api/coupons/validate/", "post", {"X-Cart-Token"}),
        ("/api/orders/", "post", {"X-Cart-Token", "Idempotency-Key"}),
        ("/api/orders/{id}/", "get", {"X-Order-Token"}),
        ("/api/orders/{id}/cancel/", "post", {"X-Order-Token"}),
        ("/api/payments/checkout/", "post", {"X-Order-Token", "Idempotency-Key"}),
    ],
)
def test_operations_document_the_headers_they_take(schema, path, method, expected):
    assert expected <= header_params(schema, path, method)


def test_responses_document_the_headers_they_send(schema):
    assert {"X-Cart-Token", "X-Request-ID"} <= response_headers(schema, "/api/cart/items/", "post", "201")
    assert {"Idempotent-Replayed", "X-Request-ID"} <= response_headers(schema, "/api/orders/", "post", "201")
    assert "Idempotent-Replayed" in response_headers(schema, "/api/payments/checkout/", "post", "201")
    assert "X-Request-ID" in response_headers(schema, "/api/catalog/products/", "get", "200")
    assert "guest_token" in schema["components"]["schemas"]["OrderCreated"]["properties"]
