"""Thin catalog viewsets: public reads (cached in Redis for non-staff), staff writes through services."""

import re
from decimal import Decimal
from urllib.parse import urlencode

import django_filters
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator as DjangoPaginator
from django.http import HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, status, viewsets
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from catalog import selectors, services
from catalog.cache import cached_count, cached_response_get, cached_response_set, page_etag
from catalog.filters import CatalogFilterBackend, CategoryFilter, ProductFilter
from catalog.images import upload_size_check
from catalog.models import Category, Product, ProductImage, ProductVariant
from catalog.serializers import (
    CategoryDetailOutputSerializer,
    CategoryInputSerializer,
    CategoryOutputSerializer,
    ImageInputSerializer,
    ImageOutputSerializer,
    ImageUpdateSerializer,
    ProductDetailOutputSerializer,
    ProductInputSerializer,
    ProductOutputSerializer,
    VariantInputSerializer,
    VariantOutputSerializer,
    product_detail_data,
    product_list_data,
)
from config.metrics import catalog_cache_record
from config.pagination import PageNumberPagination

CACHE_HEADER = "X-Cache"
# The request attribute where catalog.middleware leaves ((view, query), version) of the page it did not find.
MIDDLEWARE_MISS = "catalog_cache_miss"
PUBLIC = "public, no-cache"  # shared caches may keep it but must revalidate (ETag / If-None-Match)
PRIVATE = "private, no-store"  # staff: may include inactive items


def _not_modified(request, etag: str) -> bool:
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if not header:
        return False
    tags = parse_etags(header)
    return "*" in tags or etag in tags or f"W/{etag}" in tags  # If-None-Match compares weakly (RFC 9110)


def _normalized(viewset, name: str, data) -> str | None:
    """The canonical text of one query parameter for the cache key; None when it is invalid."""
    raw = data.get(name)  # the last value of a repeated parameter, as the filter and the paginator read it
    if name in ("page", "page_size"):
        raw = raw.strip()
        return str(int(raw)) if raw.isascii() and raw.isdigit() else raw  # "02" is page 2; "last" is DRF's last page
    filterset = getattr(viewset, "filterset_class", None)
    flt = filterset.base_filters.get(name) if filterset else None
    if flt is None:
        return raw
    if isinstance(flt, django_filters.ModelChoiceFilter):
        return raw  # looked up by slug in the database; an unknown slug is a 400 (never cached)
    try:
        value = flt.field.clean(flt.field.widget.value_from_datadict(data, {}, name))
    except ValidationError:
        return None
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, list | tuple):  # ordering
        return ",".join(value)
    return value.lower() if name == "brand" else str(value)  # brand is matched case-insensitively


def _public_response(request, body: bytes, etag: str, cache_state: str) -> HttpResponse:
    """A public catalog page, or 304 when the client already holds these exact bytes."""
    headers = {"ETag": etag, "Cache-Control": PUBLIC, CACHE_HEADER: cache_state}
    if _not_modified(request, etag):
        response = HttpResponseNotModified()
        for name, value in headers.items():
            response[name] = value
        return response
    return HttpResponse(body, content_type="application/json", headers=headers)


