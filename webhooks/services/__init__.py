"""Webhook services: the only code that changes webhook state.

- ``endpoints``: register, change, delete endpoints; the URL policy; secrets;
- ``events``: domain events become event rows and deliveries, in the causing transaction;
- ``deliveries``: claim, send, record and retry deliveries;
- ``wakeups``: what wakes the senders (wake-up slots, enqueues) and redelivery;
- ``recovery``: the sweep that finds what dead processes left behind, and its chain;
- ``sample``: test sends of sample events.
"""

from .deliveries import (
    retry_schedule,
    webhook_deliveries_send,
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
from .recovery import (
    webhook_deliveries_recover,
    webhook_recovery_ensure_scheduled,
    webhook_recovery_run,
)
from .sample import WebhookTestOutcome, sample_event_data, webhook_endpoint_test
from .wakeups import (
    webhook_deliveries_enqueue,
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
    "webhook_recovery_ensure_scheduled",
    "webhook_recovery_run",
    "webhook_send",
    "webhook_url_validate",
]
