"""Side concern only: any single-row save or delete of catalog data invalidates the catalog cache.

Bulk writes are covered by `CatalogQuerySet`: together they are the one invalidation point every catalog
write passes through (services do not call `invalidate_catalog()` themselves). Bumping twice in one
transaction is harmless (one version per commit).
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from catalog.cache import invalidate_catalog
from catalog.models import Category, Product, ProductImage, ProductVariant


@receiver(post_save, sender=Category, dispatch_uid="catalog_category_saved")
@receiver(post_save, sender=Product, dispatch_uid="catalog_product_saved")
@receiver(post_save, sender=ProductVariant, dispatch_uid="catalog_variant_saved")
@receiver(post_save, sender=ProductImage, dispatch_uid="catalog_image_saved")
@receiver(post_delete, sender=ProductImage, dispatch_uid="catalog_image_deleted")
@receiver(post_delete, sender=Category, dispatch_uid="catalog_category_deleted")
@receiver(post_delete, sender=Product, dispatch_uid="catalog_product_deleted")
@receiver(post_delete, sender=ProductVariant, dispatch_uid="catalog_variant_deleted")
def _catalog_changed(sender, **kwargs) -> None:
    invalidate_catalog()
