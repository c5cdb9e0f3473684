from django.urls import path

from cart import views

app_name = "cart"

urlpatterns = [
    path("", views.CartView.as_view(), name="cart"),
    path("items/", views.CartItemListView.as_view(), name="item-list"),
    path("items/<int:pk>/", views.CartItemDetailView.as_view(), name="item-detail"),
    path("coupon/", views.CartCouponView.as_view(), name="coupon"),
    path("merge/", views.CartMergeView.as_view(), name="merge"),
]
