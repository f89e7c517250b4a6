"""Domain events become webhook events and deliveries, in the transaction that caused them."""

import json
import uuid
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from charges.models import Charge
from charges.serializers import ChargeListItemSerializer
from pagtracker.api.fields import iso_utc
from pagtracker.events import PAYMENT_EVENTS, DomainEvent

from ..models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent


def webhook_charge_data(charge: Charge) -> dict[str, Any]:
    """A charge as ``GET /api/charges/{id}`` shows it (the API's own rendering, money in
    reais, ``link_pagamento`` on ``PUBLIC_BASE_URL``), without ``qr_code_image``, as in
    lists: every event row stores its body, and ``qr_code`` carries the same BR Code."""
    return dict(ChargeListItemSerializer(charge).data)


def webhook_event_data(event: DomainEvent) -> dict[str, Any]:
    """The ``data`` merchants receive: for ``payment.*`` the charge (``webhook_charge_data``);
    for other events their data as emitted."""
    if event.name in PAYMENT_EVENTS:
        return webhook_charge_data(event.data["charge"])
    return event.data


def webhook_payload(
    *, event_id: uuid.UUID, name: str, data: dict[str, Any], occurred_at: datetime
) -> str:
    """The exact body merchants receive: ``{id, event, data, timestamp}``. Stored as the
    event's row and sent as is by every attempt, so a retry sends the same bytes."""
    return json.dumps(
        {"id": str(event_id), "event": name, "data": data, "timestamp": iso_utc(occurred_at)},
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def webhook_events_record(events: list[DomainEvent]) -> None:
    """The ``in_transaction`` subscriber of every domain event (``WebhooksConfig.ready``).

    Writes each event row and one ``pending``, immediately due delivery per active endpoint
    of its merchant subscribed to it, inside the caller's transaction: a change that rolls
    back leaves no event and no delivery. A batch (the expiry sweep) costs one endpoint query
    per merchant and two bulk inserts. After commit, a task is woken to send the deliveries
    (``webhook_deliveries_wake``); if that never happens (the process died right after
    commit), the recovery sweep finds them due and unclaimed, and enqueues them."""
    now = timezone.now()
    endpoints_by_merchant = {
        merchant_id: list(
            WebhookEndpoint.objects.filter(
                merchant_id=merchant_id, active=True, deleted_at=None
            ).values_list("id", "events")
        )
        for merchant_id in {event.merchant_id for event in events}
    }
    records = [
        WebhookEvent(
            id=event.id,
            merchant_id=event.merchant_id,
            name=event.name,
            payload=webhook_payload(
                event_id=event.id,
                name=event.name,
                data=webhook_event_data(event),
                occurred_at=event.occurred_at,
            ),
            created_at=event.occurred_at,
        )
        for event in events
    ]
    deliveries = [
        WebhookDelivery(
            event=record,
            endpoint_id=endpoint_id,
            merchant_id=event.merchant_id,
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
            created_at=now,
        )
        for event, record in zip(events, records, strict=True)
        for endpoint_id, subscribed in endpoints_by_merchant[event.merchant_id]
        if event.name in (subscribed or [])
    ]
    # Normally inside the emitter's transaction already (no savepoint needed); on its own,
    # the events and their deliveries still commit together.
    with transaction.atomic(savepoint=False):
        WebhookEvent.objects.bulk_create(records)
        if not deliveries:
            return
        WebhookDelivery.objects.bulk_create(deliveries)
        ids = [str(delivery.pk) for delivery in deliveries]
        transaction.on_commit(lambda: _deliveries_wake(ids), robust=True)


def _deliveries_wake(ids: list[str]) -> None:
    from .wakeups import webhook_deliveries_wake

    webhook_deliveries_wake(delivery_ids=ids)
