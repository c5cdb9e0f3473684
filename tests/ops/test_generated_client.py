"""A client generated from the schema by a real generator (openapi-python-client) imports as generated and
buys something against a live server: register → token → cart → address → order → Stripe Checkout."""

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from payments.devstripe.fake import FakeStripe
from tests.factories import ProductFactory

PACKAGE = "shop_api_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory, django_db_blocker):
    out = tmp_path_factory.mktemp("client")
    schema = out / "schema.json"
    with django_db_blocker.unblock():
        call_command("spectacular", "--format", "openapi-json", "--file", str(schema))
    generator = shutil.which("openapi-python-client", path=os.path.dirname(sys.executable)) or "openapi-python-client"
    # Its post hooks run ruff: find the venv's bin first.
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [generator, "generate", "--path", str(schema), "--meta", "none", "--output-path", str(out / PACKAGE)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(out))
    try:
        yield lambda name: importlib.import_module(f"{PACKAGE}.{name}")
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_every_generated_module_imports(generated):
    root = Path(generated("client").__file__).parent
    modules = [
        ".".join(path.relative_to(root).with_suffix("").parts)
        for path in root.rglob("*.py")
        if path.name != "__init__.py"
    ]

    for module in modules:
        generated(module)

    assert len(modules) > 60


@pytest.fixture
def fake_stripe(settings):
    server = FakeStripe().start()
    settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE = "sk_test_generated_client", server.url
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_a_purchase_through_the_generated_client(generated, live_server, fake_stripe):
    # given a product in stock
    product = ProductFactory(stock=5)
    client_mod, models = generated("client"), generated("models")
    api = {name: generated(f"api.{name.split('_')[0]}.{name}") for name in (
        "auth_register_create", "auth_token_create", "cart_items_create", "users_addresses_create",
        "orders_create", "payments_checkout_create", "catalog_products_retrieve",
    )}
    anonymous = client_mod.Client(base_url=live_server.url, raise_on_unexpected_status=True)

    # when a customer registers, signs in and buys it
    registered = api["auth_register_create"].sync_detailed(client=anonymous, body=models.RegisterInputRequest(
        email="gen@example.com", password="a-long-pass-phrase"))
    token = api["auth_token_create"].sync(client=anonymous, body=models.TokenObtainPairRequest(
        email="gen@example.com", password="a-long-pass-phrase"))
    client = client_mod.AuthenticatedClient(base_url=live_server.url, token=token.access,
                                            raise_on_unexpected_status=True)
    seen = api["catalog_products_retrieve"].sync(client=anonymous, slug=product.slug)
    line = api["cart_items_create"].sync(client=client, body=models.CartItemAddInputRequest(product=seen.id,
                                                                                           quantity=2))
    address = api["users_addresses_create"].sync(client=client, body=models.AddressInputRequest(
        full_name="Gen Erated", line1="1 Schema Way", city="Springfield", postal_code="12345",
        country=models.CountryEnum("US")))
    order = api["orders_create"].sync(client=client, body=models.OrderCreateInputRequest(
        shipping_address=address.id))
    checkout = api["payments_checkout_create"].sync_detailed(client=client, body=models.CheckoutInputRequest(
        order=order.id))

    # then every step answered what the schema says, parsed into the generated models
    assert registered.status_code == 201
    assert line.quantity == 2
    assert isinstance(order, models.OrderCreated) and str(order.status) == "pending"
    assert order.total == str(product.price * 2)
    assert checkout.status_code == 201
    assert checkout.parsed.checkout_url.startswith("https://checkout.stripe.com/")
    product.refresh_from_db()
    assert product.stock == 3


def test_an_error_parses_into_the_documented_error_model(generated, live_server, db):
    client_mod, models = generated("client"), generated("models")
    products_retrieve = generated("api.catalog.catalog_products_retrieve")

    answer = products_retrieve.sync_detailed(client=client_mod.Client(base_url=live_server.url), slug="nope")

    assert answer.status_code == 404
    assert isinstance(answer.parsed, models.Error) and answer.parsed.detail
