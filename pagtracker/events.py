"""Domain events: the one seam between a state change and everything that reacts to it.

A service calls ``domain_event_emit`` inside its transaction. Two kinds of subscribers:

- ``in_transaction`` subscribers run at once, inside the caller's transaction, so what they
  write (the webhook event rows) commits or rolls back with the change itself;
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
_in_transaction: list[Subscriber] = []
_after_commit: list[Subscriber] = []


def subscribe(
    *, in_transaction: Subscriber | None = None, after_commit: Subscriber | None = None
) -> None:
    if in_transaction is not None and in_transaction not in _in_transaction:
        _in_transaction.append(in_transaction)
    if after_commit is not None and after_commit not in _after_commit:
        _after_commit.append(after_commit)


def _run_after_commit(event: DomainEvent) -> None:
    for subscriber in list(_after_commit):
        try:
            subscriber(event)
        except Exception:  # one failing push must not stop the others; the change is committed
            logger.exception("after-commit subscriber %s failed for %s", subscriber, event.name)


def domain_event_emit(*, name: str, merchant_id: UUID, data: dict[str, Any]) -> DomainEvent:
    if name not in EVENT_NAMES:
        raise ValueError(f"unknown domain event {name!r}")
    event = DomainEvent(name=name, merchant_id=merchant_id, data=data)
    for subscriber in list(_in_transaction):
        subscriber(event)
    transaction.on_commit(lambda: _run_after_commit(event), robust=True)
    return event
