"""Domain events: the one seam between a state change and everything that reacts to it.

A service calls ``domain_event_emit`` (or ``domain_events_emit`` for a batch, e.g. the expiry
sweep) inside its transaction. Two kinds of subscribers:

- ``in_transaction`` subscribers run at once, inside the caller's transaction, with the list
  of events emitted together, so what they write (the webhook event rows) commits or rolls
  back with the change itself, and a batch can be written in bulk;
- ``after_commit`` subscribers run on ``transaction.on_commit`` (socket pushes), so nothing
  escapes a transaction that rolls back.

Apps subscribe in their ``AppConfig.ready``; the services that emit never import them.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from django.db import transaction
from django.utils import timezone

logger = logging.getLogger("pagtracker.events")

PAYMENT_EVENTS = (
    "payment.created",
    "payment.confirmed",
    "payment.expired",
    "payment.canceled",
    "payment.refunded",
)
EVENT_NAMES = (
    *PAYMENT_EVENTS,
    "split.processed",
    "split.failed",
    "checkout.completed",
    "payout.paid",
    "payout.failed",
)


@dataclass(frozen=True)
class DomainEvent:
    name: str
    merchant_id: UUID
    data: dict[str, Any]
    id: UUID = field(default_factory=uuid4)
    occurred_at: Any = field(default_factory=timezone.now)


Subscriber = Callable[[DomainEvent], None]
BatchSubscriber = Callable[[list[DomainEvent]], None]
_in_transaction: list[BatchSubscriber] = []
_after_commit: list[Subscriber] = []


def subscribe(
    *, in_transaction: BatchSubscriber | None = None, after_commit: Subscriber | None = None
) -> None:
    if in_transaction is not None and in_transaction not in _in_transaction:
        _in_transaction.append(in_transaction)
    if after_commit is not None and after_commit not in _after_commit:
        _after_commit.append(after_commit)


def _run_after_commit(events: list[DomainEvent]) -> None:
    for event in events:
        for subscriber in list(_after_commit):
            try:
                subscriber(event)
            except Exception:  # one failing push must not stop the others; it is committed
                logger.exception("after-commit subscriber %s failed for %s", subscriber, event.name)


def domain_events_emit(*, events: list[tuple[str, UUID, dict[str, Any]]]) -> list[DomainEvent]:
    """Emit several ``(name, merchant_id, data)`` events of one transaction together."""
    emitted = []
    for name, merchant_id, data in events:
        if name not in EVENT_NAMES:
            raise ValueError(f"unknown domain event {name!r}")
        emitted.append(DomainEvent(name=name, merchant_id=merchant_id, data=data))
    if emitted:
        for subscriber in list(_in_transaction):
            subscriber(emitted)
        transaction.on_commit(lambda: _run_after_commit(emitted), robust=True)
    return emitted


def domain_event_emit(*, name: str, merchant_id: UUID, data: dict[str, Any]) -> DomainEvent:
    return domain_events_emit(events=[(name, merchant_id, data)])[0]
