"""The local cluster (deploy/cluster/cluster.py), started once for tests/cluster and stopped after.

These tests are marked `cluster` and run only when the marker expression asks for them (`make cluster-test`
runs `-m cluster`): they need root or the postgres OS user, haproxy, PostgreSQL 15, redis-server and a running
RabbitMQ, own ports 18001-18433, and take minutes, so `make test` and `-m "not e2e"` leave them out.
"""

import importlib.util
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.client import HTTPException  # `http` below is this module's request helper
from pathlib import Path

import pytest

from payments.devstripe.fake import FakeStripe

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_SECRET = "whsec_cluster_0123456789abcdef"

_spec = importlib.util.spec_from_file_location("shop_cluster", ROOT / "deploy" / "cluster" / "cluster.py")
cluster_module = importlib.util.module_from_spec(_spec)
sys.modules["shop_cluster"] = cluster_module
_spec.loader.exec_module(cluster_module)
Cluster = cluster_module.Cluster


def pytest_collection_modifyitems(config, items):
    if "cluster" in (config.getoption("markexpr") or "") and "not cluster" not in config.getoption("markexpr"):
        return
    kept = [item for item in items if item.get_closest_marker("cluster") is None]
    deselected = [item for item in items if item.get_closest_marker("cluster") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.fixture(scope="session")
def fake_stripe_cluster():
    server = FakeStripe().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def cluster(fake_stripe_cluster):
    started = time.monotonic()
    shop = Cluster(
        celery_app="tests.cluster.slow_app",
        extra_env={
            "STRIPE_SECRET_KEY": "sk_test_cluster_0123456789",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": fake_stripe_cluster.url,
        },
    )
    try:
        shop.up()
        print(f"\ncluster up in {time.monotonic() - started:.1f} s", file=sys.stderr)
        yield shop
    finally:
        shop.down()


# --- talking to it --------------------------------------------------------------------------------------
class Response:
    def __init__(self, status: int, headers, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


def http(method: str, url: str, *, token: str | None = None, body: dict | None = None, raw: bytes | None = None,
         headers=None, timeout: float = 10.0) -> Response:
    """One request on a fresh connection; a refused or dropped connection, or a truncated body, is status 0."""
    data = json.dumps(body).encode() if body is not None else raw
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))  # noqa: S310
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback
            return Response(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, error.headers, error.read())
    except (OSError, urllib.error.URLError, HTTPException) as error:
        # refused, reset, or a body cut short by a killed backend (IncompleteRead): a failed request, counted
        return Response(0, {}, repr(error).encode())


def django_json(cluster, code: str) -> object:
    """Run Python in the cluster's Django (manage.py shell) and return what it printed last, as JSON."""
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=cluster.env(), capture_output=True,
        text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


SETUP_BUYERS = """
import json, uuid
from rest_framework_simplejwt.tokens import RefreshToken
from catalog.services import category_create, product_create
from users.models import Address, User
tag = uuid.uuid4().hex[:8]
category = category_create(name=f"Cluster {tag}")
product = product_create(name=f"Limited {tag}", sku=f"LIM-{tag}", category=category, price="25.00", stock=__STOCK__)
buyers = []
for i in range(__BUYERS__):
    user = User.objects.create_user(email=f"buyer{i}-{tag}@cluster.local", password=None)
    address = Address.objects.create(user=user, full_name="Buyer", line1="1 Main St", city="Springfield",
                                     postal_code="12345", country="US")
    buyers.append({"token": str(RefreshToken.for_user(user).access_token), "address": address.pk, "user": user.pk})
print(json.dumps({"product": product.pk, "slug": product.slug, "buyers": buyers}))
"""


def setup_buyers(cluster, *, stock: int, buyers: int) -> dict:
    return django_json(cluster, SETUP_BUYERS.replace("__STOCK__", str(stock)).replace("__BUYERS__", str(buyers)))


def buy(base_url: str, buyer: dict, product: int) -> Response:
    """Put one unit in the buyer's cart and check out; the checkout's response."""
    added = http("POST", f"{base_url}/api/cart/items/", token=buyer["token"], body={"product": product, "quantity": 1})
    if added.status != 201:
        return added
    return http("POST", f"{base_url}/api/orders/", token=buyer["token"], body={"shipping_address": buyer["address"]})


def run_threads(target, args_list: list[tuple]) -> list:
    results: list = [None] * len(args_list)

    def run(index, args):
        results[index] = target(*args)

    threads = [threading.Thread(target=run, args=(i, args)) for i, args in enumerate(args_list)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def stock_audit(cluster) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", "stock_audit"], cwd=ROOT, env=cluster.env(),
                          capture_output=True, text=True, timeout=120)


def staff_token(cluster) -> str:
    return django_json(
        cluster,
        "import json; from rest_framework_simplejwt.tokens import RefreshToken; from users.models import User; "
        f"print(json.dumps(str(RefreshToken.for_user(User.objects.get(email='{cluster_module.STAFF_EMAIL}'))"
        ".access_token)))",
    )

