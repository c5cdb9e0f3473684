"""drf-spectacular hooks: what every response carries that no single view declares."""

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
