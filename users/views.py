"""Thin views: validate input, call one service, serialize the result."""

from django.contrib import admin
from django.contrib.auth.signals import user_logged_in
from django.db.models import QuerySet
from django.shortcuts import render
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import filters, generics, mixins, status, viewsets
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from users import selectors, services
from users.lockout import LOCKED_OUT_MESSAGE, lockout_seconds_left, login_locked_out
from users.models import Address, User
from users.serializers import (
    AddressInputSerializer,
    AddressSerializer,
    DetailSerializer,
    LogoutInputSerializer,
    MeUpdateInputSerializer,
    PasswordChangeInputSerializer,
    PasswordResetConfirmInputSerializer,
    PasswordResetInputSerializer,
    RegisterInputSerializer,
    StaffUserSerializer,
    TokenRefreshSerializer,
    UserSerializer,
)
from users.throttles import AuthRateThrottle

RESET_LINK_SENT_MESSAGE = "If an account exists for this email, a password reset link has been sent to it."


class AuthThrottled:
    """Anonymous endpoints of the `auth` scope: no session (so no CSRF), throttled per client."""

    authentication_classes: tuple = ()
    permission_classes = (AllowAny,)
    throttle_classes = (AuthRateThrottle,)
    throttle_scope = "auth"


@extend_schema(tags=["auth"])
class TokenObtainPairView(AuthThrottled, jwt_views.TokenObtainPairView):
    """Exchange `{email, password}` for an access and a refresh token. Wrong credentials → 401.

    After 10 failed logins for an email within 15 minutes, from any address, that email → 429 until the
    window passes (users.lockout).
    """

    def post(self, request: Request, *args, **kwargs) -> Response:
        if login_locked_out(request=request):
            raise Throttled(wait=lockout_seconds_left(request=request), detail=LOCKED_OUT_MESSAGE)
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        # A token login is a login: last_login and the lockout reset follow Django's signal (as the admin's).
        user_logged_in.send(sender=type(serializer.user), request=request, user=serializer.user)
        return Response(serializer.validated_data, status=status.HTTP_200_OK)


@extend_schema(tags=["auth"])
class TokenRefreshView(AuthThrottled, jwt_views.TokenRefreshView):
    """Exchange a refresh token for a new pair; the old refresh token is blacklisted."""

    serializer_class = TokenRefreshSerializer


@extend_schema(tags=["auth"], request=RegisterInputSerializer, responses={201: UserSerializer})
class RegisterView(AuthThrottled, APIView):
    """Create an account; a welcome email follows."""

    def post(self, request: Request) -> Response:
        serializer = RegisterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(**serializer.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


@extend_schema(
    tags=["auth"],
    request=LogoutInputSerializer,
    responses={205: OpenApiResponse(description="The refresh token is blacklisted.")},
)
class LogoutView(APIView):
    """Blacklist one of your refresh tokens."""

    permission_classes = (IsAuthenticated,)

    def post(self, request: Request) -> Response:
        serializer = LogoutInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_logout(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_205_RESET_CONTENT)


@extend_schema(
    tags=["auth"],
    request=PasswordChangeInputSerializer,
    responses={204: OpenApiResponse(description="Password changed; every refresh token is revoked.")},
)
class PasswordChangeView(APIView):
    permission_classes = (IsAuthenticated,)

    def post(self, request: Request) -> Response:
        serializer = PasswordChangeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_change(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"], request=PasswordResetInputSerializer, responses={202: DetailSerializer})
class PasswordResetView(AuthThrottled, APIView):
    """Email a reset link if the account exists; the answer is the same either way."""

    def post(self, request: Request) -> Response:
        serializer = PasswordResetInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_request(**serializer.validated_data)
        return Response({"detail": RESET_LINK_SENT_MESSAGE}, status=status.HTTP_202_ACCEPTED)


@extend_schema(
    tags=["auth"],
    request=PasswordResetConfirmInputSerializer,
    responses={204: OpenApiResponse(description="Password set; the link no longer works.")},
)
class PasswordResetConfirmView(AuthThrottled, APIView):
    def post(self, request: Request) -> Response:
        serializer = PasswordResetConfirmInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_confirm(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    get=extend_schema(tags=["users"]),
    patch=extend_schema(tags=["users"], request=MeUpdateInputSerializer, responses={200: UserSerializer}),
)
class MeView(generics.RetrieveAPIView):
    """Your own profile; `email`, `id` and `date_joined` are read-only."""

    serializer_class = UserSerializer
    permission_classes = (IsAuthenticated,)

    def get_object(self) -> User:
        return self.request.user

    def patch(self, request: Request) -> Response:
        serializer = MeUpdateInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_update(user=request.user, data=serializer.validated_data)
        return Response(UserSerializer(user).data)


@extend_schema_view(
    create=extend_schema(request=AddressInputSerializer, responses={201: AddressSerializer}),
    update=extend_schema(request=AddressInputSerializer, responses={200: AddressSerializer}),
    partial_update=extend_schema(request=AddressInputSerializer, responses={200: AddressSerializer}),
)
@extend_schema(tags=["users"])
class AddressViewSet(viewsets.ModelViewSet):
    """Your own addresses; someone else's is a 404."""

    serializer_class = AddressSerializer
    permission_classes = (IsAuthenticated,)
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Address]:
        if getattr(self, "swagger_fake_view", False):
            return Address.objects.none()
        return selectors.address_list_for(user=self.request.user)

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = AddressInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        address = services.address_create(user=request.user, **serializer.validated_data)
        return Response(AddressSerializer(address).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args, **kwargs) -> Response:
        address = self.get_object()
        serializer = AddressInputSerializer(address, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        address = services.address_update(address=address, data=serializer.validated_data)
        return Response(AddressSerializer(address).data)

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        services.address_delete(address=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["users"])
class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """User administration (staff only). `?search=` on email and names, `?is_staff=`, `?is_active=`."""

    serializer_class = StaffUserSerializer
    permission_classes = (IsAdminUser,)
    lookup_value_regex = r"\d+"
    filter_backends = (DjangoFilterBackend, filters.SearchFilter, filters.OrderingFilter)
    filterset_fields = ("is_staff", "is_active")
    search_fields = ("email", "first_name", "last_name")
    ordering_fields = ("id", "email", "date_joined", "last_login")
    ordering = ("id",)

    def get_queryset(self) -> QuerySet[User]:
        return selectors.user_list()


def admin_login(request):
    """The admin's login view, refusing a locked-out email with a 429 page before any password is checked."""
    if request.method == "POST" and login_locked_out(request=request):
        context = {**admin.site.each_context(request), "title": "Too many failed logins"}
        return render(request, "users/admin_login_locked_out.html", context, status=429)
    return admin.site.login(request)
