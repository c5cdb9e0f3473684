"""Staff CRUD of coupons. `POST /api/coupons/validate/` reads the user's cart, so the cart app serves it
(`cart.coupon_urls`, included in config/urls.py under the same prefix): coupons never imports the cart.
"""

from rest_framework.routers import DefaultRouter

from coupons import views

app_name = "coupons"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("", views.CouponViewSet, basename="coupon")

urlpatterns = router.urls
