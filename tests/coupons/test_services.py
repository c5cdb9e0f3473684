import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from common.money import quantize_money
from coupons.exceptions import CouponInUse, CouponNotApplicable, InvalidCouponInput
from coupons.models import Coupon, CouponRedemption
from coupons.selectors import COUPON_NOT_USABLE_REASON, PricedLine, coupon_evaluate
from coupons.services import (
    coupon_create,
    coupon_delete,
    coupon_redeem,
    coupon_release,
    coupon_update,
)
from tests.coupons.factories import CouponFactory, RedemptionFactory
from tests.factories import CategoryFactory, OrderFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def line(price: str, quantity: int = 1, *, product_id: int = 1, path: str = "/1/") -> PricedLine:
    return PricedLine(
        product_id=product_id, variant_id=None, category_path=path, unit_price=Decimal(price), quantity=quantity
    )


# --- money ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("33.333", "33.33"), ("0.005", "0.01"), ("0.004", "0.00"), ("2.675", "2.68"), ("10", "10.00")],
)
def test_quantize_money_rounds_half_up_to_cents(amount, expected):
    assert quantize_money(Decimal(amount)) == Decimal(expected)


def test_line_total_is_quantized():
    assert line("3.33", 3).line_total == Decimal("9.99")


# --- evaluation -------------------------------------------------------------------------------


def test_percent_discount_on_whole_cart(user):
    CouponFactory(code="TEN", value=Decimal("10"))
    evaluation = coupon_evaluate(code="TEN", user=user, lines=[line("50.00", 2)])
    assert evaluation.valid is True
    assert evaluation.discount == Decimal("10.00")
    assert evaluation.reason == ""
    assert evaluation.code == "TEN"


def test_code_is_case_insensitive_and_trimmed(user):
    coupon = CouponFactory(code="SUMMER")
    evaluation = coupon_evaluate(code="  summer ", user=user, lines=[line("10.00")])
    assert evaluation.valid and evaluation.coupon == coupon


def test_percent_discount_rounds_half_up(user):
    # 33.33% of 100.00 = 33.33; 10% of 0.05 = 0.005 → 0.01
    CouponFactory(code="THIRD", value=Decimal("33.33"))
    CouponFactory(code="TINY", value=Decimal("10"))
    assert coupon_evaluate(code="THIRD", user=user, lines=[line("100.00")]).discount == Decimal("33.33")
    assert coupon_evaluate(code="TINY", user=user, lines=[line("0.05")]).discount == Decimal("0.01")


def test_percent_discount_rounds_fractions_of_a_cent_half_up(user):
    # 33.33% of 10.01 = 3.336333 → 3.34 ; 12.5% of 0.20 = 0.025 → 0.03
    CouponFactory(code="A", value=Decimal("33.33"))
    CouponFactory(code="B", value=Decimal("12.5"))
    assert coupon_evaluate(code="A", user=user, lines=[line("10.01")]).discount == Decimal("3.34")
    assert coupon_evaluate(code="B", user=user, lines=[line("0.20")]).discount == Decimal("0.03")


def test_hundred_percent_discount_takes_total_to_zero_not_below(user):
    CouponFactory(code="FREE", value=Decimal("100"))
    assert coupon_evaluate(code="FREE", user=user, lines=[line("19.99", 3)]).discount == Decimal("59.97")


def test_fixed_discount(user):
    CouponFactory(code="FIVE", discount_type=Coupon.DiscountType.FIXED, value=Decimal("5.00"))
    assert coupon_evaluate(code="FIVE", user=user, lines=[line("20.00")]).discount == Decimal("5.00")


def test_fixed_discount_is_capped_at_subtotal(user):
    CouponFactory(code="BIG", discount_type=Coupon.DiscountType.FIXED, value=Decimal("50.00"))
    assert coupon_evaluate(code="BIG", user=user, lines=[line("12.34")]).discount == Decimal("12.34")


