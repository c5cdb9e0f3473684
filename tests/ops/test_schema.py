"""The OpenAPI schema is valid, warning-free, and contains every path of the API contract."""

import pytest
import yaml
from django.core.management import call_command

# Every path and method of ../shared/API.md, exactly as written there.
CONTRACT = {
    "/api/auth/register/": {"post"},
    "/api/auth/token/": {"post"},
    "/api/auth/token/refresh/": {"post"},
    "/api/auth/logout/": {"post"},
    "/api/auth/password/change/": {"post"},
    "/api/auth/password/reset/": {"post"},
    "/api/auth/password/reset/confirm/": {"post"},
    "/api/users/me/": {"get", "patch"},
    "/api/users/addresses/": {"get", "post"},
    "/api/users/addresses/{id}/": {"get", "patch", "put", "delete"},
    "/api/users/": {"get"},
    "/api/users/{id}/": {"get"},
    "/api/catalog/categories/": {"get", "post"},
    "/api/catalog/categories/{slug}/": {"get", "patch", "put", "delete"},
    "/api/catalog/products/": {"get", "post"},
    "/api/catalog/products/{slug}/": {"get", "patch", "put", "delete"},
    "/api/catalog/products/{slug}/variants/": {"get", "post"},
    "/api/catalog/products/{slug}/variants/{id}/": {"patch", "put", "delete"},
    "/api/cart/": {"get", "delete"},
    "/api/cart/items/": {"post"},
    "/api/cart/items/{id}/": {"patch", "delete"},
    "/api/cart/coupon/": {"post", "delete"},
    "/api/coupons/validate/": {"post"},
    "/api/coupons/": {"get", "post"},
    "/api/coupons/{id}/": {"get", "patch", "put", "delete"},
    "/api/orders/": {"get", "post"},
    "/api/orders/{id}/": {"get"},
    "/api/orders/{id}/cancel/": {"post"},
    "/api/orders/{id}/status/": {"post"},
    "/api/payments/checkout/": {"post"},
    "/api/payments/webhook/": {"post"},
    "/api/payments/": {"get"},
    "/api/payments/{id}/": {"get"},
    "/api/payments/{id}/refund/": {"post"},
    "/api/reviews/": {"get", "post"},
    "/api/reviews/{id}/": {"get", "patch", "delete"},
}


@pytest.fixture(scope="module")
def schema(django_db_blocker, tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("schema") / "schema.yml"
    with django_db_blocker.unblock():
        # --fail-on-warn turns any warning (an untyped view, an unresolvable field) into an error.
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def test_schema_validates_without_warnings(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Shop API"


@pytest.mark.parametrize("path", sorted(CONTRACT))
def test_schema_has_every_contract_path_and_method(schema, path):
    assert path in schema["paths"], f"{path} is missing from the schema"
    assert CONTRACT[path] <= set(schema["paths"][path]), f"{path}: {set(schema['paths'][path])}"


def test_schema_declares_bearer_jwt(schema):
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" and s.get("bearerFormat") == "JWT" for s in schemes.values())


@pytest.mark.django_db
def test_swagger_ui_and_redoc_are_served_without_a_cdn(client):
    for url in ("/api/docs/", "/api/redoc/"):
        response = client.get(url)
        assert response.status_code == 200
        body = response.content.decode()
        assert "cdn.jsdelivr.net" not in body and "unpkg.com" not in body
        assert "/static/drf_spectacular_sidecar/" in body
