import pytest
from rest_framework.test import APIClient

from tests.factories import DEFAULT_PASSWORD


@pytest.fixture
def obtain_tokens(api_client):
    """POST /api/auth/token/ and return the response body ({access, refresh})."""

    def obtain(email: str, password: str = DEFAULT_PASSWORD) -> dict:
        response = api_client.post("/api/auth/token/", {"email": email, "password": password})
        assert response.status_code == 200, response.json()
        return response.json()

    return obtain


@pytest.fixture
def bearer_client():
    def make(access: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        return client

    return make


@pytest.fixture(autouse=True)
def _generous_auth_rate(auth_rate):
    """Only the throttling tests (which set a low rate) should ever see a 429."""
    auth_rate("10000/minute")


@pytest.fixture
def auth_rate(settings):
    """Set the `auth` throttle rate for one test (DRF reloads its settings on the change)."""

    def set_rate(rate: str) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": rate},
        }

    return set_rate