def test_unknown_code(user):
    evaluation = coupon_evaluate(code="nope", user=user, lines=[line("10.00")])
    assert evaluation.valid is False
    assert evaluation.discount == Decimal("0.00")
    assert evaluation.coupon is None
    assert "does not exist" in evaluation.reason
    assert evaluation.code == "NOPE"


def test_inactive_coupon(user):
    CouponFactory(code="OFF", is_active=False)
    evaluation = coupon_evaluate(code="OFF", user=user, lines=[line("10.00")])
    assert not evaluation.valid and evaluation.reason == COUPON_NOT_USABLE_REASON
    assert evaluation.discount == Decimal("0.00")


def test_not_yet_valid_coupon(user):
    CouponFactory(code="SOON", valid_from=timezone.now() + timedelta(days=2))
    evaluation = coupon_evaluate(code="SOON", user=user, lines=[line("10.00")])
    assert not evaluation.valid and evaluation.reason == COUPON_NOT_USABLE_REASON


def test_unknown_inactive_and_not_started_codes_cannot_be_told_apart(user):
    # given: a campaign code created ahead of its launch, a switched-off code, and no code at all
    CouponFactory(code="LAUNCH", valid_from=timezone.now() + timedelta(days=2))
    CouponFactory(code="PAUSED", is_active=False)

    # when
    reasons = {code: coupon_evaluate(code=code, user=user, lines=[line("10.00")]).reason
               for code in ("LAUNCH", "PAUSED", "NO-SUCH-CODE")}

    # then: the same sentence, nothing about a start date
    assert set(reasons.values()) == {"This coupon code does not exist."}


def test_expired_coupon(user):
    CouponFactory(code="OLD", valid_until=timezone.now() - timedelta(minutes=1))
    evaluation = coupon_evaluate(code="OLD", user=user, lines=[line("10.00")])
    assert not evaluation.valid and "expired" in evaluation.reason


def test_evaluation_uses_the_given_now(user):
    coupon = CouponFactory(code="WINDOW", valid_until=timezone.now() + timedelta(days=1))
    later = coupon.valid_until + timedelta(seconds=1)
    assert coupon_evaluate(code="WINDOW", user=user, lines=[line("10.00")]).valid
    assert not coupon_evaluate(code="WINDOW", user=user, lines=[line("10.00")], now=later).valid


def test_below_minimum_names_the_minimum(user):
    CouponFactory(code="MIN", min_subtotal=Decimal("50.00"))
    evaluation = coupon_evaluate(code="MIN", user=user, lines=[line("49.99")])
    assert not evaluation.valid
    assert evaluation.reason == "This coupon needs a subtotal of at least 50.00."
    assert coupon_evaluate(code="MIN", user=user, lines=[line("25.00", 2)]).valid


def test_used_up_counts_unreleased_redemptions_only(user):
    coupon = CouponFactory(code="LIMIT", max_uses=2)
    RedemptionFactory(coupon=coupon)
    released = RedemptionFactory(coupon=coupon)
    released.released_at = timezone.now()
    released.save()
    assert coupon_evaluate(code="LIMIT", user=user, lines=[line("10.00")]).valid
    RedemptionFactory(coupon=coupon)
    evaluation = coupon_evaluate(code="LIMIT", user=user, lines=[line("10.00")])
    assert not evaluation.valid and "used up" in evaluation.reason


def test_per_user_limit(user, other_user):
    coupon = CouponFactory(code="ONCE", max_uses_per_user=1)
    RedemptionFactory(coupon=coupon, user=user)
    mine = coupon_evaluate(code="ONCE", user=user, lines=[line("10.00")])
    assert not mine.valid and mine.reason == "You have already used this coupon."
    assert coupon_evaluate(code="ONCE", user=other_user, lines=[line("10.00")]).valid


def test_empty_cart_is_not_eligible(user):
    CouponFactory(code="EMPTY")
    evaluation = coupon_evaluate(code="EMPTY", user=user, lines=[])
    assert not evaluation.valid and "Nothing in your cart is eligible" in evaluation.reason


# --- scope ------------------------------------------------------------------------------------


