"""Webhook services: the only code that changes webhook state.

- ``endpoints``: register, change, delete endpoints; the URL policy; secrets;
- ``events``: domain events become event rows and deliveries, in the causing transaction;
- ``deliveries``: claim, send and record a batch of deliveries; the retry schedule;
- ``wakeups``: the sending task and what wakes it (wake-up slots, enqueues), redelivery;
- ``recovery``: the sweep that finds what dead processes left behind;
- ``sample``: test sends of sample events.

Imports go one way: ``deliveries`` is the base; ``wakeups`` and ``endpoints`` build on it;
``recovery`` and ``events`` on ``wakeups``; ``sample`` on ``deliveries``, ``endpoints`` and
``events``.
"""

from .deliveries import (
    retry_schedule,
    webhook_deliveries_send_batch,
    webhook_deliveries_stop,
    webhook_send,
)
from .endpoints import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_secret,
    webhook_endpoint_secrets_reencrypt,
    webhook_endpoint_update,
    webhook_url_validate,
)
from .events import webhook_events_record, webhook_payload
from .recovery import webhook_deliveries_recover
from .sample import WebhookTestOutcome, sample_event_data, webhook_endpoint_test
from .wakeups import (
    webhook_deliveries_enqueue,
    webhook_deliveries_send,
    webhook_deliveries_send_task,
    webhook_deliveries_wake,
    webhook_delivery_redeliver,
)

__all__ = [
    "WebhookTestOutcome",
    "retry_schedule",
    "sample_event_data",
    "webhook_deliveries_enqueue",
    "webhook_deliveries_recover",
    "webhook_deliveries_send",
    "webhook_deliveries_send_batch",
    "webhook_deliveries_send_task",
    "webhook_deliveries_stop",
    "webhook_deliveries_wake",
    "webhook_delivery_redeliver",
    "webhook_endpoint_create",
    "webhook_endpoint_delete",
    "webhook_endpoint_secret",
    "webhook_endpoint_secrets_reencrypt",
    "webhook_endpoint_test",
    "webhook_endpoint_update",
    "webhook_events_record",
    "webhook_payload",
    "webhook_send",
    "webhook_url_validate",
]
