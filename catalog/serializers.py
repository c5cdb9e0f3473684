"""Separate output and input serializers; inputs list their writable fields explicitly."""

import re
from datetime import datetime
from decimal import Decimal

from django.core.files.storage import FileSystemStorage
from django.utils import timezone
from django.utils.encoding import filepath_to_uri
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog import selectors
from catalog.models import Category, Product, ProductImage, ProductVariant
from config.limits import INTEGER_MAX


def file_url(field_file, request) -> str | None:
    """The absolute URL of a stored file (S3 URLs already are; local /media/ ones get the request's host)."""
    if not field_file:
        return None
    return storage_url(field_file.storage, field_file.name, request)


def storage_url(storage, name: str | None, request) -> str | None:
    """file_url from a stored name (what `.values()` gives) and the field's storage."""
    if not name:
        return None
    url = storage.url(name)
    if request is not None and not url.startswith(("http://", "https://")):
        url = request.build_absolute_uri(url)
    return url


# --- Output -----------------------------------------------------------------------------------


class CategoryOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug", "parent", "description", "is_active"]
        read_only_fields = fields


class CategoryChildSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug"]
        read_only_fields = fields


class CategoryDetailOutputSerializer(CategoryOutputSerializer):
    children = CategoryChildSerializer(many=True, read_only=True)

    class Meta(CategoryOutputSerializer.Meta):
        fields = [*CategoryOutputSerializer.Meta.fields, "children"]
        read_only_fields = fields


class CategoryRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "slug", "name"]
        read_only_fields = fields


class ImageOutputSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Absolute URL of the stored (metadata-free) original.")
    thumbnail_url = serializers.SerializerMethodField(
        help_text="Absolute URL of a WebP at most 400 px on its longer side; null until the task made it."
    )

    class Meta:
        model = ProductImage
        fields = ["id", "url", "thumbnail_url", "alt_text", "position", "width", "height", "variant"]
        read_only_fields = fields

    def get_url(self, image: ProductImage) -> str | None:
        return file_url(image.image, self.context.get("request"))

    def get_thumbnail_url(self, image: ProductImage) -> str | None:
        return file_url(image.thumbnail, self.context.get("request"))


class VariantOutputSerializer(serializers.ModelSerializer):
    price = serializers.DecimalField(
        source="effective_price",
        max_digits=12,
        decimal_places=2,
        read_only=True,
        help_text="The variant's own price, or the product's when it has none.",
    )
    in_stock = serializers.BooleanField(read_only=True)
    on_sale = serializers.BooleanField(read_only=True)

    class Meta:
        model = ProductVariant
        fields = [
            "id", "sku", "name", "attributes", "price", "compare_at_price", "on_sale", "stock", "in_stock", "is_active",
        ]  # fmt: skip
        read_only_fields = fields


class ProductOutputSerializer(serializers.ModelSerializer):
    category = CategoryRefSerializer(read_only=True)
    in_stock = serializers.BooleanField(read_only=True)
    variants = VariantOutputSerializer(many=True, read_only=True)
    on_sale = serializers.BooleanField(read_only=True)
    thumbnail = serializers.SerializerMethodField(help_text="The first image's thumbnail_url, or null.")
    images = ImageOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "slug",
            "name",
            "sku",
            "brand",
            "description",
            "category",
            "price",
            "compare_at_price",
            "on_sale",
            "currency",
            "stock",
            "in_stock",
            "is_active",
            "average_rating",
            "review_count",
            "thumbnail",
            "images",
            "variants",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        deps = self.context.get("stock_deps")
        if deps is not None:  # a cached page records the stock version of every product it shows
            deps[instance.pk] = instance.stock_version
        return super().to_representation(instance)

    def get_thumbnail(self, product: Product) -> str | None:
        images = product.images.all()  # prefetched by catalog.selectors.product_list, in position order
        return file_url(images[0].thumbnail, self.context.get("request")) if images else None


class ProductDetailOutputSerializer(ProductOutputSerializer):
    breadcrumbs = serializers.SerializerMethodField(
        help_text="The product's category and its ancestors, root first (one query, from the category path)."
    )

    class Meta(ProductOutputSerializer.Meta):
        fields = [*ProductOutputSerializer.Meta.fields, "breadcrumbs"]
        read_only_fields = fields

    @extend_schema_field(CategoryRefSerializer(many=True))
    def get_breadcrumbs(self, product: Product) -> list[dict]:
        return CategoryRefSerializer(selectors.category_trail(category=product.category), many=True).data