def test_category_scope_includes_descendants_and_excludes_others(user):
    clothing = CategoryFactory()
    shirts = CategoryFactory(parent=clothing)
    polos = CategoryFactory(parent=shirts)
    toys = CategoryFactory()
    CouponFactory(code="CLOTHES", value=Decimal("50"), categories=[clothing])
    lines = [
        line("20.00", product_id=1, path=polos.path),  # two levels below
        line("10.00", product_id=2, path=clothing.path),
        line("100.00", product_id=3, path=toys.path),
    ]
    evaluation = coupon_evaluate(code="CLOTHES", user=user, lines=lines)
    assert evaluation.valid
    assert evaluation.discount == Decimal("15.00")  # 50% of 30.00, the toy is untouched


def test_category_scope_does_not_match_a_sibling_with_a_common_id_prefix(user):
    # "/1/" must not match "/12/": the trailing slash of the materialized path is the guard.
    root = CategoryFactory()
    CouponFactory(code="ROOT", categories=[root])
    other_path = f"/{root.pk}0/"
    evaluation = coupon_evaluate(code="ROOT", user=user, lines=[line("10.00", path=other_path)])
    assert not evaluation.valid and "Nothing in your cart is eligible" in evaluation.reason


def test_product_scope(user):
    wanted, other = ProductFactory(), ProductFactory()
    CouponFactory(code="ONLY", value=Decimal("10"), products=[wanted])
    lines = [line("40.00", product_id=wanted.pk, path="/x/"), line("60.00", product_id=other.pk, path="/y/")]
    assert coupon_evaluate(code="ONLY", user=user, lines=lines).discount == Decimal("4.00")


def test_category_or_product_scope_is_a_union(user):
    category = CategoryFactory()
    product = ProductFactory()
    CouponFactory(code="MIX", value=Decimal("10"), categories=[category], products=[product])
    lines = [
        line("10.00", product_id=product.pk, path="/999/"),
        line("20.00", product_id=product.pk + 1000, path=category.path),
        line("30.00", product_id=product.pk + 2000, path="/998/"),
    ]
    assert coupon_evaluate(code="MIX", user=user, lines=lines).discount == Decimal("3.00")


def test_scoped_fixed_discount_is_capped_at_eligible_subtotal(user):
    product = ProductFactory()
    CouponFactory(code="CAP", discount_type=Coupon.DiscountType.FIXED, value=Decimal("25.00"), products=[product])
    lines = [line("8.00", product_id=product.pk), line("100.00", product_id=product.pk + 1)]
    assert coupon_evaluate(code="CAP", user=user, lines=lines).discount == Decimal("8.00")


def test_scoped_coupon_with_nothing_in_scope(user):
    CouponFactory(code="SCOPED", products=[ProductFactory()])
    evaluation = coupon_evaluate(code="SCOPED", user=user, lines=[line("10.00", product_id=0)])
    assert not evaluation.valid
    assert evaluation.reason == "Nothing in your cart is eligible for this coupon."


# --- redeem / release -------------------------------------------------------------------------


def test_redeem_records_the_discount(user):
    coupon = CouponFactory(code="TEN", value=Decimal("10"))
    order = OrderFactory(user=user)
    with transaction.atomic():
        redemption = coupon_redeem(code="ten", user=user, order=order, lines=[line("45.55")])
    assert redemption.coupon == coupon and redemption.order == order and redemption.user == user
    assert redemption.amount == Decimal("4.56")  # 4.555 half-up
    assert CouponRedemption.objects.filter(coupon=coupon, released_at__isnull=True).count() == 1


def test_redeem_refuses_with_the_reason_as_a_409(user):
    CouponFactory(code="ONCE", max_uses_per_user=1)
    with transaction.atomic():
        coupon_redeem(code="ONCE", user=user, order=OrderFactory(user=user), lines=[line("10.00")])
    with pytest.raises(CouponNotApplicable) as excinfo, transaction.atomic():
        coupon_redeem(code="ONCE", user=user, order=OrderFactory(user=user), lines=[line("10.00")])
    assert excinfo.value.status_code == 409
    assert excinfo.value.message == "You have already used this coupon."
    assert CouponRedemption.objects.count() == 1


