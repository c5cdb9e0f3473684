from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.http import require_safe
from django.views.generic import RedirectView
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from config import views
from config.metrics import metrics_view

urlpatterns = [
    path("", RedirectView.as_view(url="/api/docs/", permanent=False)),
    path("favicon.svg", views.favicon, name="favicon"),
    path("favicon.ico", RedirectView.as_view(url="/favicon.svg", permanent=True)),
    path("healthz/", views.healthz, name="healthz"),
    path("readyz/", views.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),  # 404 unless METRICS_TOKEN is set and sent
    path("admin/login/", include("users.admin_urls")),  # the admin login behind the per-account lockout
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api/", include("users.urls")),
    path("api/catalog/", include("catalog.urls")),
    path("api/cart/", include("cart.urls")),
    path("api/coupons/", include("cart.coupon_urls")),  # validate/: judged against the cart, so the cart serves it
    path("api/coupons/", include("coupons.urls")),
    path("api/orders/", include("orders.urls")),
    path("api/payments/", include("payments.urls")),
    path("api/reviews/", include("reviews.urls")),
    # Last: any other path under /api/ is a JSON 404 (with DEBUG too), naming the slashed path if it exists.
    re_path(r"^api/(?P<path>.*)$", views.api_not_found),
]


@require_safe
def serve_media(request, path):
    """Local uploads at MEDIA_URL, also with DEBUG=false (WhiteNoise only knows files present at startup).
    Every stored name is unique (a uuid per upload), so a response may be cached for good."""
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


if not settings.S3_BUCKET:
    _media_prefix = urlsplit(settings.MEDIA_URL).path.strip("/")
    urlpatterns.append(re_path(rf"^{_media_prefix}/(?P<path>.+)$", serve_media, name="media"))

admin.site.site_header = "Shop administration"
admin.site.site_title = "Shop admin"
