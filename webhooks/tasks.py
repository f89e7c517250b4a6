"""Webhook tasks: thin wake-up calls; the state they act on is in our tables."""

from typing import Any

from django.tasks import task

from . import services


@task
def webhook_deliveries_send_task(delivery_ids: list[str], wakeup: list[Any] | None = None) -> int:
    """Send these deliveries if still due, then drain whatever else is due for a moment."""
    slot = (int(wakeup[0]), str(wakeup[1])) if wakeup else None
    sent = services.webhook_deliveries_send(delivery_ids=delivery_ids, wakeup=slot)
    services.webhook_recovery_ensure_scheduled()  # a look every 30 s at most
    return sent


@task
def webhook_deliveries_recover_task(scheduled_for: str | None = None) -> dict[str, Any] | None:
    """A link of the recovery chain: sweep, and schedule the next link."""
    return services.webhook_recovery_run(scheduled_for=scheduled_for)
