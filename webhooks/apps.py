from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from pagtracker import events

        from .services.events import webhook_events_record

        # In the emitting transaction: the event and delivery rows commit or roll back with
        # the change that caused them.
        events.subscribe(in_transaction=webhook_events_record)
