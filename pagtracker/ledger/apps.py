from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "pagtracker.ledger"
    label = "ledger"
    verbose_name = "Razão"
    default_auto_field = "django.db.models.BigAutoField"
