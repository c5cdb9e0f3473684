"""Domain errors of the reviews app; `config.exceptions.exception_handler` maps them to HTTP."""

from config.exceptions import Conflict, InvalidInput, NotAllowed


class ProductNotReviewable(InvalidInput):
    default_message = "This product does not exist or is not available."

    def __init__(self, message: str | None = None):
        super().__init__(message, field="product")


class NotAPurchaser(NotAllowed):
    default_message = (
        "Only customers who bought this product can review it: none of your paid, processing, shipped or "
        "delivered orders contains it."
    )


class ReviewNotYours(NotAllowed):
    default_message = "You can only change or delete your own reviews."


class ModerationNotAllowed(NotAllowed):
    default_message = "Only staff can change a review's visibility."


class AlreadyReviewed(Conflict):
    default_message = "You have already reviewed this product; edit your existing review instead."
