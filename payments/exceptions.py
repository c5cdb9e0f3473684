"""Domain errors of the payments app, mapped to HTTP by config.exceptions.exception_handler."""

from rest_framework import status

from config.exceptions import ApplicationError, Conflict, UpstreamError


class PaymentsNotConfigured(ApplicationError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_message = "Payments are not available: the payment provider is not configured."


class PaymentProviderError(UpstreamError):
    default_message = "The payment provider (Stripe) could not process the request. Please try again."


class OrderNotPayable(Conflict):
    default_message = "Only a pending order can be paid."


class PaymentNotRefundable(Conflict):
    default_message = "Only a succeeded payment can be refunded."
