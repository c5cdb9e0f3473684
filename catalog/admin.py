"""The stock room. Every write goes through catalog.services, so stock edits land in the ledger and
the catalog cache is invalidated exactly as for API writes."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import F
from django.utils.functional import cached_property
from django.utils.html import format_html

from catalog import services
from catalog.exceptions import CatalogConflict, InvalidCatalogInput
from catalog.images import image_clean
from catalog.models import Category, Product, ProductImage, ProductVariant, StockMovement
from common.admin import ReadOnlyAdminMixin


def _copy_fields(target, source) -> None:
    """Make the admin's unsaved instance the row the service created (pk, slug, stock, timestamps)."""
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.adding = False


# --- Categories ---------------------------------------------------------------------------------


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent", "depth", "is_active"]
    list_filter = ["is_active", "depth"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]
    list_select_related = ["parent"]
    fields = ["name", "slug", "parent", "description", "is_active"]

    def save_model(self, request, obj, form, change):
        if change:
            data = {name: form.cleaned_data[name] for name in form.changed_data}
            saved = services.category_update(category=Category.objects.get(pk=obj.pk), data=data)
        else:
            saved = services.category_create(
                **{name: form.cleaned_data[name] for name in ("name", "slug", "parent", "description", "is_active")}
            )
        _copy_fields(obj, saved)

    def delete_model(self, request, obj):
        try:
            services.category_delete(category=obj)
        except CatalogConflict as exc:
            self.message_user(request, exc.message, messages.ERROR)


# --- Products -----------------------------------------------------------------------------------


class LowStockFilter(admin.SimpleListFilter):
    title = "stock level"
    parameter_name = "stock_level"

    def lookups(self, request, model_admin):
        return [
            ("low", f"Low (≤ {settings.LOW_STOCK_THRESHOLD})"),
            ("out", "Sold out"),
            ("ok", f"In stock (> {settings.LOW_STOCK_THRESHOLD})"),
        ]

    def queryset(self, request, queryset):
        threshold = settings.LOW_STOCK_THRESHOLD
        if self.value() == "low":
            return queryset.filter(stock__lte=threshold)
        if self.value() == "out":
            return queryset.filter(stock=0)
        if self.value() == "ok":
            return queryset.filter(stock__gt=threshold)
        return queryset


