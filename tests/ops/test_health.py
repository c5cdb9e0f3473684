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
