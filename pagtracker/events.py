"""Domain events: the one seam between a state change and what reacts to it.

Services emit inside their transaction; apps subscribe in ``AppConfig.ready``, so the
emitters never import them. ``in_transaction`` subscribers get each batch at once and their
writes commit or roll back with the change; ``after_commit`` subscribers run per event on
``transaction.on_commit``, so nothing escapes a rollback.
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
    """``data`` is domain data, money in centavos (``payment.*``: ``{"charge": Charge}``, and
    ``refund``); each subscriber renders it for its audience."""

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
    """Emit one event inside the caller's transaction."""
    return domain_events_emit(events=[(name, merchant_id, data)])[0]
