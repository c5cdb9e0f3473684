"""Idempotency-Key on POST /api/orders/: replay, 422, 409 while running, scoping, concurrency, 5xx, purge."""

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import Product
from idempotency.models import IdempotencyKey
from idempotency.tasks import purge_idempotency_keys
from orders import views as order_views
from orders.models import Order
from tests.factories import AddressFactory, ProductFactory, UserFactory
from tests.orders.factories import fill_cart

ORDERS = "/api/orders/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def buyer(stock: int = 5, quantity: int = 1):
    user, product = UserFactory(), ProductFactory(stock=stock)
    address = AddressFactory(user=user)
    fill_cart(user, (product, quantity))
    return user, product, {"shipping_address": address.pk, "note": "hi"}


@pytest.mark.django_db
def test_a_repeat_with_the_same_key_and_body_replays_the_first_answer_and_places_one_order():
    user, product, body = buyer()
    client = client_for(user)

    first = client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    # The same JSON with its keys in another order is the same body.
    again = client.post(ORDERS, {"note": "hi", **body}, format="json", HTTP_IDEMPOTENCY_KEY="order-1")

    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Order.objects.count() == 1
    assert Product.objects.get(pk=product.pk).stock == 4
    row = IdempotencyKey.objects.get()
    assert (row.caller, row.path, row.key, row.status_code) == (f"user:{user.pk}", ORDERS, "order-1", 201)


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_a_422_and_does_nothing():
    user, _, body = buyer()
    client = client_for(user)
    client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="k")

    response = client.post(ORDERS, {**body, "note": "other"}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 422
    assert "different" in response.json()["detail"]
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_a_4xx_answer_is_kept_and_replayed_too():
    user = UserFactory()
    address = AddressFactory(user=user)
    client = client_for(user)
    body = {"shipping_address": address.pk}

    empty = client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    fill_cart(user, (ProductFactory(), 1))
    again = client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert empty.status_code == 400
    assert (again.status_code, again.json(), again["Idempotent-Replayed"]) == (400, empty.json(), "true")
    assert not Order.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "é-not-ascii"])
def test_a_malformed_key_is_a_400(key):
    user, _, body = buyer()

    response = client_for(user).post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not Order.objects.exists() and not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_keys_are_scoped_per_caller():
    alice, _, alice_body = buyer()
    bob, _, bob_body = buyer()

    a = client_for(alice).post(ORDERS, alice_body, format="json", HTTP_IDEMPOTENCY_KEY="same")
    b = client_for(bob).post(ORDERS, bob_body, format="json", HTTP_IDEMPOTENCY_KEY="same")

    assert a.status_code == b.status_code == 201
    assert "Idempotent-Replayed" not in b
    assert a.json()["id"] != b.json()["id"]
    assert set(Order.objects.values_list("user", flat=True)) == {alice.pk, bob.pk}


