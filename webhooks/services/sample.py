"""Test sends: ``POST /api/webhooks/{id}/test`` delivers a sample event now."""

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from charges.models import Charge
from pagtracker.errors import NotFound

from ..models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from ..sender import SendResult
from .deliveries import (
    webhook_attempt_finish,
    webhook_claim_token,
    webhook_lease_for,
    webhook_send,
)
from .endpoints import webhook_endpoint_secret
from .events import webhook_charge_data, webhook_payload


def sample_event_data(name: str) -> dict[str, Any]:
    """What ``POST /api/webhooks/{id}/test`` sends: the shape of a real event of that name,
    with made-up values and ``"teste": true``."""
    now = timezone.now()
    sample_id = str(uuid.uuid4())
    if name.startswith("payment."):
        status = {
            "payment.created": "pendente",
            "payment.confirmed": "pago",
            "payment.expired": "expirado",
            "payment.canceled": "cancelado",
            "payment.refunded": "reembolsado",
        }[name]
        # Rendered as real events are; never saved.
        charge = Charge(
            id=sample_id,
            txid="TESTE" + uuid.uuid4().hex[:25],
            public_code="teste",
            status=status,
            amount_cents=10050,
            refunded_cents=10050 if status == "reembolsado" else 0,
            descricao="Evento de teste",
            created_at=now,
            paid_at=now if status in ("pago", "reembolsado") else None,
            expires_at=now,
            cancelled_at=now if status == "cancelado" else None,
        )
        return {**webhook_charge_data(charge), "teste": True}
    if name.startswith("payout."):
        return {
            "id": sample_id,
            "external_id": "teste-1",
            "amount_cents": 10050,
            "status": "paid" if name == "payout.paid" else "failed",
            "teste": True,
        }
    if name.startswith("split."):
        return {"id": sample_id, "charge_id": str(uuid.uuid4()), "shares": [], "teste": True}
    return {"id": sample_id, "checkout_id": str(uuid.uuid4()), "valor": 100.5, "teste": True}


@dataclass(frozen=True)
class WebhookTestOutcome:
    attempt: WebhookAttempt
    delivery: WebhookDelivery
    event: WebhookEvent
    result: SendResult


def webhook_endpoint_test(
    *, merchant_id: Any, webhook_id: Any, event_name: str
) -> WebhookTestOutcome:
    """Send a signed sample event of ``event_name`` to the endpoint now, synchronously, through
    the same signing and hardened client as real deliveries, and record it (a test event,
    one delivery, one attempt; never retried). Works on disabled endpoints too."""
    endpoint = WebhookEndpoint.objects.filter(
        merchant_id=merchant_id, pk=webhook_id, deleted_at__isnull=True
    ).first()
    if endpoint is None:
        raise NotFound("Webhook not found.")
    now = timezone.now()
    token = f"test:{webhook_claim_token()}"
    event_id = uuid.uuid4()
    with transaction.atomic():
        event = WebhookEvent.objects.create(
            id=event_id,
            merchant_id=merchant_id,
            name=event_name,
            payload=webhook_payload(
                event_id=event_id,
                name=event_name,
                data=sample_event_data(event_name),
                occurred_at=now,
            ),
            is_test=True,
            created_at=now,
        )
        delivery = WebhookDelivery.objects.create(
            event=event,
            endpoint=endpoint,
            merchant_id=merchant_id,
            attempts=1,
            cycle_attempts=1,
            next_attempt_at=None,
            locked_until=now + webhook_lease_for(1),
            claimed_by=token,
            last_attempt_at=now,
            created_at=now,
        )
        attempt = WebhookAttempt.objects.create(
            delivery=delivery, number=1, started_at=now, claimed_by=token
        )
    result = webhook_send(
        url=endpoint.url,
        secret=webhook_endpoint_secret(endpoint),
        msg_id=str(event.id),
        body=event.payload.encode(),
    )
    finished = timezone.now()
    with transaction.atomic():
        webhook_attempt_finish(attempt.pk, result, finished)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.SUCCEEDED if result.success else DeliveryStatus.FAILED,
            delivered_at=finished if result.success else None,
            last_status_code=result.status_code,
            last_error=result.error[:2000],
            locked_until=None,
            claimed_by="",
            updated_at=finished,
        )
    attempt.refresh_from_db()
    delivery.refresh_from_db()
    return WebhookTestOutcome(attempt=attempt, delivery=delivery, event=event, result=result)
