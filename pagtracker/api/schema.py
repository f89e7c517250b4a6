"""OpenAPI: every operation documents the error envelope for the failures it can return."""

import functools
from typing import Any

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable error code.")
    message = serializers.CharField(help_text="What went wrong and what to change.")
    details = serializers.DictField(help_text="Per-field messages or extra context.")


class ErrorEnvelopeSerializer(serializers.Serializer):
    error = ErrorSerializer()


@functools.cache
def enveloped(serializer: Any, *, many: bool = False, name: str | None = None) -> Any:
    """Schema of ``{data: <serializer>, meta: {}}`` for ``@extend_schema(responses=…)``;
    cached, so every view that returns one shape shares one component."""
    base = serializer if isinstance(serializer, type) else type(serializer)
    component = (
        name or f"{base.__name__.removesuffix('Serializer')}{'List' if many else ''}Envelope"
    )
    return inline_serializer(
        name=component,
        fields={
            "data": base(many=many),
            "meta": serializers.DictField(required=False),
        },
    )


ERROR_DESCRIPTIONS = {
    "400": "Malformed JSON (`invalid_input`) or `unsupported_version`.",
    "401": "`authentication_required` or `invalid_credentials`.",
    "403": "`permission_denied`.",
    "404": "`resource_not_found` (another merchant's ids too).",
    "409": "`invalid_state`, `resource_already_exists` or `idempotency_conflict`.",
    "415": "`unsupported_media_type`: send application/json.",
    "422": "`invalid_input` (per-field `details`), `insufficient_funds`, `idempotency_conflict`.",
    "429": "`rate_limit_exceeded`; see `Retry-After`.",
    "500": "`internal_error` with a request id.",
}


class EnvelopeAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        codes = ["400", "429", "500"]
        if self.view.get_permissions():
            codes += ["401", "403"]
        if "{" in self.path:
            codes.append("404")
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes += ["409", "415", "422"]
        for code in sorted(codes):
            if code in responses:
                continue
            response = self._get_response_for_code(
                ErrorEnvelopeSerializer, code, direction=direction
            )
            response["description"] = ERROR_DESCRIPTIONS[code]
            responses[code] = response
        return responses


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "pagtracker.accounts.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "`Authorization: Bearer pt_live_…` (or `pt_test_…`).",
        }


class AccessTokenScheme(OpenApiAuthenticationExtension):
    target_class = "pagtracker.accounts.authentication.AccessTokenAuthentication"
    name = "jwt"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


class ReaisFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "pagtracker.api.fields.ReaisField"

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        return {
            "type": "number",
            "format": "double",
            "multipleOf": 0.01,
            "description": "Reais with at most 2 decimals.",
        }
