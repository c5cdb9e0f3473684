"""Celery tasks of the cart app: thin and idempotent."""

from celery import shared_task


@shared_task
def delete_stale_guest_carts() -> int:
    """Delete guest carts untouched for GUEST_CART_DAYS (beat, hourly); how many."""
    from cart.services import cart_guest_delete_stale

    return cart_guest_delete_stale()
