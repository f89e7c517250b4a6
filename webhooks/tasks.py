"""Webhook tasks. The sending task lives with the code that enqueues it
(``services.wakeups``), so no service imports this module; it is named here as well, where
tasks are looked for, and for task rows queued under this path."""

from .services.wakeups import webhook_deliveries_send_task

__all__ = ["webhook_deliveries_send_task"]
