"""Swagger UI as a developer uses it: loads from our own server, Authorize with a JWT, Try it out."""

import uuid
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import SCREENSHOTS, api

pytestmark = pytest.mark.e2e


def test_swagger_ui_loads_everything_from_our_own_server(shop_server, page):
    failed, hosts = [], set()
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))

    page.goto(f"{shop_server}/api/docs/", wait_until="networkidle")
    page.wait_for_selector(".opblock-summary-path", timeout=15000)
    page.screenshot(path=str(SCREENSHOTS / "swagger-ui.png"), full_page=False)

    assert failed == []
    assert hosts == {urlsplit(shop_server).netloc}
    assert page.locator(".opblock").count() > 30  # every endpoint is listed


def test_register_token_authorize_and_try_me(shop_server, page):
    # given a new user with a token obtained from the API
    email = f"swagger-{uuid.uuid4().hex[:8]}@example.com"
    password = "Swagger-user-password-1"
    status, body = api(shop_server, "POST", "/api/auth/register/", {"email": email, "password": password})
    assert status == 201, body
    status, tokens = api(shop_server, "POST", "/api/auth/token/", {"email": email, "password": password})
    assert status == 200, tokens

    # when they authorize in Swagger UI and run "Try it out" on GET /api/users/me/
    page.goto(f"{shop_server}/api/docs/", wait_until="networkidle")
    page.click("button.authorize")
    dialog = page.locator(".modal-ux")
    jwt_form = dialog.locator("form").filter(has_text="jwtAuth")
    jwt_form.locator("input").fill(tokens["access"])
    jwt_form.locator("button.authorize").click()
    # Swagger UI marks the scheme "Authorized" and offers to remove the credential.
    authorized = dialog.locator("form").filter(has_text="jwtAuth")
    authorized.locator("h6", has_text="Authorized").wait_for(timeout=5000)
    assert authorized.get_by_role("button", name="Remove authorization").count() == 1
    dialog.locator("button.btn-done").first.click()

    operation = page.locator('.opblock-get:has(.opblock-summary-path[data-path="/api/users/me/"])')
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()
    status_cell = operation.locator(".live-responses-table tr.response .response-col_status").first
    status_cell.wait_for(timeout=15000)
    page.screenshot(path=str(SCREENSHOTS / "swagger-try-me.png"), full_page=False)

    # then the call succeeds with their own profile
    assert status_cell.inner_text().strip() == "200"
    assert email in operation.locator(".live-responses-table tr.response .response-col_description").first.inner_text()
