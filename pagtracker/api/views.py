"""Platform endpoints: health, root, and the JSON 404 for unknown ``/api/`` URLs."""

import time
import uuid
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .errors import error_body

STARTED_AT = time.time()


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _check_cache() -> str:
    cache.set("health:ping", "pong", 5)
    return "ok" if cache.get("health:ping") == "pong" else "error"


def _check_channel_layer() -> str:
    layer = get_channel_layer()
    if layer is None:
        return "error"
    # A plain channel name, not a process-specific one (new_channel): this thread's event loop
    # may receive on it while the server's loop receives on the process's own channels.
    channel = f"health.{uuid.uuid4().hex}"
    async_to_sync(layer.send)(channel, {"type": "health.ping"})
    message = async_to_sync(layer.receive)(channel)
    return "ok" if message.get("type") == "health.ping" else "error"


class HealthView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes: list[type] = []

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        checks: dict[str, str] = {}
        for name, check in (
            ("database", _check_database),
            ("cache", _check_cache),
            ("channel_layer", _check_channel_layer),
        ):
            try:
                checks[name] = check()
            except Exception as exc:  # a health check reports, it never raises
                checks[name] = f"error: {type(exc).__name__}"
        healthy = all(value == "ok" for value in checks.values())
        return Response(
            {
                "status": "healthy" if healthy else "unhealthy",
                "checks": checks,
                "uptime": int((time.time() - STARTED_AT) * 1000),
                "timestamp": timezone.now().isoformat().replace("+00:00", "Z"),
            },
            status=200 if healthy else 503,
        )


class RootView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes: list[type] = []

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        return Response(
            {
                "name": "PagTracker",
                "description": "Self-hosted PIX payment gateway",
                "version": "v1",
                "endpoints": {
                    "api": "/api/",
                    "docs": "/api/docs/",
                    "schema": "/api/schema/",
                    "health": "/health",
                    "admin": "/admin/",
                    "websocket": "/ws/payments/<room>/",
                },
            }
        )


def api_not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    response = JsonResponse(
        error_body("resource_not_found", f"No API endpoint at {request.path}."), status=404
    )
    return response


BARE_BODY = {"id": "00000000-0000-0000-0000-000000000000", "email": "bare@example.com"}


def bench_bare_view(request: HttpRequest) -> JsonResponse:
    """The benchmarks' baseline: the same server and JSON, without DRF or any platform layer."""
    return JsonResponse(BARE_BODY)


class BenchBareDrfView(APIView):
    """The second baseline: a DRF view with no authentication, permission, throttling,
    envelope or version header (not under /api/). /api/users/me against it is what those
    platform layers cost; against ``bench_bare_view``, what they and DRF cost together."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        return Response(BARE_BODY)
