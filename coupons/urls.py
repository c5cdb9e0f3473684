from django.urls import path
from rest_framework.routers import DefaultRouter

from coupons import views

app_name = "coupons"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("", views.CouponViewSet, basename="coupon")

urlpatterns = [
    path("validate/", views.CouponValidateView.as_view(), name="validate"),
    *router.urls,
]
