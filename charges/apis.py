from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pagtracker.api.idempotency import idempotent
from pagtracker.api.pagination import paginate
from pagtracker.api.responses import ok
from pagtracker.api.schema import enveloped
from pagtracker.errors import InvalidInput, InvalidState
from pagtracker.ledger.services import balance_cents
from pagtracker.pix.ids import new_end_to_end_id

from . import selectors, services
from .models import PaymentOutcome
from .serializers import (
    BalanceSerializer,
    ChargeCancelledSerializer,
    ChargeCreateSerializer,
    ChargeListItemSerializer,
    ChargeOutputSerializer,
    RefundCreateSerializer,
    RefundOutputSerializer,
    SandboxPaySerializer,
)

LIST_FILTERS = [
    OpenApiParameter(
        "status",
        str,
        description="pendente pago expirado cancelado reembolsado, "
        "or pending paid expired cancelled refunded",
    ),
    OpenApiParameter("created_from", str, description="ISO 8601 date or date-time"),
    OpenApiParameter("created_to", str, description="ISO 8601 date or date-time"),
    OpenApiParameter("txid", str),
    OpenApiParameter("page", int),
    OpenApiParameter("per_page", int, description="default 20, at most 100"),
]


class ChargeListCreateView(APIView):
    @extend_schema(
        parameters=LIST_FILTERS,
        responses=enveloped(ChargeListItemSerializer, many=True),
        tags=["charges"],
        operation_id="charges_list",
    )
    def get(self, request: Request) -> Response:
        filters = request.query_params.dict()
        queryset = selectors.charge_list(merchant_id=request.user.merchant_id, filters=filters)
        counted = {k: v for k, v in filters.items() if k not in ("page", "per_page")}
        total_key = ("charges", request.user.merchant_id, tuple(sorted(counted.items())))
        items, meta = paginate(request, queryset, total_key=total_key)
        data = ChargeListItemSerializer(items, many=True, context={"request": request}).data
        return ok(data, meta=meta)

    @extend_schema(
        request=ChargeCreateSerializer,
        responses={201: enveloped(ChargeOutputSerializer)},
        tags=["charges"],
        summary="Create a Pix charge (send an Idempotency-Key)",
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = ChargeCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        charge = services.charge_create(
            merchant=request.user.merchant,
            amount_cents=values["valor"],
            descricao=values["descricao"],
            expires_in=values["expiracao"],
            cliente=values.get("cliente"),
            metadata=values["metadata"],
        )
        return ok(ChargeOutputSerializer(charge, context={"request": request}).data, status=201)


class ChargeDetailView(APIView):
    @extend_schema(responses=enveloped(ChargeOutputSerializer), tags=["charges"])
    def get(self, request: Request, charge_id: str) -> Response:
        charge = selectors.charge_get(merchant_id=request.user.merchant_id, charge_id=charge_id)
        return ok(ChargeOutputSerializer(charge, context={"request": request}).data)

    @extend_schema(
        responses=enveloped(ChargeCancelledSerializer),
        tags=["charges"],
        summary="Cancel a pending charge",
    )
    def delete(self, request: Request, charge_id: str) -> Response:
        charge = services.charge_cancel(merchant_id=request.user.merchant_id, charge_id=charge_id)
        return ok(ChargeCancelledSerializer(charge).data)


class ChargeRefundView(APIView):
    @extend_schema(
        request=RefundCreateSerializer,
        responses={201: enveloped(RefundOutputSerializer)},
        tags=["charges"],
        summary="Refund a paid charge, partially or in full",
    )
    @idempotent
    def post(self, request: Request, charge_id: str) -> Response:
        serializer = RefundCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        refund = services.charge_refund(
            merchant_id=request.user.merchant_id,
            charge_id=charge_id,
            amount_cents=serializer.validated_data.get("valor"),
            motivo=serializer.validated_data["motivo"],
        )
        return ok(RefundOutputSerializer(refund).data, status=201)


class BalanceView(APIView):
    @extend_schema(responses=enveloped(BalanceSerializer), tags=["charges"])
    def get(self, request: Request) -> Response:
        cents = balance_cents(merchant_id=request.user.merchant_id)
        return ok({"saldo": cents / 100, "moeda": "BRL"})


class SandboxPayView(APIView):
    @extend_schema(
        request=SandboxPaySerializer,
        responses=enveloped(ChargeOutputSerializer),
        tags=["sandbox"],
        summary="Simulate the bank paying a sandbox charge (optionally a wrong amount)",
    )
    def post(self, request: Request, charge_id: str) -> Response:
        fields: dict[str, Any] = {}
        if not (isinstance(request.data, dict) and not request.data):
            # An empty body ({} or none: pay the charge's amount) has nothing to validate.
            serializer = SandboxPaySerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            fields = serializer.validated_data
        charge = selectors.charge_get(merchant_id=request.user.merchant_id, charge_id=charge_id)
        if charge.provider != "sandbox":
            raise InvalidState("Only sandbox charges can be paid by the sandbox bank.")
        amount = fields.get("valor") or charge.amount_cents
        result = services.charge_payment_confirm(
            txid=charge.txid,
            end_to_end_id=fields.get("end_to_end_id") or new_end_to_end_id(),
            amount_cents=amount,
            source="sandbox_api",
            charge=charge,
        )
        outcome = result.notification.outcome
        if outcome == PaymentOutcome.AMOUNT_MISMATCH:
            raise InvalidInput(
                f"Paid R$ {amount / 100:.2f} but the charge is R$ {charge.amount_cents / 100:.2f}; "
                "the payment was recorded and not applied.",
                details={
                    "valor": ["does not match the charge"],
                    "end_to_end_id": [result.notification.end_to_end_id],
                },
            )
        if outcome == PaymentOutcome.NOT_PAYABLE:
            raise InvalidState(
                f"The charge is {result.charge.status if result.charge else '?'} "
                "and cannot be paid; the payment was recorded and not applied.",
                details={"end_to_end_id": [result.notification.end_to_end_id]},
            )
        # The service returns the charge it locked and wrote: no second read.
        paid = result.charge or selectors.charge_get(
            merchant_id=request.user.merchant_id, charge_id=charge_id
        )
        data = ChargeOutputSerializer(paid, context={"request": request}).data
        return ok(
            data,
            meta={"end_to_end_id": result.notification.end_to_end_id, "replayed": result.duplicate},
        )
