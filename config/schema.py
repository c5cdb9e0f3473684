"""The OpenAPI schema as client generators read it: one way to authorize, the errors every view can send.

`ShopAutoSchema` (DEFAULT_SCHEMA_CLASS) asks each view's own permission classes whether an anonymous
caller or a signed-in customer gets through, so `security` says where anonymous access is allowed and
which operations answer 403, and it adds the error responses a view can send that the view did not
declare (400 and 415 for a body, 401 where a token is read, 404 for a path with an id, 429 where a
throttle applies). `postprocess` (a drf-spectacular hook) gives every error response the shared
`Error` / `ValidationError` body and adds request examples that succeed on `manage.py seed`'s demo data.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework_simplejwt.views import TokenViewBase

ERROR_REF = {"$ref": "#/components/schemas/Error"}
VALIDATION_REF = {"$ref": "#/components/schemas/ValidationError"}
ERROR_SCHEMAS = {
    "Error": {
        "type": "object",
        "description": "Every error but validation: `{\"detail\": \"…\"}`, sometimes with more fields "
        "(a stock conflict adds `available`).",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
        "additionalProperties": True,
    },
    "ValidationError": {
        "description": "Invalid input: each field (or `non_field_errors`, or `detail`) with its list of messages; "
        "a nested field (a list or an object) holds its errors in the same nested shape. An error about the "
        "request as a whole (a filter value with a null character) is a bare list of messages.",
        "oneOf": [
            {"type": "object", "additionalProperties": True},
            {"type": "array", "items": {"type": "string"}},
        ],
    },
}
ERROR_DESCRIPTIONS = {
    "400": "Invalid input (body or filter): `{field: [message]}`.",
    "401": "No valid access token (missing, malformed or expired), or wrong credentials.",
    "403": "Signed in, but not allowed to do this.",
    "404": "Not found, or not yours (for a list: a page past the last one).",
    "409": "Conflicts with the current state.",
    "415": "The body is not JSON.",
    "429": "Too many requests: wait the `Retry-After` seconds.",
    "502": "The payment provider failed; nothing was changed.",
    "503": "The service is not available.",
}

# Request bodies that work on `manage.py seed`'s demo data (a fresh `make run` database).
DEMO_CUSTOMER = {"email": "customer@example.com", "password": "buy-things-123"}
EXAMPLES = {
    "auth_register_create": {"email": "new.customer@example.com", "password": "a-long-pass-phrase",
                             "first_name": "Ada", "last_name": "Lovelace"},
    "auth_token_create": DEMO_CUSTOMER,
    "cart_items_create": {"product": 1, "quantity": 1},
    "cart_coupon_create": {"code": "WELCOME10"},
    "coupons_validate_create": {"code": "WELCOME10"},
    "users_addresses_create": {"full_name": "Ada Lovelace", "line1": "12 Analytical Row", "city": "London",
                               "postal_code": "N1 9GU", "country": "GB", "is_default": True},
    "orders_create": {"shipping_address": 1, "note": "Leave it at the door."},
    "reviews_create": {"product": 2, "rating": 5, "title": "Does what it says", "body": "Well made, fast delivery."},
}


def _anonymous() -> AnonymousUser:
    return AnonymousUser()


def _customer():
    return get_user_model()(email="customer@example.com", is_active=True, is_staff=False)


class ShopAutoSchema(AutoSchema):
    def _passes(self, user) -> bool:
        """Whether the view's own permissions let `user` through for this method (object checks aside)."""
        request = Request(RequestFactory().generic(self.method, self.path))
        request.user = user
        view = self.view
        previous = getattr(view, "request", None)
        try:
            view.request = request
            return all(p.has_permission(request, view) for p in view.get_permissions())
        except Exception:  # a permission that needs more than the mock request: not granted
            return False
        finally:
            view.request = previous

    def get_auth(self):
        auths = [a for a in super().get_auth() if a != {}]
        if self._passes(_anonymous()):
            auths.append({})
        return auths

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        codes = set()
        if "requestBody" in operation:
            codes |= {"400", "415"}
        if any(requirement for requirement in operation.get("security", [])) or isinstance(self.view, TokenViewBase):
            codes.add("401")
        if self._may_forbid():
            codes.add("403")
        if "{" in path:
            codes.add("404")
        if self.method == "GET" and self._is_list_view():
            if self._get_paginator():
                codes.add("404")  # a page past the last one
            names = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
            if names - {"page", "page_size", "search", "ordering"}:
                codes.add("400")  # a filter value of the wrong type
        if self.view.get_throttles():
            codes.add("429")
        for code in sorted(codes - set(responses)):
            responses[code] = {"description": ERROR_DESCRIPTIONS[code]}
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _may_forbid(self) -> bool:
        if not self._passes(_customer()):
            return True
        if "{" not in self.path:
            return False
        base = BasePermission.has_object_permission
        return any(type(p).has_object_permission is not base for p in self.view.get_permissions())


def postprocess(result, generator, request, public):
    """Every error response gets the shared error body; known operations get demo request examples."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in ERROR_SCHEMAS.items():
        schemas.setdefault(name, schema)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for code, response in operation.get("responses", {}).items():
                if code.startswith(("4", "5")) and "content" not in response:
                    schema = VALIDATION_REF if code == "400" else ERROR_REF
                    response["content"] = {"application/json": {"schema": schema}}
            example = EXAMPLES.get(operation.get("operationId"))
            content = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if example is not None and content is not None:
                content["examples"] = {"demo": {"summary": "Works on the demo data", "value": example}}
    return result


REQUEST_ID_HEADER = {
    "description": "The request's id: the `X-Request-ID` sent (up to 200 characters of `[A-Za-z0-9._-]`) or a "
    "generated one; it is in every log line of the request.",
    "schema": {"type": "string"},
}


def add_request_id_header(result, generator, request, public):
    """Document `X-Request-ID` on every response of every operation (config.request_id sets it on all)."""
    result.setdefault("components", {}).setdefault("headers", {})["X-Request-ID"] = REQUEST_ID_HEADER
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            for response in operation.get("responses", {}).values():
                response.setdefault("headers", {}).setdefault(
                    "X-Request-ID", {"$ref": "#/components/headers/X-Request-ID"}
                )
    return result
