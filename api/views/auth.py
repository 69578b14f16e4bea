"""Sign in, refresh, log out, change password."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api import auth
from api.errors import InvalidCredentials
from api.permissions import IsPerson
from api.schema import problems
from api.serializers.auth import LogoutInput, PasswordChangeInput, RefreshInput, SignInInput, TokenPairOutput
from api.throttles import PasswordChangeThrottle, SignInEmailThrottle, SignInIpThrottle
from guardians import sessions

TAG = "Authentication"
TOKEN_EXAMPLE = OpenApiExample(
    "Token pair",
    value={
        "access": "eyJhbGciOiJIUzI1NiIs...",
        "refresh": "eyJhbGciOiJIUzI1NiIs...",
        "access_expires_at": "2026-11-28T03:15:00Z",
        "refresh_expires_at": "2026-12-28T03:00:00Z",
        "session_id": "5f0c6a8e-3a51-4a5e-9b55-0a3f0b8e2a1d",
    },
    response_only=True,
)


class CredentialExchangeView(APIView):
    """Reads no credentials from headers, yet answers a wrong password or token with 401.

    Without authenticators DRF would turn AuthenticationFailed into 403.
    """

    authentication_classes = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request):
        return auth.JWTSessionAuthentication().authenticate_header(request)


class SignInView(CredentialExchangeView):
    throttle_classes = [SignInIpThrottle, SignInEmailThrottle]

    @extend_schema(
        operation_id="auth_token_create",
        tags=[TAG],
        summary="Sign in",
        description="Exchange email and password for a 15-minute access token and a rotating refresh token. "
        "Attempts are throttled per address and per IP.",
        request=SignInInput,
        responses={200: TokenPairOutput, **problems(400, {401: ["invalid_credentials"]}, 429)},
        examples=[
            OpenApiExample("Sign in", value={"email": "olivia.parent@example.com", "password": "correct horse battery"}, request_only=True),
            TOKEN_EXAMPLE,
        ],
        auth=[],
    )
    def post(self, request):
        data = SignInInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, email=data.validated_data["email"].lower(), password=data.validated_data["password"])
        if user is None or not user.is_active:
            raise InvalidCredentials()
        tokens = auth.tokens_for_new_session(user, user_agent=request.headers.get("User-Agent", ""))
        return Response(TokenPairOutput(tokens).data)


class RefreshView(CredentialExchangeView):
    @extend_schema(
        operation_id="auth_token_refresh",
        tags=[TAG],
        summary="Refresh tokens",
        description="Exchange the current refresh token for a new pair. Each refresh token works once; "
        "presenting one that was already used ends the whole session (`refresh_token_reused`).",
        request=RefreshInput,
        responses={200: TokenPairOutput, **problems(400, {401: ["token_invalid", "session_revoked"], 422: ["refresh_token_reused"]})},
        examples=[OpenApiExample("Refresh", value={"refresh": "eyJhbGciOiJIUzI1NiIs..."}, request_only=True), TOKEN_EXAMPLE],
        auth=[],
    )
    def post(self, request):
        data = RefreshInput(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = auth.tokens_rotate(data.validated_data["refresh"])
        return Response(TokenPairOutput(tokens).data)


class LogoutView(APIView):
    permission_classes = [IsPerson]

    @extend_schema(
        operation_id="auth_logout",
        tags=[TAG],
        summary="Sign out",
        description="Ends the session of the access token: it and its refresh token stop working at once.",
        request=LogoutInput,
        responses={204: None, **problems(400)},
        examples=[OpenApiExample("Sign out", value={}, request_only=True)],
    )
    def post(self, request):
        LogoutInput(data=request.data).is_valid(raise_exception=True)
        sessions.session_revoke(session_id=request.auth_session.pk, reason="logout")
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(APIView):
    permission_classes = [IsPerson]
    throttle_classes = [PasswordChangeThrottle]

    @extend_schema(
        operation_id="auth_password_change",
        tags=[TAG],
        summary="Change password",
        description="Changes the password and ends every session, this one included; "
        "the response carries a fresh token pair for this device.",
        request=PasswordChangeInput,
        responses={200: TokenPairOutput, **problems(400, {403: ["wrong_password"]}, 429)},
        examples=[
            OpenApiExample(
                "Change password",
                value={"current_password": "correct horse battery", "new_password": "a much longer passphrase"},
                request_only=True,
            ),
            TOKEN_EXAMPLE,
        ],
    )
    def post(self, request):
        data = PasswordChangeInput(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        sessions.user_password_change(
            user=request.user,
            current_password=data.validated_data["current_password"],
            new_password=data.validated_data["new_password"],
        )
        tokens = auth.tokens_for_new_session(request.user, user_agent=request.headers.get("User-Agent", ""))
        return Response(TokenPairOutput(tokens).data)
