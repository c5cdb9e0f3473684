"""The read-replica router's rules (the cluster tests run them against a real streaming replica)."""

import pytest
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory

from config import db_router
from config.db_router import ReplicaRouter, request_may_read_replica

factory = RequestFactory()


@pytest.mark.parametrize(
    ("method", "path", "headers", "allowed"),
    [
        ("GET", "/api/catalog/products/", {}, True),
        ("HEAD", "/api/reviews/", {}, True),
        ("POST", "/api/catalog/products/", {}, False),  # writes
        ("GET", "/api/catalog/products/", {"HTTP_AUTHORIZATION": "Bearer x"}, False),  # staff or users
        ("GET", "/api/cart/", {}, False),  # checkout paths
        ("GET", "/api/orders/", {}, False),
        ("GET", "/admin/", {}, False),
    ],
)
def test_only_anonymous_catalog_and_review_reads_may_use_the_replica(method, path, headers, allowed):
    request = factory.generic(method, path, **headers)
    assert request_may_read_replica(request) is allowed


def test_a_session_cookie_keeps_the_request_on_the_primary(settings):
    request = factory.get("/api/catalog/products/")
    request.COOKIES[settings.SESSION_COOKIE_NAME] = "abc"
    assert not request_may_read_replica(request)


@pytest.fixture
def replica_up(monkeypatch):
    monkeypatch.setattr(db_router, "replica_available", lambda: True)


@pytest.mark.django_db(transaction=True)
def test_reads_in_a_marked_request_go_to_the_replica_until_the_first_write(replica_up):
    router = ReplicaRouter()
    assert router.db_for_read(None) == "default"  # not marked
    token = db_router._replica_reads.set(True)
    try:
        assert router.db_for_read(None) == "replica"
        with transaction.atomic():
            assert router.db_for_read(None) == "default"  # inside a transaction: the primary
        assert router.db_for_write(None) == "default"
        assert router.db_for_read(None) == "default"  # read-your-writes for the rest of the request
    finally:
        db_router._replica_reads.reset(token)


@pytest.mark.django_db(transaction=True)
def test_a_down_replica_sends_reads_to_the_primary(monkeypatch):
    monkeypatch.setattr(db_router, "replica_available", lambda: False)
    token = db_router._replica_reads.set(True)
    try:
        assert ReplicaRouter().db_for_read(None) == "default"
    finally:
        db_router._replica_reads.reset(token)


def test_migrations_run_on_the_primary_only():
    router = ReplicaRouter()
    assert router.allow_migrate("default", "catalog")
    assert not router.allow_migrate("replica", "catalog")


@pytest.mark.django_db
@pytest.mark.parametrize(("up", "word"), [(True, "up"), (False, "down")])
def test_readyz_reports_the_replica_without_failing(client, monkeypatch, up, word):
    monkeypatch.setattr("config.views.replica_configured", lambda: True)
    monkeypatch.setattr("config.views.replica_available", lambda: up)
    response = client.get("/readyz/")
    assert response.status_code == 200
    assert response.json()["replica"] == word


@pytest.mark.django_db
def test_readyz_has_no_replica_field_without_one(client):
    assert "replica" not in client.get("/readyz/").json()


def test_a_read_that_failed_on_a_replica_that_just_died_is_answered_from_the_primary(monkeypatch):
    # given: the replica passed its last check, then died
    monkeypatch.setattr(db_router, "replica_configured", lambda: True)
    monkeypatch.setattr(db_router, "replica_available", lambda: True)
    monkeypatch.setattr(db_router, "replica_check", lambda: False)
    marked = []
    monkeypatch.setattr(db_router, "replica_mark_down", lambda: marked.append(True))
    seen = []

    def view(request):
        seen.append(ReplicaRouter().db_for_read(None))
        return HttpResponse(status=500 if len(seen) == 1 else 200)

    # when
    response = db_router.ReplicaReadsMiddleware(view)(factory.get("/api/catalog/products/"))

    # then: the second run read the primary and answered
    assert seen == ["replica", "default"]
    assert response.status_code == 200
    assert marked == [True]
