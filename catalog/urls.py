from rest_framework.routers import DefaultRouter

from catalog.views import CategoryViewSet, ProductImageViewSet, ProductViewSet, VariantViewSet

app_name = "catalog"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("categories", CategoryViewSet, basename="category")
router.register("products", ProductViewSet, basename="product")
router.register(r"products/(?P<slug>[^/.]+)/variants", VariantViewSet, basename="product-variant")
router.register(r"products/(?P<slug>[^/.]+)/images", ProductImageViewSet, basename="product-image")

urlpatterns = router.urls
