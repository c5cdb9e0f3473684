"""Every error under /api/ is JSON in DRF's `{"detail": ...}` shape, with DEBUG on or off."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def assert_json_detail(response, status: int) -> str:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["detail"]
    return body["detail"]


def test_unknown_api_path_is_a_json_404(client, debug):
    assert assert_json_detail(client.get("/api/no-such-thing/"), 404) == "Not found."
    assert assert_json_detail(client.post("/api/catalog/nope/deeper/", {}), 404) == "Not found."


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_write_without_the_trailing_slash_is_a_404_naming_the_slashed_path(client, debug, method):
    response = getattr(client, method)("/api/orders", data="{}", content_type="application/json")

    detail = assert_json_detail(response, 404)
    assert f"send this {method.upper()} to /api/orders/" in detail


def test_a_detail_path_without_the_slash_names_its_slashed_path(client, debug):
    response = client.patch("/api/catalog/products/some-slug", data="{}", content_type="application/json")

    assert "/api/catalog/products/some-slug/" in assert_json_detail(response, 404)


def test_a_read_without_the_trailing_slash_is_redirected_with_its_query(client, debug):
    response = client.get("/api/catalog/products?page_size=5")

    assert response.status_code == 301
    assert response["Location"] == "/api/catalog/products/?page_size=5"


def test_a_method_the_endpoint_does_not_take_is_a_json_405(client, debug):
    detail = assert_json_detail(client.put("/api/auth/register/", data="{}", content_type="application/json"), 405)

    assert detail == 'Method "PUT" not allowed.'


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data; boundary=x"])
def test_a_body_that_is_not_json_is_a_json_415(client, debug, content_type):
    response = client.post("/api/auth/register/", data="email=a@b.c", content_type=content_type)

    assert "Unsupported media type" in assert_json_detail(response, 415)


def test_a_missing_object_is_a_json_404(client, debug):
    assert assert_json_detail(client.get("/api/catalog/products/no-such-product/"), 404)


def test_paths_outside_the_api_keep_djangos_pages(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")
