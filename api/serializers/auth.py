from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.fields import get_error_detail


class SignInInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=256, trim_whitespace=False)


class RefreshInput(serializers.Serializer):
    refresh = serializers.CharField(max_length=2000)


class LogoutInput(serializers.Serializer):
    refresh = serializers.CharField(max_length=2000, required=False, help_text="Ignored; the session of the access token ends.")


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField(help_text="Bearer token for the Authorization header; lives at most 15 minutes.")
    refresh = serializers.CharField(help_text="Single use: each refresh returns a new one. Reusing an old one ends the session.")
    access_expires_at = serializers.DateTimeField()
    refresh_expires_at = serializers.DateTimeField()
    session_id = serializers.UUIDField()


class PasswordChangeInput(serializers.Serializer):
    current_password = serializers.CharField(max_length=256, trim_whitespace=False)
    new_password = serializers.CharField(max_length=256, trim_whitespace=False)

    def validate(self, attrs):
        user = self.context["request"].user
        try:
            password_validation.validate_password(attrs["new_password"], user=user)
        except DjangoValidationError as exc:  # name the field, or clients get `field: null`
            raise serializers.ValidationError({"new_password": get_error_detail(exc)}) from None
        return attrs
