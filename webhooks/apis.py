from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pagtracker.api.pagination import paginate
from pagtracker.api.responses import ok
from pagtracker.api.schema import ErrorEnvelopeSerializer, enveloped
from pagtracker.errors import DomainError

from . import selectors, services
from .serializers import (
    WebhookCreatedSerializer,
    WebhookDeletedSerializer,
    WebhookInputSerializer,
    WebhookOutputSerializer,
    WebhookTestInputSerializer,
    WebhookTestResultSerializer,
    webhook_test_result,
)

PAGE_PARAMETERS = [
    OpenApiParameter("page", int),
    OpenApiParameter("per_page", int, description="default 20, at most 100"),
]


class WebhookListCreateView(APIView):
    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses=enveloped(WebhookOutputSerializer, many=True),
        tags=["webhooks"],
        operation_id="webhooks_list",
    )
    def get(self, request: Request) -> Response:
        queryset = selectors.webhook_endpoint_list(merchant_id=request.user.merchant_id)
        items, meta = paginate(request, queryset)
        return ok(WebhookOutputSerializer(items, many=True).data, meta=meta)

    @extend_schema(
        request=WebhookInputSerializer,
        responses={201: enveloped(WebhookCreatedSerializer)},
        tags=["webhooks"],
        summary="Register a webhook endpoint (the segredo is returned only here)",
    )
    def post(self, request: Request) -> Response:
        serializer = WebhookInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        endpoint = services.webhook_endpoint_create(
            merchant_id=request.user.merchant_id,
            url=values["url"],
            events=values["eventos"],
            secret=values.get("segredo"),
            active=values.get("ativo", True),
            descricao=values.get("descricao", ""),
        )
        return ok(WebhookCreatedSerializer(endpoint).data, status=201)


class WebhookDetailView(APIView):
    @extend_schema(responses=enveloped(WebhookOutputSerializer), tags=["webhooks"])
    def get(self, request: Request, webhook_id: str) -> Response:
        endpoint = selectors.webhook_endpoint_get(
            merchant_id=request.user.merchant_id, webhook_id=webhook_id
        )
        return ok(WebhookOutputSerializer(endpoint).data)

    @extend_schema(
        request=WebhookInputSerializer,
        responses=enveloped(WebhookOutputSerializer),
        tags=["webhooks"],
        summary="Replace a webhook endpoint (omitted segredo, ativo, descricao are kept)",
    )
    def put(self, request: Request, webhook_id: str) -> Response:
        return self._update(request, webhook_id, partial=False)

    @extend_schema(
        request=WebhookInputSerializer,
        responses=enveloped(WebhookOutputSerializer),
        tags=["webhooks"],
        summary="Change some fields of a webhook endpoint",
    )
    def patch(self, request: Request, webhook_id: str) -> Response:
        return self._update(request, webhook_id, partial=True)

    def _update(self, request: Request, webhook_id: str, *, partial: bool) -> Response:
        serializer = WebhookInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        endpoint = services.webhook_endpoint_update(
            merchant_id=request.user.merchant_id,
            webhook_id=webhook_id,
            url=values.get("url"),
            events=values.get("eventos"),
            secret=values.get("segredo"),
            active=values.get("ativo"),
            descricao=values.get("descricao"),
        )
        return ok(WebhookOutputSerializer(endpoint).data)

    @extend_schema(
        responses=enveloped(WebhookDeletedSerializer),
        tags=["webhooks"],
        summary="Delete a webhook endpoint",
    )
    def delete(self, request: Request, webhook_id: str) -> Response:
        endpoint = services.webhook_endpoint_delete(
            merchant_id=request.user.merchant_id, webhook_id=webhook_id
        )
        return ok({"id": str(endpoint.pk), "deleted": True})


class WebhookTestView(APIView):
    @extend_schema(
        request=WebhookTestInputSerializer,
        responses={
            200: enveloped(WebhookTestResultSerializer),
            502: OpenApiResponse(
                ErrorEnvelopeSerializer,
                description="`webhook_delivery_failed`: the receiver could not be reached "
                "(connection refused, timeout, DNS, an address the SSRF policy refuses); "
                "`details.attempt` is the recorded attempt in the 200 shape.",
            ),
        },
        tags=["webhooks"],
        summary="Send a signed sample event now and report the receiver's answer",
        description="The receiver answered (any HTTP status): 200 with `resultado` "
        "`success` (2xx) or `failed` (anything else, redirects included: they are never "
        "followed). No HTTP answer at all: 502 `webhook_delivery_failed`. Either way the "
        "attempt is recorded and visible in the admin.",
    )
    def post(self, request: Request, webhook_id: str) -> Response:
        serializer = WebhookTestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcome = services.webhook_endpoint_test(
            merchant_id=request.user.merchant_id,
            webhook_id=webhook_id,
            event_name=serializer.validated_data["evento"],
        )
        result = webhook_test_result(outcome)
        if outcome.attempt.status_code is None:
            raise DomainError(
                f"The test event could not be delivered: {outcome.attempt.error}",
                code="webhook_delivery_failed",
                status=502,
                details={"attempt": result},
            )
        return ok(result)
