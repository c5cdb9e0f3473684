from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail

from catalog.models import Product, ProductVariant


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=True, retry_kwargs={"max_retries": 5})
def send_low_stock_alert(
    self, *, product_id: int, variant_id: int | None = None, movement_id: int | None = None
) -> int:
    """Email every active staff user that a product (or variant) is at or below the threshold."""
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        return 0
    if variant_id:
        variant = ProductVariant.objects.filter(pk=variant_id).first()
        if variant is None:
            return 0
        label, sku, stock = f"{product.name} – {variant.name}", variant.sku, variant.stock
    else:
        label, sku, stock = product.name, product.sku, product.stock
    recipients = list(
        get_user_model().objects.filter(is_staff=True, is_active=True).values_list("email", flat=True)
    )
    if not recipients:
        return 0
    send_mail(
        subject=f"Low stock: {label} ({stock} left)",
        message=(
            f"{label} (SKU {sku}) is down to {stock} unit(s), at or below the low-stock threshold "
            f"of {settings.LOW_STOCK_THRESHOLD}.\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )
    return len(recipients)
