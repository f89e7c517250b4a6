from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from pagtracker.events import subscribe

        from .pushes import payment_event_push

        subscribe(after_commit=payment_event_push)
