"""A shop worth exploring on top of the demo catalog, written through the apps' services.

Idempotent: coupons are keyed by code, and the customers' history is written only when the demo
customer does not exist yet. Emails it causes go to an in-memory outbox, not the console.
"""

import time
from decimal import Decimal

from django.db import transaction
from django.test.utils import override_settings

from cart.services import cart_item_add
from catalog.models import Category, Product
from common.money import to_minor
from coupons.models import Coupon
from coupons.services import coupon_create
from orders.models import Order
from orders.services import order_cancel, order_mark_paid, order_place, order_refunded_in_full, order_set_status
from payments.models import Payment
from reviews.services import review_create
from users.models import User
from users.services import address_create, user_register

# Payments here never went through Stripe; the development double knows them by their `pi_demo_` ids.
DEMO_CUSTOMER = ("customer@example.com", "buy-things-123", "Casey", "Carter")
DEMO_STAFF = ("staff@example.com", "staff12345")
SHOPPERS = [("sam.rivera@example.com", "Sam", "Rivera"), ("alex.buyer@example.com", "Alex", "Buyer")]
SHOPPER_PASSWORD = "shopper-pass-123"  # noqa: S105 - demo accounts of a development database
COUPONS = [
    {"code": "WELCOME10", "description": "10 % off your order", "discount_type": "percent", "value": Decimal("10")},
    {"code": "SAVE5", "description": "5.00 off from 25.00", "discount_type": "fixed", "value": Decimal("5.00"),
     "min_subtotal": Decimal("25.00")},
    {"code": "KITCHEN15", "description": "15 % off kitchen items", "discount_type": "percent",
     "value": Decimal("15"), "category_slug": "home-kitchen-kitchen"},
]
# (status the order ends in, how many products, rating of each reviewed product or None)
CUSTOMER_ORDERS = [
    ("delivered", 2, [5, None]),  # the second product is left for the customer to review
    ("shipped", 1, [4]),
    ("processing", 1, []),
    ("paid", 1, []),
    ("refunded", 1, []),
    ("partially_refunded", 1, [3]),
    ("cancelled", 1, []),
    ("pending", 1, []),
]
SHOPPER_RATINGS = [[4, 2, 5], [5, 3, 1]]
REVIEW_TEXT = {
    5: ("Love it", "Exactly as described, and it arrived quickly."),
    4: ("Very good", "Does the job well; the finish could be a little better."),
    3: ("It's fine", "Works, but I expected more for the price."),
    2: ("Disappointing", "Smaller than the pictures suggest."),
    1: ("Not for me", "Sent it back after a week."),
}


def shop_seed() -> list[str]:
    """Seed what is missing; returns lines to print (credentials included)."""
    started = time.perf_counter()
    lines = [f"Coupons: {', '.join(seed_coupons())}."]
    if not User.objects.filter(email__iexact=DEMO_CUSTOMER[0]).exists():
        products = _demo_products()
        if len(products) < 8:
            return [*lines, "Too few products in stock for demo orders; none seeded."]
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"), transaction.atomic():
            staff = seed_staff()
            customer = seed_customer_history(products=products, staff=staff)
            seed_shopper_reviews(products=products, staff=staff)
        seconds = time.perf_counter() - started
        lines.append(f"Demo orders: {Order.objects.filter(user=customer).count()} for {customer.email} "
                     f"(every status), reviews by {len(SHOPPERS) + 1} customers, in {seconds:.1f}s.")
    lines.append(f"Demo customer: email {DEMO_CUSTOMER[0]} / password {DEMO_CUSTOMER[1]} (token at /api/auth/token/)")
    lines.append(f"Demo staff (not superuser): email {DEMO_STAFF[0]} / password {DEMO_STAFF[1]}")
    return lines


def seed_coupons() -> list[str]:
    for spec in COUPONS:
        if Coupon.objects.filter(code__iexact=spec["code"]).exists():
            continue
        data = {k: v for k, v in spec.items() if k != "category_slug"}
        if "category_slug" in spec:
            data["categories"] = list(Category.objects.filter(slug=spec["category_slug"]).values_list("pk", flat=True))
        coupon_create(data=data)
    return [spec["code"] for spec in COUPONS]


