import pytest


@pytest.mark.django_db
def test_healthz_answers_ok(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_database_and_cache(client):
    response = client.get("/readyz/")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": True, "cache": True}


def test_root_redirects_to_docs(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/api/docs/"


@pytest.mark.django_db
def test_readyz_is_503_when_redis_is_down(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }
    # Overriding CACHES makes Django rebuild its cache handlers (django.test.signals).
    response = client.get("/readyz/")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": True, "cache": False}}
