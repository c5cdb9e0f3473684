from django.contrib.auth import get_user_model
from django_countries.serializers import CountryFieldMixin
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt import serializers as jwt_serializers

from users.models import Address, User

# --- Input ------------------------------------------------------------------------------------


class RegisterInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, trim_whitespace=False, style={"input_type": "password"})
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")


class LogoutInputSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class PasswordChangeInputSerializer(serializers.Serializer):
    old_password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})
    new_password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})


class PasswordResetInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmInputSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})


class MeUpdateInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "phone"]


class AddressInputSerializer(CountryFieldMixin, serializers.ModelSerializer):
    class Meta:
        model = Address
        fields = ["full_name", "line1", "line2", "city", "region", "postal_code", "country", "phone", "is_default"]

    def validate_country(self, value):
        # django-countries reads an object without "code" (`{}`) as no country at all: refuse it here.
        if not value:
            raise serializers.ValidationError('Give an ISO 3166-1 alpha-2 country code, e.g. "GB".')
        return value


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    """simplejwt's refresh, answering 401 (not 500) for a token whose user was deleted."""

    def validate(self, attrs):
        try:
            return super().validate(attrs)
        except get_user_model().DoesNotExist as exc:
            raise AuthenticationFailed(self.error_messages["no_active_account"], "no_active_account") from exc


# --- Output -----------------------------------------------------------------------------------


class UserSerializer(serializers.ModelSerializer):
    """A user's own profile."""

    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "phone", "date_joined"]
        read_only_fields = fields


class StaffUserSerializer(serializers.ModelSerializer):
    """An account as staff see it."""

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "phone",
            "is_active",
            "is_staff",
            "is_superuser",
            "date_joined",
            "last_login",
        ]
        read_only_fields = fields


class AddressSerializer(CountryFieldMixin, serializers.ModelSerializer):
    class Meta:
        model = Address
        fields = [
            "id",
            "full_name",
            "line1",
            "line2",
            "city",
            "region",
            "postal_code",
            "country",
            "phone",
            "is_default",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()
