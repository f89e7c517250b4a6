from typing import Any

from rest_framework import serializers

from pagtracker.api.fields import UtcDateTimeField, iso_utc

from .models import ApiKey, Plan, User


class LoginSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(max_length=256, trim_whitespace=False)


class ApiKeyLoginSerializer(serializers.Serializer):
    api_key = serializers.CharField(max_length=200)


class RefreshSerializer(serializers.Serializer):
    refresh_token = serializers.CharField(max_length=2000)


class TokenPairSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()
    expires_in = serializers.IntegerField()
    token_type = serializers.CharField()


class UserOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    nome = serializers.CharField()
    empresa = serializers.CharField(source="merchant.empresa")
    plano = serializers.CharField(source="merchant.plano")
    chave_pix = serializers.CharField(source="merchant.chave_pix")
    cidade = serializers.CharField(source="merchant.cidade")
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()

    def to_representation(self, instance: User) -> dict[str, Any]:
        return user_output(instance)


def user_output(user: User) -> dict[str, Any]:
    """``UserOutputSerializer``'s output, built directly: DRF copies every declared field per
    serializer instance, which was the largest cost of ``GET /api/users/me``; the view calls
    this without building a serializer at all. The declared fields document the schema and
    tests check both agree."""
    merchant = user.merchant
    assert merchant is not None  # IsMerchant let the request in
    return {
        "id": str(user.id),
        "email": user.email,
        "nome": user.nome,
        "empresa": merchant.empresa,
        "plano": merchant.plano,
        "chave_pix": merchant.chave_pix,
        "cidade": merchant.cidade,
        "created_at": iso_utc(user.created_at),
        "updated_at": iso_utc(max(user.updated_at, merchant.updated_at)),
    }


class UserUpdateSerializer(serializers.Serializer):
    nome = serializers.CharField(max_length=200, required=False, allow_blank=True)
    empresa = serializers.CharField(max_length=200, required=False, allow_blank=True)
    chave_pix = serializers.CharField(max_length=100, required=False, allow_blank=True)
    cidade = serializers.CharField(max_length=60, required=False, allow_blank=True)
    plano = serializers.ChoiceField(choices=Plan.choices, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError(
                {name: ["Unknown or read-only field."] for name in sorted(unknown)}
            )
        return attrs


class ApiKeyCreateSerializer(serializers.Serializer):
    descricao = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    expiracao = serializers.IntegerField(
        min_value=1,
        max_value=3650,
        required=False,
        allow_null=True,
        help_text="Days until it expires.",
    )
    livemode = serializers.BooleanField(
        required=False, default=False, help_text="pt_live_ when true, pt_test_ (sandbox) else."
    )


class ApiKeyCreatedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    api_key = serializers.CharField(help_text="Shown only once.")
    descricao = serializers.CharField()
    created_at = UtcDateTimeField()
    expires_at = UtcDateTimeField(allow_null=True)


class ApiKeyOutputSerializer(serializers.ModelSerializer):
    created_at = UtcDateTimeField()
    expires_at = UtcDateTimeField(allow_null=True)
    revoked_at = UtcDateTimeField(allow_null=True)
    last_used_at = UtcDateTimeField(allow_null=True)

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "prefix",
            "descricao",
            "livemode",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
        ]


class GerencianetCredentialsSerializer(serializers.Serializer):
    client_id = serializers.CharField(max_length=200)
    client_secret = serializers.CharField(max_length=500)
    pix_key = serializers.CharField(max_length=100)
    certificate = serializers.CharField(required=False, allow_blank=True, max_length=200_000)
    sandbox = serializers.BooleanField(required=False, default=False)


class CredentialsSavedSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
