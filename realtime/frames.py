"""The frames of seed 003's protocol: every frame is ``{"type", "payload"}`` JSON text."""

import json
import secrets
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pagtracker.api.fields import iso_utc

if TYPE_CHECKING:
    from charges.models import Charge

JOIN_ROOM = "JOIN_ROOM"
DEVICE_EVENTS = frozenset(
    {
        "ENTERED_SUMMARY",
        "CLICKED_PROCEED",
        "PAYMENT_METHOD_CHANGED",
        "DATA_FILLED",
        "CLICKED_PAY",
        "PAYMENT_SUCCESS",
        "PAYMENT_ERROR",
    }
)
SUPPORTED_EVENTS = [
    JOIN_ROOM,
    "ENTERED_SUMMARY",
    "CLICKED_PROCEED",
    "PAYMENT_METHOD_CHANGED",
    "DATA_FILLED",
    "CLICKED_PAY",
    "PAYMENT_SUCCESS",
    "PAYMENT_ERROR",
]
# Frames only the server sends; the broadcast API refuses them as eventType so a merchant's
# message is never mistaken for the server's word on a payment.
SERVER_EVENTS = frozenset(
    {
        "CONNECTION_ESTABLISHED",
        "ROOM_JOINED",
        "ERROR",
        "PAYMENT_STATUS",
        "PAYMENT_CONFIRMED",
        "PAYMENT_EXPIRED",
        "PAYMENT_CANCELED",
        "PAYMENT_REFUNDED",
    }
)

# ERROR codes
INVALID_JSON = "invalid_json"
INVALID_EVENT = "invalid_event"
UNKNOWN_EVENT = "unknown_event"
FRAME_TOO_LARGE = "frame_too_large"
BINARY_NOT_SUPPORTED = "binary_not_supported"
RATE_LIMIT_EXCEEDED = "rate_limit_exceeded"
NOT_IN_ROOM = "not_in_room"
ROOM_MISMATCH = "room_mismatch"
INTERNAL_ERROR = "internal_error"

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_client_id() -> str:
    return f"client_{int(time.time() * 1000)}_{secrets.token_hex(5)}"


def frame(type_: str, payload: dict[str, Any]) -> str:
    return _dumps({"type": type_, "payload": payload})


def connection_established(client_id: str, *, supported: list[str]) -> str:
    return frame(
        "CONNECTION_ESTABLISHED",
        {
            "clientId": client_id,
            "message": "Conexão WebSocket estabelecida com sucesso",
            "timestamp": now_iso(),
            "supportedEvents": supported,
        },
    )


def room_joined(*, room_id: str, device_id: str | None, client_id: str) -> str:
    return frame(
        "ROOM_JOINED",
        {"roomId": room_id, "deviceId": device_id, "clientId": client_id, "timestamp": now_iso()},
    )


def error(code: str, message: str) -> str:
    return frame("ERROR", {"message": message, "code": code, "timestamp": now_iso()})


def charge_payload(
    charge: "Charge", *, public: bool, refund: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A charge (its domain event's data: money in centavos) as seed 003's push payload,
    ``{roomId, chargeId, status, valor, paid_at, ...}``, money in reais. The room is open to
    whoever holds the hosted page's link, so ``public`` leaves out the merchant's own ``id``
    and ``metadata``, which the merchant channel gets."""
    payload: dict[str, Any] = {
        "roomId": charge.public_code,
        "chargeId": str(charge.id),
        "status": charge.status,
        "valor": charge.amount_cents / 100,
        "valor_reembolsado": charge.refunded_cents / 100,
        "txid": charge.txid,
        "end_to_end_id": charge.end_to_end_id,
        "created_at": iso_utc(charge.created_at),
        "paid_at": iso_utc(charge.paid_at),
        "expires_at": iso_utc(charge.expires_at),
        "cancelled_at": iso_utc(charge.cancelled_at),
    }
    if refund is not None:
        payload["refund"] = {
            "refund_id": refund["refund_id"],
            "valor": refund["amount_cents"] / 100,
            "motivo": refund["motivo"],
        }
    if not public:
        payload["id"] = payload["chargeId"]
        payload["metadata"] = charge.metadata
    payload["timestamp"] = now_iso()
    return payload


def broadcast(*, event_type: str, message: str, id_seguro: str | None, timestamp: str) -> str:
    return frame(
        event_type,
        {"message": message, "idSeguro": id_seguro, "timestamp": timestamp, "source": "api"},
    )
