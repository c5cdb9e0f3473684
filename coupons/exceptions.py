from config.exceptions import Conflict, InvalidInput, NotFound


class CouponNotApplicable(Conflict):
    """Raised at checkout (`coupon_redeem`) when the coupon no longer applies; the message says why."""

    default_message = "This coupon cannot be applied."


class InvalidCouponInput(InvalidInput):
    default_message = "Invalid coupon data."


class CouponInUse(Conflict):
    default_message = "This coupon has been redeemed and cannot be deleted; deactivate it instead."


class CouponNotFound(NotFound):
    default_message = "Coupon not found."