# --- Input ------------------------------------------------------------------------------------


class CategoryInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    slug = serializers.SlugField(max_length=140, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    parent = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)


def _validate_currency(value: str) -> str:
    value = value.strip().lower()
    if not re.fullmatch(r"[a-z]{3}", value):
        raise serializers.ValidationError("Use a three-letter ISO 4217 code, e.g. 'usd'.")
    return value


class ProductInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=220, required=False, allow_blank=True)
    sku = serializers.CharField(max_length=64)
    brand = serializers.CharField(max_length=100, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all())
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    compare_at_price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text='The "was" price: null, or greater than `price`.',
    )
    currency = serializers.CharField(max_length=3, required=False, help_text="The shop's currency only.")
    stock = serializers.IntegerField(
        min_value=0, max_value=INTEGER_MAX, required=False, help_text="Set through the stock ledger."
    )
    is_active = serializers.BooleanField(required=False)

    def validate_currency(self, value: str) -> str:
        return _validate_currency(value)


class VariantInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=200)
    attributes = serializers.DictField(child=serializers.CharField(max_length=100), required=False)
    price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        allow_null=True,
        help_text="Null: the product's price.",
    )
    compare_at_price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text='The "was" price: null, or greater than the variant\'s price.',
    )
    currency = serializers.CharField(max_length=3, required=False, help_text="The shop's currency only.")
    stock = serializers.IntegerField(
        min_value=0, max_value=INTEGER_MAX, required=False, help_text="Set through the stock ledger."
    )
    is_active = serializers.BooleanField(required=False)

    def validate_attributes(self, value: dict) -> dict:
        # The values are CharFields (NUL refused, 100 characters); the names must hold to the same rules, or
        # PostgreSQL's jsonb refuses the row with a 500 (`\u0000 cannot be converted to text`).
        for name in value:
            if not name.strip() or len(name) > 100 or "\x00" in name:
                raise serializers.ValidationError(
                    "Attribute names are 1 to 100 characters, not blank, without NUL characters."
                )
        return value

    def validate_currency(self, value: str) -> str:
        return _validate_currency(value)


class ImageInputSerializer(serializers.Serializer):
    """Multipart upload. The file is judged by its content in catalog.images, not by this field's checks."""

    image = serializers.FileField(help_text="A JPEG, PNG or WebP file.")
    alt_text = serializers.CharField(max_length=255, required=False, allow_blank=True)
    position = serializers.IntegerField(min_value=0, max_value=INTEGER_MAX, required=False)
    variant = serializers.PrimaryKeyRelatedField(
        queryset=ProductVariant.objects.all(), required=False, allow_null=True, help_text="One of the product's."
    )


class ImageUpdateSerializer(serializers.Serializer):
    alt_text = serializers.CharField(max_length=255, required=False, allow_blank=True)
    position = serializers.IntegerField(min_value=0, max_value=INTEGER_MAX, required=False)
    variant = serializers.PrimaryKeyRelatedField(
        queryset=ProductVariant.objects.all(), required=False, allow_null=True, help_text="One of the product's."
    )


# --- The public reads, without serializer instances -------------------------------------------------------------
# An uncached product page built by the serializers above spent half its time in DRF's field machinery (one
# serializer per product, variant and image). These functions build the same JSON, key for key and in the same
# order, from catalog.selectors' row tuples. tests/catalog/test_product_data.py holds them equal to the
# serializers, which stay the schema (drf-spectacular) and the shape of the staff write responses.

_CENT = Decimal("0.01")


def _datetime(value: datetime, tz) -> str:
    """A DateTimeField as DRF writes it: ISO 8601 in the current time zone `tz`, "Z" for UTC."""
    value = value.astimezone(tz).isoformat()
    return value[:-6] + "Z" if value.endswith("+00:00") else value


def _decimal(value: Decimal | None) -> str | None:
    """A DecimalField(decimal_places=2) as DRF writes it (COERCE_DECIMAL_TO_STRING)."""
    return None if value is None else f"{value.quantize(_CENT):f}"


