"""Celery tasks of the catalog app: thin, idempotent, retried with backoff when the mail server fails."""

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import F

from catalog.models import Product, ProductVariant, StockMovement
from notifications.services import send_once
from notifications.tasks import EMAIL_TASK_OPTIONS


def low_stock_email_key(*, product_id: int, variant_id: int | None, movement_id: int | None, stock: int) -> str:
    """One alert per crossing of the threshold: keyed on the StockMovement row that crossed it.

    Without `movement_id` (a task queued by older code), the crossing is found in the ledger: the latest
    movement of this product or variant that went from above the threshold to at or below it. Only when
    the ledger has none is the alert keyed on the item and its stock level.
    """
    if movement_id is None:
        movement_id = (
            StockMovement.objects.filter(product_id=product_id, variant_id=variant_id)
            .alias(before=F("stock_after") - F("delta"))
            .filter(stock_after__lte=settings.LOW_STOCK_THRESHOLD, before__gt=settings.LOW_STOCK_THRESHOLD)
            .order_by("-pk")
            .values_list("pk", flat=True)
            .first()
        )
    if movement_id is not None:
        return f"catalog.low_stock:movement:{movement_id}"
    return f"catalog.low_stock:product:{product_id}:variant:{variant_id or '-'}:stock:{stock}"


@shared_task(**EMAIL_TASK_OPTIONS)
def send_low_stock_alert(*, product_id: int, variant_id: int | None = None, movement_id: int | None = None) -> int:
    """Email every active staff user, once per crossing, that a product (or variant) is at or below the
    threshold. Returns how many staff it emailed (0 when it was already sent or nobody is there)."""
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
        get_user_model().objects.filter(is_staff=True, is_active=True).order_by("pk").values_list("email", flat=True)
    )
    if not recipients:
        return 0
    sent = send_once(
        key=low_stock_email_key(
            product_id=product_id, variant_id=variant_id or None, movement_id=movement_id, stock=stock
        ),
        to=recipients,
        template="catalog/emails/low_stock",
        context={"label": label, "sku": sku, "stock": stock, "threshold": settings.LOW_STOCK_THRESHOLD},
    )
    return len(recipients) if sent else 0


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def image_thumbnail_create(*, image_id: int) -> bool:
    """Make the WebP thumbnail of a product image (idempotent: a second run finds it made)."""
    from catalog.services import image_thumbnail_make

    return image_thumbnail_make(image_id=image_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def image_files_delete(*, names: list[str]) -> None:
    """Remove the stored files of deleted images (idempotent: deleting a missing file is a no-op)."""
    from catalog.services import image_files_remove

    image_files_remove(names=names)
