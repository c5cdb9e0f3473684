"""`/api/coupons/validate/`: whether a coupon applies to the user's cart. Served by the cart app, which
sits above coupons; config/urls.py includes it under the coupons' prefix, so the URL is the coupons' one.
"""

from django.urls import path

from cart import views

app_name = "coupon-validate"

urlpatterns = [
    path("validate/", views.CouponValidateView.as_view(), name="validate"),
]