def test_redeem_unknown_code_is_not_applicable(user):
    with pytest.raises(CouponNotApplicable, match="does not exist"):
        coupon_redeem(code="GHOST", user=user, order=OrderFactory(user=user), lines=[line("10.00")])


def test_release_frees_the_use_and_is_idempotent(user):
    coupon = CouponFactory(code="ONE", max_uses=1)
    order = OrderFactory(user=user)
    coupon_redeem(code="ONE", user=user, order=order, lines=[line("10.00")])
    assert not coupon_evaluate(code="ONE", user=user, lines=[line("10.00")]).valid

    coupon_release(order=order)
    released_at = CouponRedemption.objects.get(order=order).released_at
    assert released_at is not None
    coupon_release(order=order)
    assert CouponRedemption.objects.get(order=order).released_at == released_at
    assert coupon_evaluate(code="ONE", user=user, lines=[line("10.00")]).valid
    assert coupon.redemptions.count() == 1


def test_release_without_redemption_is_a_no_op(user):
    coupon_release(order=OrderFactory(user=user))
    assert CouponRedemption.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_redeems_respect_max_uses():
    # given: a coupon usable 3 times and 10 buyers checking out at once
    coupon = CouponFactory(code="RUSH", max_uses=3)
    users = [UserFactory() for _ in range(10)]
    orders = [OrderFactory(user=u) for u in users]
    barrier = threading.Barrier(len(users))
    outcomes: list[str] = []
    lock = threading.Lock()

    def checkout(user, order):
        try:
            barrier.wait()
            with transaction.atomic():
                coupon_redeem(code="rush", user=user, order=order, lines=[line("20.00")])
            result = "ok"
        except CouponNotApplicable as exc:
            result = exc.message
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    # when
    threads = [threading.Thread(target=checkout, args=(u, o)) for u, o in zip(users, orders, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    # then
    assert outcomes.count("ok") == 3
    assert outcomes.count("This coupon has been used up.") == 7
    assert CouponRedemption.objects.filter(coupon=coupon).count() == 3


# --- staff writes -----------------------------------------------------------------------------


def test_create_stores_code_upper_case_with_scope():
    category, product = CategoryFactory(), ProductFactory()
    coupon = coupon_create(
        data={
            "code": " spring ",
            "discount_type": "percent",
            "value": Decimal("15"),
            "categories": [category],
            "products": [product],
        }
    )
    assert coupon.code == "SPRING"
    assert list(coupon.categories.all()) == [category]
    assert list(coupon.products.all()) == [product]


def test_create_refuses_duplicate_code_in_other_case():
    CouponFactory(code="DUP")
    with pytest.raises(InvalidCouponInput) as excinfo:
        coupon_create(data={"code": "dup", "discount_type": "fixed", "value": Decimal("1")})
    assert excinfo.value.field == "code"


def test_percent_above_100_is_refused():
    with pytest.raises(InvalidCouponInput) as excinfo:
        coupon_create(data={"code": "X", "discount_type": "percent", "value": Decimal("100.01")})
    assert excinfo.value.field == "value"


def test_update_validates_merged_state():
    coupon = CouponFactory(code="FX", discount_type="fixed", value=Decimal("150"))
    with pytest.raises(InvalidCouponInput):
        coupon_update(coupon=coupon, data={"discount_type": "percent"})
    with pytest.raises(InvalidCouponInput) as excinfo:
        coupon_update(coupon=coupon, data={"valid_until": coupon.valid_from - timedelta(days=1)})
    assert excinfo.value.field == "valid_until"


def test_delete_redeemed_coupon_is_refused():
    redemption = RedemptionFactory()
    with pytest.raises(CouponInUse):
        coupon_delete(coupon=redemption.coupon)
    assert Coupon.objects.filter(pk=redemption.coupon_id).exists()
