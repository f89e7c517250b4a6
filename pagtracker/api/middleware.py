"""Request ids, API versioning and the JSON 500 for ``/api/``."""

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from .errors import error_body, internal_error_response

SUPPORTED_VERSIONS = {"v1"}
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/payouts/")


class ApiConventionsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api_request(request):
            return self.get_response(request)
        version = request.META.get("HTTP_X_API_VERSION", "").strip()
        if version and version not in SUPPORTED_VERSIONS:
            response: HttpResponse = JsonResponse(
                error_body(
                    "unsupported_version",
                    f"API version {version!r} is not supported; use v1 or omit the header.",
                    {"supported": sorted(SUPPORTED_VERSIONS)},
                ),
                status=400,
            )
        else:
            response = self.get_response(request)
        response["X-API-Version"] = "v1"
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_api_request(request):
            import logging

            logging.getLogger("pagtracker.api").exception("unhandled error in %s", request.path)
            return internal_error_response(request)
        return None
