from typing import Any

from django.conf import settings
from rest_framework import serializers

from pagtracker.api.fields import ReaisField, UtcDateTimeField, iso_utc
from pagtracker.pix.errors import PixError
from pagtracker.pix.keys import validate_cpf_or_cnpj

from .models import Charge


class ClienteSerializer(serializers.Serializer):
    nome = serializers.CharField(max_length=200)
    email = serializers.EmailField(required=False, allow_blank=True)
    documento = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        help_text="CPF or CNPJ (alphanumeric CNPJ included).",
    )
    telefone = serializers.CharField(max_length=20, required=False, allow_blank=True)

    def validate_documento(self, value: str) -> str:
        if not value:
            return value
        try:
            return validate_cpf_or_cnpj(value)
        except PixError as exc:
            raise serializers.ValidationError(str(exc)) from exc


class ChargeCreateSerializer(serializers.Serializer):
    valor = ReaisField(help_text="Reais, at most 2 decimals.")
    descricao = serializers.CharField(max_length=140, required=False, allow_blank=True, default="")
    expiracao = serializers.IntegerField(
        min_value=60,
        max_value=86400,
        required=False,
        default=3600,
        help_text="Seconds until it expires.",
    )
    cliente = ClienteSerializer(required=False, allow_null=True)
    metadata = serializers.DictField(required=False, default=dict)
    split_id = serializers.UUIDField(required=False, allow_null=True)

    def validate_metadata(self, value: dict[str, Any]) -> dict[str, Any]:
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                raise serializers.ValidationError(f"metadata must be flat; {key!r} is nested.")
        if len(value) > 50:
            raise serializers.ValidationError("At most 50 metadata keys.")
        return value

    def validate_split_id(self, value: Any) -> Any:
        if value is not None:
            raise serializers.ValidationError("Split rules are not available yet.")
        return value


class ChargeOutputSerializer(serializers.ModelSerializer):
    qr_code_image = serializers.CharField()
    link_pagamento = serializers.SerializerMethodField()
    valor = ReaisField(source="amount_cents")
    valor_reembolsado = ReaisField(source="refunded_cents", min_cents=0)
    created_at = UtcDateTimeField()
    paid_at = UtcDateTimeField(allow_null=True)
    expires_at = UtcDateTimeField()
    cancelled_at = UtcDateTimeField(allow_null=True)

    class Meta:
        model = Charge
        fields = [
            "id",
            "txid",
            "qr_code",
            "qr_code_image",
            "link_pagamento",
            "valor",
            "valor_reembolsado",
            "descricao",
            "status",
            "cliente",
            "metadata",
            "split_id",
            "created_at",
            "paid_at",
            "expires_at",
            "cancelled_at",
            "end_to_end_id",
        ]

    def get_link_pagamento(self, charge: Charge) -> str:
        return f"{public_base_url(self.context.get('request'))}/pay/{charge.public_code}"

    def to_representation(self, charge: Charge) -> dict[str, Any]:
        # Built directly (hot path of create, get and confirm); the declared fields document
        # the schema and a test checks both agree.
        data = {
            "id": str(charge.id),
            "txid": charge.txid,
            "qr_code": charge.qr_code,
            "link_pagamento": self.get_link_pagamento(charge),
            "valor": charge.amount_cents / 100,
            "valor_reembolsado": charge.refunded_cents / 100,
            "descricao": charge.descricao,
            "status": charge.status,
            "cliente": charge.cliente,
            "metadata": charge.metadata,
            "split_id": str(charge.split_id) if charge.split_id else None,
            "created_at": iso_utc(charge.created_at),
            "paid_at": iso_utc(charge.paid_at),
            "expires_at": iso_utc(charge.expires_at),
            "cancelled_at": iso_utc(charge.cancelled_at),
            "end_to_end_id": charge.end_to_end_id,
        }
        # Lists defer the image column: touching it would cost a query per item.
        if "qr_code_image" in self.Meta.fields:
            data["qr_code_image"] = charge.qr_code_image
        return data


class ChargeListItemSerializer(ChargeOutputSerializer):
    """Lists leave out the image: it is the heaviest field and one GET away."""

    class Meta(ChargeOutputSerializer.Meta):
        fields = [f for f in ChargeOutputSerializer.Meta.fields if f != "qr_code_image"]


def public_base_url(request: Any) -> str:
    if settings.PUBLIC_BASE_URL:
        return str(settings.PUBLIC_BASE_URL)
    if request is None:
        return "http://127.0.0.1:8000"
    return f"{request.scheme}://{request.get_host()}"


class ChargeCancelledSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    cancelled_at = UtcDateTimeField()


class RefundCreateSerializer(serializers.Serializer):
    valor = ReaisField(
        required=False, allow_null=True, help_text="Omit to refund what is left of the paid amount."
    )
    motivo = serializers.CharField(max_length=140, required=False, allow_blank=True, default="")


class RefundOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField(help_text="EM_PROCESSAMENTO, DEVOLVIDO or NAO_REALIZADO")
    valor = ReaisField(source="amount_cents")
    message = serializers.SerializerMethodField()

    def get_message(self, refund: Any) -> str:
        return {
            "DEVOLVIDO": "Reembolso processado com sucesso",
            "EM_PROCESSAMENTO": "Reembolso em processamento",
            "NAO_REALIZADO": "Reembolso não realizado pelo provedor",
        }.get(refund.status, refund.status)


class SandboxPaySerializer(serializers.Serializer):
    valor = ReaisField(
        required=False, allow_null=True, help_text="Another amount, to simulate a wrong payment."
    )
    end_to_end_id = serializers.RegexField(
        r"^[a-zA-Z0-9]{32}$", required=False, help_text="Replay a notification by its id."
    )


class BalanceSerializer(serializers.Serializer):
    saldo = serializers.FloatField()
    moeda = serializers.CharField()
