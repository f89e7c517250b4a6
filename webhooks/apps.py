from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from pagtracker import events, sweeps

        from .services.events import webhook_events_record
        from .services.recovery import webhook_recovery_ensure_scheduled

        # In the emitting transaction: the event and delivery rows commit or roll back with
        # the change that caused them.
        events.subscribe(in_transaction=webhook_events_record)
        # The recovery chain also runs the other apps' periodic sweeps (pagtracker/sweeps.py).
        sweeps.sweeps_starter_set(webhook_recovery_ensure_scheduled)
