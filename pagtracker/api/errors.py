"""The one exception handler: every failure of every endpoint becomes
``{"error": {"code", "message", "details"}}`` with a stable code (CONTRACT §2)."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from pagtracker.errors import DomainError

logger = logging.getLogger("pagtracker.api")


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def internal_error_body(request: HttpRequest | Request | None) -> dict[str, Any]:
    request_id = getattr(request, "request_id", "")
    return error_body(
        "internal_error",
        f"Internal error. Quote request id {request_id} to support.",
        {"request_id": request_id},
    )


def internal_error_response(request: HttpRequest) -> JsonResponse:
    return JsonResponse(internal_error_body(request), status=500)


def _validation_details(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for field, messages in detail.items():
            if isinstance(messages, dict):
                for sub, sub_messages in _validation_details(messages).items():
                    out[f"{field}.{sub}"] = sub_messages
            elif isinstance(messages, list):
                flat: list[str] = []
                for index, item in enumerate(messages):
                    if isinstance(item, dict):
                        for sub, sub_messages in _validation_details(item).items():
                            out[f"{field}[{index}].{sub}"] = sub_messages
                    else:
                        flat.append(str(item))
                if flat:
                    out[field] = flat
            else:
                out[field] = [str(messages)]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [str(item) for item in detail]}
    return {"non_field_errors": [str(detail)]}


_DRF_CODES: list[tuple[type[exceptions.APIException], str, int, str | None]] = [
    (exceptions.ParseError, "invalid_input", 400, "Malformed request body: send valid JSON."),
    (
        exceptions.NotAuthenticated,
        "authentication_required",
        401,
        "Authentication required: send Authorization: Bearer <token or API key>.",
    ),
    (exceptions.AuthenticationFailed, "invalid_credentials", 401, None),
    (exceptions.PermissionDenied, "permission_denied", 403, None),
    (exceptions.NotFound, "resource_not_found", 404, "Resource not found."),
    (exceptions.MethodNotAllowed, "method_not_allowed", 405, None),
    (exceptions.NotAcceptable, "not_acceptable", 406, None),
    (exceptions.UnsupportedMediaType, "unsupported_media_type", 415, None),
    (exceptions.Throttled, "rate_limit_exceeded", 429, None),
]


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    request = context.get("request")
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        return Response(
            error_body(
                "invalid_input",
                "Some fields are invalid; see details.",
                _validation_details(exc.detail),
            ),
            status=422,
        )
    for klass, code, status, message in _DRF_CODES:
        if isinstance(exc, klass):
            headers: dict[str, str] = {}
            if getattr(exc, "auth_header", None):
                headers["WWW-Authenticate"] = str(exc.auth_header)  # type: ignore[attr-defined]
            if isinstance(exc, exceptions.Throttled):
                wait = int(exc.wait or 1)
                headers["Retry-After"] = str(max(wait, 1))
                message = f"Rate limit exceeded; retry in {max(wait, 1)} s."
            if isinstance(exc, exceptions.MethodNotAllowed) and request is not None:
                message = f"Method {request.method} is not allowed here."
            if isinstance(exc, exceptions.UnsupportedMediaType):
                message = "Unsupported Content-Type: send application/json."
            return Response(
                error_body(code, message or str(exc.detail)), status=status, headers=headers
            )
    if isinstance(exc, exceptions.APIException):
        return Response(error_body("invalid_input", str(exc.detail)), status=exc.status_code)
    logger.exception("unhandled error in %s", getattr(request, "path", "?"))
    # DRF's request reads request_id through to the HttpRequest the middleware set it on.
    return Response(internal_error_body(request), status=500)