class StockFormMixin:
    """`stock` counts as changed only if the admin edited it on the page: the value the page was rendered
    with travels as a hidden initial, so a checkout between render and save is not overwritten."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "stock" in self.fields:
            self.fields["stock"].show_hidden_initial = True


def _service_check(check, form: forms.Form | None = None):
    """Run a catalog rule (a callable) and turn its InvalidCatalogInput into a form error: on the field it
    names when the form has it (or inside a field's own clean, without `form`), else on the whole form."""
    try:
        return check()
    except InvalidCatalogInput as exc:
        if form is None:
            raise forms.ValidationError(exc.message) from exc
        field = exc.field if exc.field in form.fields else NON_FIELD_ERRORS
        raise forms.ValidationError({field: exc.message}) from exc


class SalePriceFormMixin:
    """The services' rules, shown as form errors: one currency, a compare-at price above the price."""

    def clean(self):
        cleaned = super().clean()
        if "currency" in cleaned:
            cleaned["currency"] = _service_check(lambda: services.currency_check(cleaned["currency"]), self)
        price = cleaned.get("price", getattr(self.instance, "price", None))
        if price is None and isinstance(self.instance, ProductVariant) and self.instance.product_id:
            price = self.instance.product.price
        if "compare_at_price" in self.fields:
            compare_at = cleaned.get("compare_at_price")
        else:  # the changelist edits the price alone
            compare_at = getattr(self.instance, "compare_at_price", None)
        if price is not None:
            _service_check(lambda: services.compare_at_price_check(price=price, compare_at_price=compare_at), self)
        return cleaned


class OnSaleFilter(admin.SimpleListFilter):
    title = "on sale"
    parameter_name = "on_sale"

    def lookups(self, request, model_admin):
        return [("yes", "On sale"), ("no", "Regular price")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(compare_at_price__isnull=self.value() == "no")
        return queryset


class ProductAdminForm(SalePriceFormMixin, StockFormMixin, forms.ModelForm):
    """Refuses a product-level stock edit when the stock is the sum of the variants'."""

    class Meta:
        model = Product
        fields = [
            "name", "slug", "sku", "brand", "description", "category", "price", "compare_at_price", "currency",
            "stock", "is_active",
        ]  # fmt: skip

    def clean_stock(self):
        stock = self.cleaned_data["stock"]
        instance = self.instance
        if instance.pk and "stock" in self.changed_data and instance.variants.exists():
            raise forms.ValidationError("This product's stock is the sum of its variants' stock; edit the variants.")
        return stock


class VariantAdminForm(SalePriceFormMixin, StockFormMixin, forms.ModelForm):
    class Meta:
        model = ProductVariant
        fields = ["sku", "name", "attributes", "price", "compare_at_price", "stock", "is_active"]
        # Sized for a table row: the default 40x10 JSON textarea pushed the table past the page's width.
        widgets = {
            "sku": forms.TextInput(attrs={"size": 16}),
            "name": forms.TextInput(attrs={"size": 18}),
            "attributes": forms.Textarea(attrs={"rows": 2, "cols": 30, "style": "font-family: monospace"}),
            "price": forms.NumberInput(attrs={"style": "width: 7em"}),
            "compare_at_price": forms.NumberInput(attrs={"style": "width: 7em"}),
            "stock": forms.NumberInput(attrs={"style": "width: 5em"}),
        }


class VariantInline(admin.TabularInline):
    model = ProductVariant
    form = VariantAdminForm
    extra = 0
    fields = ["sku", "name", "attributes", "price", "compare_at_price", "stock", "is_active"]


class ProductImageAdminForm(forms.ModelForm):
    """A new image is checked by its content (catalog.images) before the service stores it; an existing
    image's file is not replaced here (delete it and upload another)."""

    # A plain FileField: the content check is catalog.images' (with its messages), not Django's ImageField's.
    image = forms.FileField(widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))

    class Meta:
        model = ProductImage
        fields = ["image", "alt_text", "position", "variant"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["image"].disabled = True

    def clean_image(self):
        upload = self.cleaned_data.get("image")
        if not self.instance.pk and upload is not None:
            _service_check(lambda: image_clean(upload=upload))
        return upload


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    form = ProductImageAdminForm
    extra = 1
    fields = ["preview", "image", "alt_text", "position", "variant"]
    readonly_fields = ["preview"]
    ordering = ["position", "id"]

    @admin.display(description="Preview")
    def preview(self, image: ProductImage) -> str:
        if not image.pk or not image.image:
            return "–"
        url = (image.thumbnail or image.image).url
        return format_html(
            '<img src="{}" alt="{}" class="product-image-preview" style="max-height:96px;max-width:160px">',
            url,
            image.alt_text,
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "variant":
            product_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            kwargs["queryset"] = ProductVariant.objects.filter(product_id=product_id or 0)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class EstimatedCountPaginator(Paginator):
    """The changelist's paginator: past ESTIMATE_ABOVE rows an unfiltered list counts from PostgreSQL's
    planner statistics (pg_class.reltuples, kept by autovacuum/ANALYZE) instead of COUNT(*) over every row.
    A filtered or searched list still counts exactly (its WHERE narrows the scan)."""

    ESTIMATE_ABOVE = 50_000

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if query is not None and not query.where and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [query.model._meta.db_table]
                )
                row = cursor.fetchone()
            if row and row[0] > self.ESTIMATE_ABOVE:
                return int(row[0])
        return super().count


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    # A million products: no COUNT(*) of the whole table per page (estimated count, no "N total" link count).
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    form = ProductAdminForm
    inlines = [VariantInline, ProductImageInline]
    list_display = ["name", "sku", "category", "brand", "price", "compare_at_price", "on_sale", "stock", "is_active"]
    list_editable = ["price", "stock", "is_active"]
    list_filter = ["category", "brand", "is_active", OnSaleFilter, LowStockFilter]
    search_fields = ["name", "sku", "brand"]
    autocomplete_fields = ["category"]
    list_select_related = ["category"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["average_rating", "review_count", "created_at", "updated_at"]
    actions = ["activate", "deactivate"]

    def get_changelist_form(self, request, **kwargs):
        kwargs.setdefault("form", ProductAdminForm)
        return super().get_changelist_form(request, **kwargs)

    def save_model(self, request, obj, form, change):
        """Used by the change form and by the changelist's list_editable: stock goes through stock_set,
        the other fields are saved without touching `stock` (a checkout may have changed it meanwhile)."""
        if change:
            data = {name: form.cleaned_data[name] for name in form.changed_data if name in services.PRODUCT_FIELDS}
            saved = services.product_update(product=Product.objects.get(pk=obj.pk), data=data, user=request.user)
        else:
            fields = services.PRODUCT_FIELDS - {"stock"}
            saved = services.product_create(
                **{name: form.cleaned_data[name] for name in fields if name in form.cleaned_data},
                stock=form.cleaned_data.get("stock") or 0,
                user=request.user,
            )
        _copy_fields(obj, saved)

    def delete_model(self, request, obj):
        try:
            services.product_delete(product=obj)
        except CatalogConflict as exc:
            self.message_user(request, exc.message, messages.ERROR)

    @admin.display(boolean=True, description="On sale")
    def on_sale(self, product: Product) -> bool:
        return product.on_sale

    def save_formset(self, request, form, formset, change):
        if formset.model is ProductImage:
            return self._save_images(formset)
        if formset.model is not ProductVariant:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        for variant in formset.deleted_objects:
            services.variant_delete(variant=variant, user=request.user)
        for inline_form in formset.forms:
            if inline_form in formset.deleted_forms or not inline_form.has_changed():
                continue
            cleaned = inline_form.cleaned_data
            variant = inline_form.instance
            if variant.pk is None:
                fields = ("sku", "name", "attributes", "price", "compare_at_price", "is_active")
                saved = services.variant_create(
                    product=form.instance,
                    **{name: cleaned.get(name) for name in fields},
                    stock=cleaned.get("stock") or 0,
                    user=request.user,
                )
                _copy_fields(variant, saved)
            else:
                data = {name: cleaned[name] for name in inline_form.changed_data if name in services.VARIANT_FIELDS}
                services.variant_update(variant=ProductVariant.objects.get(pk=variant.pk), data=data, user=request.user)
        # the variants may have changed the product's stock
        form.instance.stock = Product.objects.values_list("stock", flat=True).get(pk=form.instance.pk)

    def _save_images(self, formset) -> None:
        """Images through the same services as the API: upload (checked, re-encoded, thumbnail queued),
        position/alt text/variant edits, and delete (files removed after the commit)."""
        formset.save(commit=False)
        for image in formset.deleted_objects:
            services.image_delete(image=image)
        for inline_form in formset.forms:
            if inline_form in formset.deleted_forms or not inline_form.has_changed():
                continue
            cleaned = inline_form.cleaned_data
            image = inline_form.instance
            if image.pk is None:
                if not cleaned.get("image"):
                    continue
                saved = services.image_create(
                    product=formset.instance,
                    image=cleaned["image"],
                    alt_text=cleaned.get("alt_text") or "",
                    position=cleaned.get("position"),
                    variant=cleaned.get("variant"),
                )
                _copy_fields(image, saved)
            else:
                data = {name: cleaned[name] for name in inline_form.changed_data if name in services.IMAGE_FIELDS}
                services.image_update(image=ProductImage.objects.get(pk=image.pk), data=data)

    @admin.action(description="Activate selected products")
    def activate(self, request, queryset):
        count = services.products_set_active(product_ids=queryset.values_list("pk", flat=True), is_active=True)
        self.message_user(request, f"{count} product(s) activated.")

    @admin.action(description="Deactivate selected products")
    def deactivate(self, request, queryset):
        count = services.products_set_active(product_ids=queryset.values_list("pk", flat=True), is_active=False)
        self.message_user(request, f"{count} product(s) deactivated.")


# --- Ledger -------------------------------------------------------------------------------------


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "product", "variant", "delta", "stock_after", "reason", "reference", "user"]
    list_filter = ["reason", "created_at"]
    search_fields = ["product__name", "product__sku", "variant__sku", "reference"]
    list_select_related = ["product", "variant__product", "user"]
    date_hierarchy = "created_at"
    ordering = [F("created_at").desc(), "-id"]
