"""The application error type and the one DRF exception handler that maps it to HTTP.

Services raise subclasses of `ApplicationError`; views never catch them. A subclass picks its
status code (400 by default, 409 for a conflict with current state, ...), and may name the request
field the error is about, which yields DRF's validation shape `{"field": ["message"]}`.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    status_code = status.HTTP_400_BAD_REQUEST
    default_message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, field: str | None = None, extra: dict | None = None):
        self.message = message or self.default_message
        self.field = field
        self.extra = extra or {}
        super().__init__(self.message)

    def as_response_data(self) -> dict:
        if self.field:
            return {self.field: [self.message]}
        return {"detail": self.message, **self.extra}


class InvalidInput(ApplicationError):
    status_code = status.HTTP_400_BAD_REQUEST


class NotAllowed(ApplicationError):
    status_code = status.HTTP_403_FORBIDDEN
    default_message = "You are not allowed to do this."


class NotFound(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND
    default_message = "Not found."


class Conflict(ApplicationError):
    status_code = status.HTTP_409_CONFLICT
    default_message = "The request conflicts with the current state."


class UpstreamError(ApplicationError):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_message = "An upstream service failed. Please try again."


DATABASE_UNAVAILABLE = "The database is unavailable right now. Please try again shortly."


def database_unavailable_response() -> Response:
    """503 for a lost or refused database connection: the client may retry; never a 500 page."""
    return Response(
        {"detail": DATABASE_UNAVAILABLE}, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"}
    )


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(exc.as_response_data(), status=exc.status_code)
    if isinstance(exc, OperationalError | InterfaceError):
        logger.error("Database unavailable: %r", exc)
        return database_unavailable_response()
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    return drf_exception_handler(exc, context)
