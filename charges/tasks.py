from django.tasks import task

from . import services


@task
def charge_expire_task(charge_id: str) -> int:
    """Runs when a charge's time is up. It sweeps every due charge, not only its own, so a
    burst of expiries is handled in bulk by the first task and the others find nothing."""
    changed = services.charge_expire(charge_id=charge_id)
    return int(changed) + services.charges_expire_due()
