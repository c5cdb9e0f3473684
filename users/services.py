"""Every write of the users app: accounts, passwords, tokens and addresses."""

import logging
import uuid
from typing import Any

from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from common.services import model_update
from common.tasks import enqueue_on_commit
from users.exceptions import (
    EmailAlreadyRegistered,
    InvalidRefreshToken,
    InvalidResetLink,
    WeakPassword,
    WrongPassword,
)
from users.models import Address, User, UserManager
from users.tasks import send_password_reset_email, send_welcome_email

logger = logging.getLogger(__name__)

PROFILE_FIELDS = frozenset({"first_name", "last_name", "phone"})
ADDRESS_FIELDS = frozenset(
    {"full_name", "line1", "line2", "city", "region", "postal_code", "country", "phone", "is_default"}
)


def _validate_password(*, password: str, user: User, field: str) -> None:
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise WeakPassword(exc.messages, field=field) from exc


def _revoke_refresh_tokens(*, user: User) -> None:
    """Blacklist every outstanding refresh token of the user (all sessions end)."""
    outstanding = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now())
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding.filter(blacklistedtoken__isnull=True)],
        ignore_conflicts=True,
    )


# --- Accounts ---------------------------------------------------------------------------------


@transaction.atomic
def user_register(*, email: str, password: str, first_name: str = "", last_name: str = "") -> User:
    """Create a customer account (never staff) and queue the welcome email after commit.

    The email is unique case-insensitively; the password passes Django's validators.
    """
    email = UserManager.normalize_email(email)
    if User.objects.filter(email__iexact=email).exists():
        raise EmailAlreadyRegistered()
    candidate = User(email=email, first_name=first_name, last_name=last_name)
    _validate_password(password=password, user=candidate, field="password")
    try:
        # A savepoint, so a concurrent registration losing the race leaves the transaction usable.
        with transaction.atomic():
            user = User.objects.create_user(
                email=email, password=password, first_name=first_name, last_name=last_name
            )
    except IntegrityError as exc:
        raise EmailAlreadyRegistered() from exc
    enqueue_on_commit(send_welcome_email, user_id=user.pk)
    return user


def user_update(*, user: User, data: dict[str, Any]) -> User:
    """Update the profile fields a user may change themselves (names, phone); others are ignored."""
    profile = {field: value for field, value in data.items() if field in PROFILE_FIELDS}
    user, _ = model_update(instance=user, fields=PROFILE_FIELDS, data=profile)
    return user


def user_logout(*, user: User, refresh: str) -> None:
    """Blacklist one of the user's refresh tokens, so it can no longer be refreshed."""
    try:
        token = RefreshToken(refresh)
    except TokenError as exc:
        raise InvalidRefreshToken(str(exc.args[0] if exc.args else exc)) from exc
    if str(token.payload.get(jwt_settings.USER_ID_CLAIM)) != str(user.pk):
        raise InvalidRefreshToken("This refresh token belongs to another account.")
    token.blacklist()


# --- Passwords --------------------------------------------------------------------------------


@transaction.atomic
def password_change(*, user: User, old_password: str, new_password: str) -> User:
    """Set a new password after checking the current one; every refresh token of the user is revoked."""
    if not user.check_password(old_password):
        raise WrongPassword()
    _validate_password(password=new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    _revoke_refresh_tokens(user=user)
    return user


def password_reset_token_make(*, user: User) -> tuple[str, str]:
    """The `(uid, token)` pair of a reset link; the token dies when the password changes."""
    return urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)


def password_reset_request(*, email: str) -> None:
    """Queue a reset email if an active account with a usable password has this email.

    Says nothing either way, so callers cannot tell whether an account exists.
    """
    user = User.objects.filter(email__iexact=UserManager.normalize_email(email), is_active=True).first()
    if user is None or not user.has_usable_password():
        logger.info("Password reset requested for an unknown or disabled account.")
        return
    request_id = uuid.uuid4().hex
    enqueue_on_commit(send_password_reset_email, user_id=user.pk, request_id=request_id)


def _user_from_uid(uid: str) -> User | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
    return User.objects.filter(pk=pk, is_active=True).first()


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set a new password from a reset link. The link works once: the new hash invalidates the token.

    Every refresh token of the user is revoked, since whoever held the old password is logged out.
    """
    user = _user_from_uid(uid)
    if user is None:
        raise InvalidResetLink(field="uid")
    if not default_token_generator.check_token(user, token):
        raise InvalidResetLink(field="token")
    _validate_password(password=new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    _revoke_refresh_tokens(user=user)
    return user


# --- Addresses --------------------------------------------------------------------------------


def _lock_user(user: User) -> None:
    # Serializes address writes of one user, so "one default" is decided on current data.
    User.objects.select_for_update().filter(pk=user.pk).first()


def _unset_other_defaults(*, user: User, keep_pk: int | None = None) -> None:
    Address.objects.filter(user=user, is_default=True).exclude(pk=keep_pk).update(is_default=False)


@transaction.atomic
def address_create(
    *,
    user: User,
    full_name: str,
    line1: str,
    city: str,
    postal_code: str,
    country: str,
    line2: str = "",
    region: str = "",
    phone: str = "",
    is_default: bool = False,
) -> Address:
    """Add an address. The first one, or one marked `is_default`, becomes the only default."""
    _lock_user(user)
    has_default = Address.objects.filter(user=user, is_default=True).exists()
    is_default = is_default or not has_default
    if is_default:
        _unset_other_defaults(user=user)
    return Address.objects.create(
        user=user,
        full_name=full_name,
        line1=line1,
        line2=line2,
        city=city,
        region=region,
        postal_code=postal_code,
        country=country,
        phone=phone,
        is_default=is_default,
    )


@transaction.atomic
def address_update(*, address: Address, data: dict[str, Any]) -> Address:
    """Change an address; making it the default unsets the user's previous default."""
    _lock_user(address.user)
    if data.get("is_default"):
        _unset_other_defaults(user=address.user, keep_pk=address.pk)
    fields = {field: value for field, value in data.items() if field in ADDRESS_FIELDS}
    address, _ = model_update(instance=address, fields=ADDRESS_FIELDS, data=fields)
    return address


@transaction.atomic
def address_delete(*, address: Address) -> None:
    """Delete an address; if it was the default, the oldest remaining one becomes the default."""
    user = address.user
    _lock_user(user)
    was_default = address.is_default
    address.delete()
    if was_default:
        successor = Address.objects.filter(user=user).order_by("id").first()
        if successor is not None:
            Address.objects.filter(pk=successor.pk).update(is_default=True)
