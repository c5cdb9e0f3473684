from django.urls import path
from rest_framework.routers import DefaultRouter

from payments import views

app_name = "payments"

router = DefaultRouter()
router.include_root_view = False
router.register("", views.PaymentViewSet, basename="payment")

urlpatterns = [
    path("checkout/", views.CheckoutView.as_view(), name="checkout"),
    path("webhook/", views.StripeWebhookView.as_view(), name="webhook"),
    *router.urls,
]
