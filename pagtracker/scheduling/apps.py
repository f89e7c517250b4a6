from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "pagtracker.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"
    default_auto_field = "django.db.models.BigAutoField"
