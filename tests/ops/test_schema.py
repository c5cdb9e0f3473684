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


def _operations(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_one_way_to_authorize_the_jwt_bearer(schema):
    assert list(schema["components"]["securitySchemes"]) == ["jwtAuth"]
    for _, _, operation in _operations(schema):
        assert all(set(requirement) <= {"jwtAuth"} for requirement in operation.get("security", []))


@pytest.mark.parametrize(
    ("path", "method", "anonymous"),
    [
        ("/api/catalog/products/", "get", True),
        ("/api/catalog/products/{slug}/", "get", True),
        ("/api/catalog/categories/", "get", True),
        ("/api/reviews/", "get", True),
        ("/api/reviews/{id}/", "get", True),
        ("/api/auth/register/", "post", True),
        ("/api/auth/token/", "post", True),
        ("/api/payments/webhook/", "post", True),
        ("/api/catalog/products/", "post", False),
        ("/api/reviews/", "post", False),
        ("/api/orders/{id}/", "get", True),  # a guest reads its order with X-Order-Token
        ("/api/orders/{id}/status/", "post", False),
        ("/api/users/me/", "get", False),
    ],
)
def test_security_says_where_anonymous_callers_are_allowed(schema, path, method, anonymous):
    assert ({} in schema["paths"][path][method]["security"]) is anonymous


@pytest.mark.parametrize(
    ("path", "method", "codes"),
    [
        ("/api/orders/{id}/", "get", {"200", "401", "404"}),
        ("/api/orders/{id}/cancel/", "post", {"400", "401", "404", "409", "415"}),
        ("/api/orders/{id}/status/", "post", {"403", "409"}),
        ("/api/catalog/products/", "post", {"201", "400", "401", "403", "415"}),
        ("/api/catalog/products/", "get", {"200", "400", "404"}),
        ("/api/auth/register/", "post", {"201", "400", "429"}),
        ("/api/auth/token/", "post", {"200", "401", "429"}),
        ("/api/reviews/{id}/", "patch", {"403", "404"}),
        ("/api/payments/checkout/", "post", {"201", "401", "409", "502", "503"}),
    ],
)
def test_every_response_a_view_can_send_is_documented(schema, path, method, codes):
    assert codes <= set(schema["paths"][path][method]["responses"])


def test_every_error_response_carries_the_error_shape(schema):
    for path, method, operation in _operations(schema):
        for code, response in operation["responses"].items():
            if code.startswith(("4", "5")):
                ref = response["content"]["application/json"]["schema"]["$ref"]
                name = ref.removeprefix("#/components/schemas/")
                if code == "400":
                    assert name == "ValidationError", (path, method, code)
                else:  # `Error`, or a documented extension of it that still carries `detail`
                    assert "detail" in schema["components"]["schemas"][name].get("required", []), (path, method, code)
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail"]


def test_request_bodies_are_json_and_multipart_only_for_file_uploads(schema):
    for path, method, operation in _operations(schema):
        content = operation.get("requestBody", {}).get("content", {})
        if not content:
            continue
        assert "application/json" in content or "multipart/form-data" in content, (path, method)
        assert "application/x-www-form-urlencoded" not in content, (path, method)
        if "multipart/form-data" in content:
            body = content["multipart/form-data"]["schema"]
            if "$ref" in body:
                body = schema["components"]["schemas"][body["$ref"].removeprefix("#/components/schemas/")]
            assert "binary" in str(body), (path, method, "multipart without a file")


def test_the_purchase_path_has_demo_examples(schema):
    for path, method in [("/api/auth/token/", "post"), ("/api/cart/items/", "post"),
                         ("/api/users/addresses/", "post"), ("/api/orders/", "post")]:
        body = schema["paths"][path][method]["requestBody"]["content"]["application/json"]
        assert body["examples"]["demo"]["value"], path


@pytest.mark.django_db
def test_redoc_loads_no_fonts_from_elsewhere_and_both_pages_have_our_favicon(client):
    redoc = client.get("/api/redoc/").content.decode()
    swagger = client.get("/api/docs/").content.decode()

    assert "googleapis" not in redoc and "gstatic" not in redoc
    assert 'href="/favicon.svg"' in redoc and "/favicon.svg" in swagger


def test_favicon_is_served_and_favicon_ico_points_at_it(client):
    icon = client.get("/favicon.svg")
    legacy = client.get("/favicon.ico")

    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"
    assert icon.content.startswith(b"<svg")
    assert legacy.status_code == 301 and legacy["Location"] == "/favicon.svg"