def _variant_data(row: tuple, product_price: Decimal) -> dict:
    _, pk, sku, name, attributes, price, compare_at_price, stock, is_active = row  # selectors.VARIANT_ROW
    price = price if price is not None else product_price  # ProductVariant.effective_price
    return {
        "id": pk,
        "sku": sku,
        "name": name,
        "attributes": attributes,
        "price": _decimal(price),
        "compare_at_price": _decimal(compare_at_price),
        "on_sale": compare_at_price is not None and compare_at_price > price,
        "stock": stock,
        "in_stock": stock > 0,
        "is_active": is_active,
    }


class _Storage:
    """storage_url for one storage and one request, computed once per response where it can be.

    For local files (FileSystemStorage) `storage.url(name)` is `urljoin(base_url, filepath_to_uri(name))` and the
    absolute URL is the request's scheme and host before it: the absolute base is built once (by the same
    request.build_absolute_uri) and each name only quoted. A name with a dot segment, and every other storage
    (S3: absolute, maybe signed URLs), go through storage_url itself.
    """

    def __init__(self, storage, request):
        self.storage = storage
        self.request = request
        self.base = None
        if isinstance(storage, FileSystemStorage) and storage.base_url and storage.base_url.endswith("/"):
            base = storage.base_url
            self.base = base if base.startswith(("http://", "https://")) or request is None else (
                request.build_absolute_uri(base)
            )  # fmt: skip

    def url(self, name: str | None) -> str | None:
        if not name:
            return None
        if self.base is not None:
            path = filepath_to_uri(name).lstrip("/")
            if "/." not in "/" + path:
                return self.base + path
        return storage_url(self.storage, name, self.request)


class _Urls:
    """What every product of one response shares: its image URLs' bases and the time zone of its dates."""

    def __init__(self, request):
        self.tz = timezone.get_current_timezone()
        self.image = _Storage(ProductImage._meta.get_field("image").storage, request)
        self.thumbnail = _Storage(ProductImage._meta.get_field("thumbnail").storage, request)


def _image_data(row: tuple, urls: _Urls) -> dict:
    _, pk, image, thumbnail, alt_text, position, width, height, variant_id = row  # selectors.IMAGE_ROW
    return {
        "id": pk,
        "url": urls.image.url(image),
        "thumbnail_url": urls.thumbnail.url(thumbnail),
        "alt_text": alt_text,
        "position": position,
        "width": width,
        "height": height,
        "variant": variant_id,
    }


def _product_data(row: tuple, parts: "selectors.ProductParts", urls: _Urls) -> dict:
    (pk, slug, name, sku, brand, description, category_id, category_slug, category_name, price, compare_at_price,
     currency, stock, is_active, average_rating, review_count, created_at, updated_at, _, _) = row  # fmt: skip
    image_rows = parts.images.get(pk, ())
    images = [_image_data(image, urls) for image in image_rows]
    return {
        "id": pk,
        "slug": slug,
        "name": name,
        "sku": sku,
        "brand": brand,
        "description": description,
        "category": {"id": category_id, "slug": category_slug, "name": category_name},
        "price": _decimal(price),
        "compare_at_price": _decimal(compare_at_price),
        "on_sale": compare_at_price is not None and compare_at_price > price,
        "currency": currency,
        "stock": stock,
        "in_stock": stock > 0,
        "is_active": is_active,
        "average_rating": _decimal(average_rating),
        "review_count": review_count,
        "thumbnail": images[0]["thumbnail_url"] if images else None,
        "images": images,
        "variants": [_variant_data(variant, price) for variant in parts.variants.get(pk, ())],
        "created_at": _datetime(created_at, urls.tz),
        "updated_at": _datetime(updated_at, urls.tz),
    }


def product_list_data(*, rows: list[tuple], parts: "selectors.ProductParts", request, stock_deps=None) -> list[dict]:
    """ProductOutputSerializer(many=True).data of selectors.product_rows tuples; records each product's stock
    version in `stock_deps` (a cached page's dependencies) when given."""
    urls = _Urls(request)
    if stock_deps is not None:
        stock_deps.update((row[0], row[18]) for row in rows)
    return [_product_data(row, parts, urls) for row in rows]


def product_detail_data(*, row: tuple, parts: "selectors.ProductParts", request, stock_deps=None) -> dict:
    """ProductDetailOutputSerializer(product).data of one selectors.product_rows tuple (+1 query: breadcrumbs)."""
    data = product_list_data(rows=[row], parts=parts, request=request, stock_deps=stock_deps)[0]
    trail = selectors.category_trail_rows(path=row[19])
    data["breadcrumbs"] = [{"id": pk, "slug": slug, "name": name} for pk, slug, name in trail]
    return data
