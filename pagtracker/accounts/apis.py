from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pagtracker.api.idempotency import idempotent
from pagtracker.api.pagination import paginate
from pagtracker.api.responses import ok
from pagtracker.api.schema import enveloped
from pagtracker.api.throttling import login_attempt_allowed
from pagtracker.errors import DomainError

from . import services
from .authentication import api_key_resolve
from .models import ApiKey
from .serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeyLoginSerializer,
    ApiKeyOutputSerializer,
    CredentialsSavedSerializer,
    GerencianetCredentialsSerializer,
    LoginSerializer,
    RefreshSerializer,
    TokenPairSerializer,
    UserOutputSerializer,
    UserUpdateSerializer,
    user_output,
)
from .tokens import InvalidCredentials, token_pair_issue, token_pair_refresh


class TooManyLoginAttempts(DomainError):
    code = "rate_limit_exceeded"
    status = 429


class _PublicAuthView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]


class TokenView(_PublicAuthView):
    @extend_schema(
        request=LoginSerializer,
        responses={200: TokenPairSerializer},
        tags=["auth"],
        summary="Log in with e-mail and password (response not enveloped)",
    )
    def post(self, request: Request) -> Response:
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data["email"].lower()
        state = login_attempt_allowed(request=request, email=email)
        if state.exceeded:
            raise TooManyLoginAttempts(
                "Too many login attempts; wait before trying again.",
                details={"retry_after": state.reset_at},
            )
        # Django's authenticate takes DRF's request as DRF's own authentication classes pass it:
        # it proxies the HttpRequest's attributes.
        user = authenticate(request, username=email, password=serializer.validated_data["password"])
        if user is None or not user.is_active:
            raise InvalidCredentials("E-mail or password is incorrect.")
        return Response(token_pair_issue(user=user))


class ApiKeyTokenView(_PublicAuthView):
    @extend_schema(
        request=ApiKeyLoginSerializer,
        responses={200: TokenPairSerializer},
        tags=["auth"],
        summary="Exchange an API key for a token pair",
    )
    def post(self, request: Request) -> Response:
        serializer = ApiKeyLoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = api_key_resolve(serializer.validated_data["api_key"])
        if key is None:
            raise InvalidCredentials("The API key is invalid, expired or revoked.")
        return Response(token_pair_issue(user=key.created_by))


class TokenRefreshView(_PublicAuthView):
    @extend_schema(
        request=RefreshSerializer,
        responses={200: TokenPairSerializer},
        tags=["auth"],
        summary="Rotate a refresh token (each refresh token works once)",
    )
    def post(self, request: Request) -> Response:
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(
            token_pair_refresh(refresh_token=serializer.validated_data["refresh_token"])
        )


class MeView(APIView):
    @extend_schema(responses=enveloped(UserOutputSerializer), tags=["users"])
    def get(self, request: Request) -> Response:
        return ok(user_output(request.user))

    @extend_schema(
        request=UserUpdateSerializer, responses=enveloped(UserOutputSerializer), tags=["users"]
    )
    def put(self, request: Request) -> Response:
        serializer = UserUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_update_profile(user=request.user, **serializer.validated_data)
        return ok(user_output(user))


class ApiKeyListCreateView(APIView):
    @extend_schema(
        responses=enveloped(ApiKeyOutputSerializer, many=True),
        tags=["users"],
        operation_id="users_me_api_keys_list",
    )
    def get(self, request: Request) -> Response:
        queryset = ApiKey.objects.filter(merchant_id=request.user.merchant_id)
        items, meta = paginate(request, queryset)
        return ok(ApiKeyOutputSerializer(items, many=True).data, meta=meta)

    @extend_schema(
        request=ApiKeyCreateSerializer,
        responses={201: enveloped(ApiKeyCreatedSerializer)},
        tags=["users"],
        summary="Create an API key (the key is shown only here)",
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = ApiKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = services.api_key_create(
            user=request.user,
            descricao=serializer.validated_data["descricao"],
            expiracao_dias=serializer.validated_data.get("expiracao"),
            livemode=serializer.validated_data["livemode"],
        )
        key = issued.api_key
        data = ApiKeyCreatedSerializer(
            {
                "id": key.id,
                "api_key": issued.raw_key,
                "descricao": key.descricao,
                "created_at": key.created_at,
                "expires_at": key.expires_at,
            }
        ).data
        return ok(data, status=201)


class ApiKeyDetailView(APIView):
    @extend_schema(
        responses=enveloped(ApiKeyOutputSerializer), tags=["users"], summary="Revoke an API key"
    )
    def delete(self, request: Request, api_key_id: str) -> Response:
        key = services.api_key_revoke(merchant_id=request.user.merchant_id, api_key_id=api_key_id)
        return ok(ApiKeyOutputSerializer(key).data)


class GerencianetCredentialsView(APIView):
    @extend_schema(
        request=GerencianetCredentialsSerializer,
        tags=["users"],
        responses=enveloped(CredentialsSavedSerializer),
        summary="Store Efí (Gerencianet) credentials, encrypted at rest",
    )
    def put(self, request: Request) -> Response:
        serializer = GerencianetCredentialsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.psp_credentials_set(user=request.user, **serializer.validated_data)
        return ok({"success": True, "message": "Credenciais configuradas com sucesso"})