def seed_staff() -> User:
    staff = User.objects.filter(email__iexact=DEMO_STAFF[0]).first()
    if staff is None:
        staff = User.objects.create_user(email=DEMO_STAFF[0], password=DEMO_STAFF[1], first_name="Stella",
                                         last_name="Staff", is_staff=True)
    return staff


def _demo_products() -> list[Product]:
    """Active products without variants and with stock to sell, in SKU order (deterministic)."""
    return list(
        Product.objects.filter(is_active=True, stock__gte=8, variants__isnull=True).order_by("sku")[:16]
    )


def _customer(email: str, password: str, first_name: str, last_name: str) -> tuple[User, int]:
    user = user_register(email=email, password=password, first_name=first_name, last_name=last_name)
    address = address_create(user=user, full_name=f"{first_name} {last_name}", line1="12 Market Street",
                             city="Springfield", postal_code="62701", country="US", region="IL")
    return user, address.pk


def _order(*, user: User, address_id: int, products: list[Product]) -> Order:
    for product in products:
        cart_item_add(user=user, product_id=product.pk, quantity=1)
    return order_place(user=user, shipping_address_id=address_id, note="Demo order")


def _pay(order: Order) -> Payment:
    payment = Payment.objects.create(
        order=order, amount=order.total, currency=order.currency, status=Payment.Status.SUCCEEDED,
        stripe_session_id=f"cs_demo_{order.number}",
        # The amount in the id lets the Stripe double adopt the payment, so staff can refund it in development.
        stripe_payment_intent_id=f"pi_demo_{to_minor(order.total, order.currency)}_{order.number}",
    )
    order_mark_paid(order_id=order.pk, note="Paid (demo data)")
    return payment


def _advance(order: Order, status: str, staff: User) -> None:
    steps = {"processing": ["processing"], "shipped": ["processing", "shipped"],
             "delivered": ["processing", "shipped", "delivered"]}[status]
    for step in steps:
        order_set_status(order_id=order.pk, status=step, by=staff, carrier="UPS" if step == "shipped" else "",
                         tracking_number=f"1Z{order.number[-6:]}DEMO" if step == "shipped" else "")


def seed_customer_history(*, products: list[Product], staff: User) -> User:
    customer, address_id = _customer(*DEMO_CUSTOMER)
    queue = iter(products)
    for status, count, ratings in CUSTOMER_ORDERS:
        bought = [next(queue) for _ in range(count)]
        order = _order(user=customer, address_id=address_id, products=bought)
        if status == "pending":
            continue
        if status == "cancelled":
            order_cancel(order_id=order.pk, by=customer, note="Changed my mind (demo data)")
            continue
        payment = _pay(order)
        if status == "refunded":
            Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.REFUNDED, amount_refunded=order.total)
            order_refunded_in_full(order_id=order.pk, by=staff)
        elif status == "partially_refunded":
            _advance(order, "delivered", staff)
            Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.PARTIALLY_REFUNDED,
                                                        amount_refunded=Decimal("5.00"))
        elif status != "paid":
            _advance(order, status, staff)
        for product, rating in zip(bought, ratings, strict=False):
            if rating is not None:
                title, body = REVIEW_TEXT[rating]
                review_create(user=customer, product_id=product.pk, rating=rating, title=title, body=body)
    return customer


def seed_shopper_reviews(*, products: list[Product], staff: User) -> None:
    reviewed = products[:3]
    for (email, first_name, last_name), ratings in zip(SHOPPERS, SHOPPER_RATINGS, strict=True):
        shopper, address_id = _customer(email, SHOPPER_PASSWORD, first_name, last_name)
        order = _order(user=shopper, address_id=address_id, products=reviewed)
        _pay(order)
        _advance(order, "delivered", staff)
        for product, rating in zip(reviewed, ratings, strict=True):
            title, body = REVIEW_TEXT[rating]
            review_create(user=shopper, product_id=product.pk, rating=rating, title=title, body=body)
