"""The client address is REMOTE_ADDR, or with TRUSTED_PROXY_COUNT=N the N-th from the right of
X-Forwarded-For; X-Forwarded-Proto is trusted only behind such proxies."""

import json

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from config.client_ip import client_ip
from tests.factories import DEFAULT_PASSWORD, ProductFactory, UserFactory
from tests.ops.test_settings import run_python

TOKEN = "/api/auth/token/"
PRODUCTS = "/api/catalog/products/"


@pytest.fixture
def rates(settings):
    def set_rate(scope: str, rate: str) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], scope: rate},
        }

    return set_rate


@pytest.fixture
def proxies(settings):
    """Run one test as if TRUSTED_PROXY_COUNT were `count` (DRF reloads its settings on the change)."""

    def trust(count: int) -> None:
        settings.TRUSTED_PROXY_COUNT = count
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}

    return trust


@pytest.mark.django_db
def test_a_client_cannot_dodge_the_login_throttle_with_x_forwarded_for(rates):
    # given: 5 logins a minute per client
    rates("auth", "5/minute")
    user = UserFactory()
    client = APIClient(REMOTE_ADDR="203.0.113.7")

    # when: 50 logins, each claiming another address
    statuses = [
        client.post(
            TOKEN, {"email": user.email, "password": DEFAULT_PASSWORD}, HTTP_X_FORWARDED_FOR=f"10.1.{i}.{i}"
        ).status_code
        for i in range(50)
    ]

    # then: the socket address is the client, so only 5 pass
    assert statuses.count(200) == 5
    assert statuses.count(429) == 45


@pytest.mark.django_db
def test_behind_one_proxy_the_address_it_appended_is_the_client(rates, proxies):
    rates("auth", "1/minute")
    proxies(1)
    user = UserFactory()
    proxy = APIClient(REMOTE_ADDR="10.0.0.2")  # every request reaches the app from the proxy's address

    def login(forwarded_for: str) -> int:
        body = {"email": user.email, "password": DEFAULT_PASSWORD}
        return proxy.post(TOKEN, body, HTTP_X_FORWARDED_FOR=forwarded_for).status_code

    # the client forges the left part; the proxy appends the address it saw
    assert login("1.1.1.1, 198.51.100.1") == 200
    assert login("2.2.2.2, 198.51.100.1") == 429  # same client, another forged prefix
    assert login("198.51.100.2") == 200  # another client behind the same proxy


@pytest.mark.parametrize(
    ("count", "meta", "expected"),
    [
        (0, {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6"}, "192.0.2.1"),
        (1, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 192.0.2.1"}, "192.0.2.1"),
        (2, {"REMOTE_ADDR": "10.0.0.3", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 192.0.2.1, 10.0.0.2"}, "192.0.2.1"),
        (1, {"REMOTE_ADDR": "10.0.0.2"}, "10.0.0.2"),  # no header: the socket address
        (1, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "not-an-address"}, None),
    ],
)
def test_client_ip_follows_the_trusted_proxy_count(proxies, count, meta, expected):
    proxies(count)
    assert client_ip(RequestFactory().get("/", **meta)) == expected


@pytest.mark.django_db
def test_x_forwarded_proto_cannot_poison_the_catalogs_cached_links(api_client):
    # given: two pages of products
    ProductFactory.create_batch(2)

    # when: one client claims https, and its page 1 is cached (a browser always sends Host)
    first = api_client.get(PRODUCTS, {"page_size": 1}, HTTP_HOST="testserver", HTTP_X_FORWARDED_PROTO="https")
    cached = api_client.get(PRODUCTS, {"page_size": 1}, HTTP_HOST="testserver")

    # then: the app is not behind a proxy, so the header is ignored and the cached next link is plain http
    assert first["X-Cache"] == "MISS" and cached["X-Cache"] == "HIT"
    assert first.json()["next"] == "http://testserver/api/catalog/products/?page=2&page_size=1"
    assert cached.json()["next"] == "http://testserver/api/catalog/products/?page=2&page_size=1"


SHOW = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'proxies': s.REST_FRAMEWORK['NUM_PROXIES'], 'ssl_header': s.SECURE_PROXY_SSL_HEADER}))"
)


def test_trusted_proxy_count_sets_the_address_rule_and_the_proto_header():
    alone = json.loads(run_python(SHOW).stdout)
    behind_one = json.loads(run_python(SHOW, TRUSTED_PROXY_COUNT="1").stdout)

    assert alone == {"proxies": 0, "ssl_header": None}
    assert behind_one == {"proxies": 1, "ssl_header": ["HTTP_X_FORWARDED_PROTO", "https"]}
