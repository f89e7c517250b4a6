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
    """The schema class every view uses (settings: ``DEFAULT_SCHEMA_CLASS``)."""


ERROR_SCHEMAS = {
    "Error": {
        "type": "object",
        "properties": {
            "code": {"type": "string", "description": "Stable, machine-readable error code."},
            "message": {"type": "string", "description": "What went wrong and what to change."},
            "details": {
                "type": "object",
                "additionalProperties": {},
                "description": "Per-field messages or extra context.",
            },
        },
        "required": ["code", "details", "message"],
    },
    "ErrorEnvelope": {
        "type": "object",
        "properties": {"error": {"$ref": "#/components/schemas/Error"}},
        "required": ["error"],
    },
}
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def error_responses_hook(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook: each operation documents the error envelope for
    the failures it can return."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in ERROR_SCHEMAS.items():
        schemas.setdefault(name, schema)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in HTTP_METHODS:
                continue
            codes = ["400", "401", "403", "429", "500"]
            if "{" in path:
                codes.append("404")
            if method != "get":
                codes += ["409", "415", "422"]
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                responses.setdefault(
                    code,
                    {
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ErrorEnvelope"}
                            }
                        },
                        "description": ERROR_DESCRIPTIONS[code],
                    },
                )
            operation["responses"] = dict(sorted(responses.items()))
    return result


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
