"""`make run` keeps its data in SQLite, which compares decimals as floats: the order total's check
constraint must still accept a total that adds up to the cent (a 10 % coupon on 28.98 is 26.08)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import django
django.setup()
from decimal import Decimal
from django.core.management import call_command
call_command("migrate", verbosity=0)
from catalog.services import category_create, product_create
from cart.services import cart_item_add, cart_coupon_apply
from coupons.models import Coupon
from orders.services import order_place
from users.models import Address, User
user = User.objects.create_user(email="float@example.com", password="a-long-pass-phrase")
address = Address.objects.create(user=user, full_name="F", line1="1 St", city="C", postal_code="1", country="US")
product = product_create(name="Mug", sku="MUG-1", category=category_create(name="Kitchen"), price=Decimal("28.98"),
                         stock=5)
Coupon.objects.create(code="TEN", discount_type="percent", value=Decimal("10"))
cart_item_add(user=user, product_id=product.pk, quantity=1)
cart_coupon_apply(user=user, code="TEN")
order = order_place(user=user, shipping_address_id=address.pk)
print(order.subtotal, order.discount, order.total)
"""


def test_a_percent_coupon_order_is_placed_on_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DEBUG="true",
               DATABASE_URL=f"sqlite:///{tmp_path / 'shop.sqlite3'}")
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-3:] == ["28.98", "2.90", "26.08"]
