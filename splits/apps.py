from django.apps import AppConfig


class SplitsConfig(AppConfig):
    name = "splits"
    default_auto_field = "django.db.models.BigAutoField"