class _CountCachedPaginator(DjangoPaginator):
    """Django's paginator whose count comes from catalog.cache.cached_count when the view gives a key."""

    def __init__(self, *args, count_key: tuple[str, int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.count_key = count_key

    @cached_property
    def count(self) -> int:
        if self.count_key is None:
            return super().count
        key, version = self.count_key
        return cached_count(key=key, version=version, compute=lambda: DjangoPaginator.count.func(self))


class CatalogPagination(PageNumberPagination):
    """The shop's pagination; a public list's COUNT(*) is cached per filter set and catalog version."""

    def paginate_queryset(self, queryset, request, view=None):
        count_key = getattr(view, "count_key", None)
        self.django_paginator_class = lambda *a, **kw: _CountCachedPaginator(*a, count_key=count_key, **kw)
        return super().paginate_queryset(queryset, request, view)


class IsStaffOrReadOnly(permissions.BasePermission):
    """Anyone reads; only staff write (anonymous writes are 401, other users' 403)."""

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or bool(request.user and request.user.is_staff)


def _is_staff(request) -> bool:
    return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class CachedReadMixin:
    """Serves `list` and `retrieve` for non-staff from the cache.

    The key (catalog.cache.response_cache_key) holds the view, the URL kwargs, the normalized query string
    (known parameters only, sorted) and the catalog version read *before* the database is queried, so a
    response computed during a write is stored under a version that is already obsolete.
    Staff responses (which may include inactive items) bypass the cache.
    """

    cache_query_params: tuple[str, ...] = ("page", "page_size")
    pagination_class = CatalogPagination
    filter_backends = [CatalogFilterBackend]
    count_key: tuple[str, int] | None = None

    @classmethod
    def cache_parts(cls, request, *, basename: str, action: str, kwargs: dict) -> tuple[str, str] | None:
        """(view, query) of the cache key, or None when a parameter is invalid (the request is a 400, not cached).

        Also used by catalog.middleware before the view exists. The query part holds the *normalized*
        filter values (what the filter form cleans them to: `min_price=0`, `0.0` and `0.000` share one
        entry), the last value of a repeated parameter (what the filter reads) and nothing else: unknown
        parameters cannot grow Redis. The scheme and host are in the key because bodies carry absolute links.
        """
        params = []
        for name in cls.cache_query_params:
            if name in request.GET:
                value = _normalized(cls, name, request.GET)
                if value is None:
                    return None
                if value != "":
                    params.append((name, value))
        url_kwargs = ",".join(f"{k}={v}" for k, v in sorted(kwargs.items()))
        view = f"{basename}:{action}:{url_kwargs}:{request.scheme}://{request.get_host()}"
        return view, urlencode(params)

    def _cache_parts(self, request) -> tuple[str, str] | None:
        return self.cache_parts(request, basename=self.basename, action=self.action, kwargs=self.kwargs)

    @staticmethod
    def _hit(request, page) -> HttpResponse:
        # The stored bytes are the rendered JSON: a hit neither unpickles a structure nor renders it.
        catalog_cache_record(hit=True)
        return _public_response(request, page.body, page.etag, "HIT")

    def _cached(self, request, compute):
        if _is_staff(request):
            response = compute()
            response[CACHE_HEADER] = "BYPASS"
            response["Cache-Control"] = PRIVATE
            return response
        if request.accepted_renderer.format != "json":  # the browsable API (DEBUG) is never cached
            return compute()
        parts = self._cache_parts(request)
        if parts is None:  # an invalid filter value: the filter backend answers 400
            return compute()
        view, query = parts
        # The version is read before the database, so a page computed during a write is stored under a
        # version that the write's commit makes obsolete. catalog.middleware already read it for this request
        # when it looked for the page (an anonymous miss): one Redis round trip, not two.
        early = getattr(request._request, MIDDLEWARE_MISS, None)
        if early is not None and early[0] == parts:
            version = early[1]
        else:
            page = cached_response_get(view=view, query=query)
            if page.body is not None:
                return self._hit(request, page)
            version = page.version
        # the filter set without paging or host: what the list's COUNT(*) depends on
        filters = re.sub(r"(^|&)page(_size)?=[^&]*", "", query)
        url_kwargs = ",".join(f"{k}={v}" for k, v in sorted(self.kwargs.items()))
        self.count_key = (f"{self.basename}:{self.action}:{url_kwargs}:{filters}", version)
        self.stock_deps = {}  # product id -> stock_version of every product the page shows (filled while serializing)
        response = compute()
        if response.status_code != status.HTTP_200_OK:
            response[CACHE_HEADER] = "MISS"
            return response
        deps = self.stock_deps
        # Rendered here rather than in finalize_response, so the stored bytes and the ETag are what is sent.
        response.accepted_renderer = request.accepted_renderer
        response.accepted_media_type = request.accepted_media_type
        response.renderer_context = self.get_renderer_context()
        response.render()
        body = response.content
        etag = page_etag(body)
        cached_response_set(view=view, query=query, version=version, body=body, etag=etag, stock_deps=deps)
        catalog_cache_record(hit=False)
        return _public_response(request, body, etag, "MISS")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["stock_deps"] = getattr(self, "stock_deps", None)
        return context

    def list(self, request, *args, **kwargs):
        return self._cached(request, lambda: super(CachedReadMixin, self).list(request, *args, **kwargs))

    def retrieve(self, request, *args, **kwargs):
        return self._cached(request, lambda: super(CachedReadMixin, self).retrieve(request, *args, **kwargs))


@extend_schema_view(
    list=extend_schema(summary="List categories (flat, paginated)"),
    retrieve=extend_schema(summary="One category with its children", responses=CategoryDetailOutputSerializer),
    create=extend_schema(request=CategoryInputSerializer, responses={201: CategoryOutputSerializer}),
    update=extend_schema(request=CategoryInputSerializer, responses=CategoryOutputSerializer),
    partial_update=extend_schema(request=CategoryInputSerializer, responses=CategoryOutputSerializer),
    destroy=extend_schema(responses={204: None, 409: OpenApiResponse(description="Category not empty")}),
)
class CategoryViewSet(CachedReadMixin, viewsets.ModelViewSet):
    permission_classes = [IsStaffOrReadOnly]
    lookup_field = "slug"
    filterset_class = CategoryFilter
    queryset = Category.objects.all()
    cache_query_params = ("page", "page_size", "parent", "root")

    def get_queryset(self):
        include_inactive = _is_staff(self.request)
        if self.action == "retrieve":
            return selectors.category_detail_queryset(include_inactive=include_inactive)
        return selectors.category_list(include_inactive=include_inactive)

    def get_serializer_class(self):
        if self.action == "retrieve":
            return CategoryDetailOutputSerializer
        if self.action in {"create", "update", "partial_update"}:
            return CategoryInputSerializer
        return CategoryOutputSerializer

    def create(self, request, *args, **kwargs):
        serializer = CategoryInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        category = services.category_create(**serializer.validated_data)
        return Response(CategoryOutputSerializer(category).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        category = self.get_object()
        serializer = CategoryInputSerializer(data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        category = services.category_update(category=category, data=serializer.validated_data)
        return Response(CategoryOutputSerializer(category).data)

    def destroy(self, request, *args, **kwargs):
        services.category_delete(category=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        summary="List products",
        parameters=[
            OpenApiParameter(
                "include_inactive", OpenApiTypes.BOOL, description="Staff only: include inactive products."
            )
        ],
    ),
    retrieve=extend_schema(
        summary="One product with its variants and category breadcrumbs", responses=ProductDetailOutputSerializer
    ),
    create=extend_schema(request=ProductInputSerializer, responses={201: ProductOutputSerializer}),
    update=extend_schema(request=ProductInputSerializer, responses=ProductOutputSerializer),
    partial_update=extend_schema(request=ProductInputSerializer, responses=ProductOutputSerializer),
    destroy=extend_schema(responses={204: None, 409: OpenApiResponse(description="Product was ordered")}),
)
class ProductViewSet(CachedReadMixin, viewsets.ModelViewSet):
    permission_classes = [IsStaffOrReadOnly]
    lookup_field = "slug"
    filterset_class = ProductFilter
    queryset = Product.objects.all()
    serializer_class = ProductOutputSerializer
    cache_query_params = (
        "page",
        "page_size",
        "category",
        "brand",
        "min_price",
        "max_price",
        "in_stock",
        "on_sale",
        "min_rating",
        "search",
        "ordering",
    )

    def _include_inactive(self) -> bool:
        staff = _is_staff(self.request)
        if self.action == "list":
            return staff and self.request.query_params.get("include_inactive", "").lower() == "true"
        return staff

    def get_queryset(self):
        include_inactive = self._include_inactive()
        if self.action in {"list", "retrieve"}:  # read as rows (selectors.product_rows), not instances
            return selectors.product_visible(include_inactive=include_inactive)
        return selectors.product_list(include_inactive=include_inactive)

    def list(self, request, *args, **kwargs):
        return self._cached(request, self._list)

    def retrieve(self, request, *args, **kwargs):
        return self._cached(request, self._retrieve)

    def _list(self) -> Response:
        products = self.filter_queryset(self.get_queryset())
        rows = self.paginate_queryset(selectors.product_rows(products=products))
        include_inactive = self._include_inactive()
        parts = selectors.product_parts(product_ids=[row[0] for row in rows], include_inactive=include_inactive)
        deps = getattr(self, "stock_deps", None)
        return self.get_paginated_response(
            product_list_data(rows=rows, parts=parts, request=self.request, stock_deps=deps)
        )

    def _retrieve(self) -> Response:
        products = self.filter_queryset(self.get_queryset())
        row = get_object_or_404(selectors.product_rows(products=products), slug=self.kwargs["slug"])
        parts = selectors.product_parts(product_ids=[row[0]], include_inactive=self._include_inactive())
        deps = getattr(self, "stock_deps", None)
        return Response(product_detail_data(row=row, parts=parts, request=self.request, stock_deps=deps))

    def get_serializer_class(self):
        if self.action in {"create", "update", "partial_update"}:
            return ProductInputSerializer
        if self.action == "retrieve":
            return ProductDetailOutputSerializer
        return ProductOutputSerializer

    def _output(self, product: Product, status_code: int = status.HTTP_200_OK) -> Response:
        product = selectors.product_list(include_inactive=True).get(pk=product.pk)
        return Response(
            ProductOutputSerializer(product, context=self.get_serializer_context()).data, status=status_code
        )

    def create(self, request, *args, **kwargs):
        serializer = ProductInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.product_create(**serializer.validated_data, user=request.user)
        return self._output(product, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        product = self.get_object()
        serializer = ProductInputSerializer(data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        product = services.product_update(product=product, data=serializer.validated_data, user=request.user)
        return self._output(product)

    def destroy(self, request, *args, **kwargs):
        services.product_delete(product=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


_product_slug = OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="Product slug")
_variant_id = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Variant id")


class ProductScopedMixin:
    """Views under /api/catalog/products/{slug}/…: the product of the URL, visible to this caller, or a 404."""

    product_stock_on_page = False

    def get_product(self) -> Product:
        if not hasattr(self, "_product"):
            products = selectors.product_list(include_inactive=_is_staff(self.request)).prefetch_related(None)
            self._product = get_object_or_404(products, slug=self.kwargs["slug"])
            if self.product_stock_on_page and getattr(self, "stock_deps", None) is not None:
                self.stock_deps[self._product.pk] = self._product.stock_version
        return self._product


@extend_schema_view(
    list=extend_schema(summary="Variants of a product", parameters=[_product_slug]),
    retrieve=extend_schema(parameters=[_product_slug, _variant_id]),
    create=extend_schema(
        parameters=[_product_slug], request=VariantInputSerializer, responses={201: VariantOutputSerializer}
    ),
    update=extend_schema(
        parameters=[_product_slug, _variant_id], request=VariantInputSerializer, responses=VariantOutputSerializer
    ),
    partial_update=extend_schema(
        parameters=[_product_slug, _variant_id], request=VariantInputSerializer, responses=VariantOutputSerializer
    ),
    destroy=extend_schema(parameters=[_product_slug, _variant_id], responses={204: None}),
)
class VariantViewSet(ProductScopedMixin, CachedReadMixin, viewsets.ModelViewSet):
    permission_classes = [IsStaffOrReadOnly]
    queryset = ProductVariant.objects.all()
    serializer_class = VariantOutputSerializer

    # Its variants' stock is on the page: the page depends on the product's stock version.
    product_stock_on_page = True

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ProductVariant.objects.none()
        product = self.get_product()
        qs = selectors.variant_list(product=product, include_inactive=_is_staff(self.request))
        return qs.select_related("product")

    def get_serializer_class(self):
        if self.action in {"create", "update", "partial_update"}:
            return VariantInputSerializer
        return VariantOutputSerializer

    def create(self, request, *args, **kwargs):
        serializer = VariantInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        variant = services.variant_create(product=self.get_product(), **serializer.validated_data, user=request.user)
        return Response(VariantOutputSerializer(variant).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        variant = self.get_object()
        serializer = VariantInputSerializer(data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        variant = services.variant_update(variant=variant, data=serializer.validated_data, user=request.user)
        return Response(VariantOutputSerializer(variant).data)

    def destroy(self, request, *args, **kwargs):
        services.variant_delete(variant=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


_image_id = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Image id")


@extend_schema_view(
    list=extend_schema(summary="Images of a product, in position order", parameters=[_product_slug]),
    retrieve=extend_schema(parameters=[_product_slug, _image_id]),
    create=extend_schema(
        summary="Upload an image (multipart)",
        parameters=[_product_slug],
        request={"multipart/form-data": ImageInputSerializer},
        responses={201: ImageOutputSerializer},
    ),
    partial_update=extend_schema(
        parameters=[_product_slug, _image_id], request=ImageUpdateSerializer, responses=ImageOutputSerializer
    ),
    destroy=extend_schema(parameters=[_product_slug, _image_id], responses={204: None}),
)
class ProductImageViewSet(ProductScopedMixin, CachedReadMixin, viewsets.ModelViewSet):
    permission_classes = [IsStaffOrReadOnly]
    queryset = ProductImage.objects.all()
    serializer_class = ImageOutputSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ProductImage.objects.none()
        return selectors.image_list().filter(product=self.get_product())

    def get_parsers(self):
        # A file travels only in the upload (multipart); an edit is JSON like every other body.
        request = getattr(self, "request", None)  # None while drf-spectacular builds the schema
        if getattr(self, "action", None) == "create" or getattr(request, "method", None) == "POST":
            return [MultiPartParser(), FormParser()]
        return [JSONParser()]

    def get_serializer_class(self):
        if self.action == "create":
            return ImageInputSerializer
        if self.action == "partial_update":
            return ImageUpdateSerializer
        return ImageOutputSerializer

    def _output(self, image: ProductImage, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(ImageOutputSerializer(image, context=self.get_serializer_context()).data, status=status_code)

    def create(self, request, *args, **kwargs):
        upload_size_check(content_length=request.META.get("CONTENT_LENGTH"))  # before the body is parsed
        serializer = ImageInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        image = services.image_create(product=self.get_product(), **serializer.validated_data)
        return self._output(image, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        image = self.get_object()
        serializer = ImageUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return self._output(services.image_update(image=image, data=serializer.validated_data))

    def destroy(self, request, *args, **kwargs):
        services.image_delete(image=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
