from django.apps import AppConfig


class ChargesConfig(AppConfig):
    name = "charges"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from pagtracker.sweeps import sweep_register

        from .services import charges_expire_due

        # The safety net under the per-slot expiry tasks (pagtracker/sweeps.py).
        sweep_register("charges_expired", charges_expire_due)
