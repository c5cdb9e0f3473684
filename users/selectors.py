"""Reads of the users app."""

from django.db.models import QuerySet

from users.models import Address, User


def address_list_for(*, user: User) -> QuerySet[Address]:
    """A user's own addresses, the default first."""
    return Address.objects.filter(user=user).order_by("-is_default", "id")


def user_list() -> QuerySet[User]:
    """Every account, for staff."""
    return User.objects.order_by("id")