@pytest.mark.django_db
def test_a_guest_is_scoped_by_its_cart_token():
    product = ProductFactory(stock=5)
    body = {"email": "g@example.com", "shipping_address": {
        "full_name": "G", "line1": "1 St", "city": "Paris", "postal_code": "75001", "country": "FR"}}
    tokens = []
    for _ in range(2):
        added = APIClient().post("/api/cart/items/", {"product": product.pk, "quantity": 1}, format="json")
        tokens.append(added.json()["token"])

    first = APIClient().post(ORDERS, body, format="json", HTTP_X_CART_TOKEN=tokens[0], HTTP_IDEMPOTENCY_KEY="g")
    replay = APIClient().post(ORDERS, body, format="json", HTTP_X_CART_TOKEN=tokens[0], HTTP_IDEMPOTENCY_KEY="g")
    other = APIClient().post(ORDERS, body, format="json", HTTP_X_CART_TOKEN=tokens[1], HTTP_IDEMPOTENCY_KEY="g")

    assert first.status_code == replay.status_code == other.status_code == 201
    assert replay.json()["guest_token"] == first.json()["guest_token"] and replay["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in other and other.json()["id"] != first.json()["id"]
    assert Order.objects.count() == 2
    # The order's secret token is not readable in the stored answer: it is sealed with the guest's own token.
    stored = IdempotencyKey.objects.values_list("response_body", flat=True)
    assert all(set(body) == {"sealed"} for body in stored)
    assert first.json()["guest_token"] not in str(list(stored))


@pytest.mark.django_db
def test_without_the_header_nothing_changes():
    user, _, body = buyer()
    client = client_for(user)

    first = client.post(ORDERS, body, format="json")
    second = client.post(ORDERS, body, format="json")

    assert first.status_code == 201
    assert second.status_code == 400 and "empty" in str(second.json())  # a real second checkout of an empty cart
    assert "Idempotent-Replayed" not in second
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_an_unexpected_error_frees_the_key_so_a_retry_runs(monkeypatch):
    user, _, body = buyer()
    client = client_for(user)
    original = order_views.services.order_place
    monkeypatch.setattr(order_views.services, "order_place", lambda **kw: (_ for _ in ()).throw(RuntimeError("boom")))

    with pytest.raises(RuntimeError):
        client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert not IdempotencyKey.objects.exists()

    monkeypatch.setattr(order_views.services, "order_place", original)
    retry = client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_the_periodic_purge_deletes_keys_older_than_24_hours():
    IdempotencyKey.objects.create(caller="user:1", path=ORDERS, key="old", request_hash="x", status_code=201)
    IdempotencyKey.objects.create(caller="user:1", path=ORDERS, key="new", request_hash="x", status_code=201)
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))

    assert purge_idempotency_keys.delay().get() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db
def test_a_key_older_than_24_hours_runs_again():
    user, _, body = buyer(quantity=1)
    client = client_for(user)
    client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    fill_cart(user, (ProductFactory(), 1))

    response = client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert Order.objects.count() == 2


# --- Concurrency (real threads, their own connections, PostgreSQL) -----------------------------


@pytest.mark.django_db(transaction=True)
def test_a_repeat_while_the_first_is_still_running_is_a_409(monkeypatch):
    user, _, body = buyer()
    inside, release = threading.Event(), threading.Event()
    original = order_views.services.order_place

    def slow_place(**kwargs):
        inside.set()
        assert release.wait(timeout=30)
        return original(**kwargs)

    monkeypatch.setattr(order_views.services, "order_place", slow_place)
    results = {}

    def first():
        try:
            results["first"] = client_for(user).post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="k")
        finally:
            connections.close_all()

    thread = threading.Thread(target=first)
    thread.start()
    assert inside.wait(timeout=30)
    try:
        running = client_for(user).post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    finally:
        release.set()
        thread.join(timeout=30)
    after = client_for(user).post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert running.status_code == 409 and "still being processed" in running.json()["detail"]
    assert results["first"].status_code == 201
    assert (after.status_code, after.json(), after["Idempotent-Replayed"]) == (201, results["first"].json(), "true")
    assert Order.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_place_exactly_one_order():
    user, product, body = buyer(stock=10, quantity=1)
    attempts = 8
    barrier = threading.Barrier(attempts)
    statuses, lock = [], threading.Lock()

    def post():
        try:
            barrier.wait()
            response = client_for(user).post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="dup")
            outcome = (response.status_code, response.get("Idempotent-Replayed"))
        except Exception as exc:  # a 500 or a deadlock fails the test
            outcome = ("crash", repr(exc))
        finally:
            connections.close_all()
        with lock:
            statuses.append(outcome)

    threads = [threading.Thread(target=post) for _ in range(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert len(statuses) == attempts
    assert statuses.count((201, None)) == 1, statuses
    assert all(s in {(201, None), (201, "true"), (409, None)} for s in statuses), statuses
    assert Order.objects.count() == 1
    assert Product.objects.get(pk=product.pk).stock == 9
