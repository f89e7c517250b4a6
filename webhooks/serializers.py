from typing import Any

from rest_framework import serializers

from pagtracker.api.fields import UtcDateTimeField
from pagtracker.events import EVENT_NAMES

from .services.sample import WebhookTestOutcome

EVENTS_HELP = "Event names: " + ", ".join(EVENT_NAMES) + "."


class WebhookInputSerializer(serializers.Serializer):
    """Create (``POST``) and replace (``PUT``); ``PATCH`` uses it with ``partial=True``. On
    ``PUT``, an omitted ``segredo`` keeps the current one, an omitted ``ativo`` or
    ``descricao`` keeps its value."""

    url = serializers.CharField(max_length=2048, help_text="https:// (or http://) URL.")
    eventos = serializers.ListField(
        child=serializers.CharField(max_length=40), help_text=EVENTS_HELP
    )
    segredo = serializers.CharField(
        required=False,
        trim_whitespace=False,
        max_length=256,
        help_text="Signing secret, 16-256 characters; omit to have one generated "
        "(whsec_ + base64). Returned only by the create call.",
    )
    ativo = serializers.BooleanField(required=False)
    descricao = serializers.CharField(max_length=255, required=False, allow_blank=True)

    def validate_eventos(self, value: list[str]) -> list[str]:
        if not value:
            raise serializers.ValidationError("Subscribe to at least one event.")
        unknown = [name for name in value if name not in EVENT_NAMES]
        if unknown:
            raise serializers.ValidationError(
                f"Unknown event(s): {', '.join(unknown)}. Known events: {', '.join(EVENT_NAMES)}."
            )
        return list(dict.fromkeys(value))


class WebhookOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.CharField()
    eventos = serializers.ListField(child=serializers.CharField(), source="events")
    ativo = serializers.BooleanField(source="active")
    descricao = serializers.CharField()
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()


class WebhookCreatedSerializer(WebhookOutputSerializer):
    segredo = serializers.CharField(
        source="plain_secret", help_text="Shown once: store it now; it is never returned again."
    )


class WebhookDeletedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    deleted = serializers.BooleanField()


class WebhookTestInputSerializer(serializers.Serializer):
    evento = serializers.ChoiceField(
        choices=list(EVENT_NAMES), required=False, default="payment.confirmed"
    )


class WebhookTestResultSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The attempt's id.")
    webhook_id = serializers.UUIDField()
    evento = serializers.CharField()
    resultado = serializers.ChoiceField(choices=["success", "failed"])
    codigo_http = serializers.IntegerField(allow_null=True)
    tempo_resposta = serializers.IntegerField(help_text="Milliseconds.")
    erro = serializers.CharField(allow_null=True, help_text="Why it failed, when it did.")
    created_at = UtcDateTimeField()


def webhook_test_result(outcome: WebhookTestOutcome) -> dict[str, Any]:
    attempt = outcome.attempt
    return dict(
        WebhookTestResultSerializer(
            {
                "id": attempt.pk,
                "webhook_id": outcome.delivery.endpoint_id,
                "evento": outcome.event.name,
                "resultado": "success" if attempt.success else "failed",
                "codigo_http": attempt.status_code,
                "tempo_resposta": attempt.latency_ms or 0,
                "erro": attempt.error or None,
                "created_at": attempt.started_at,
            }
        ).data
    )
