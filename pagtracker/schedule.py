"""Every recurring job of the platform, declared here and nowhere else.

The worker (``manage.py worker``, or the worker thread of ``manage.py serve``) runs each job
once per period across all worker processes (``pagtracker.scheduling``). A job is a sweep:
idempotent, cheap when there is nothing to do, and safe to run concurrently with itself.
Periods are settings, read when the worker starts."""

from django.conf import settings

from pagtracker.scheduling.services import Job


def schedule_jobs() -> list[Job]:
    return [
        # Charges whose time is up become ``expirado`` (and emit ``payment.expired``).
        Job(
            name="charges.expire_due",
            every=settings.CHARGE_EXPIRY_INTERVAL_SECONDS,
            call="charges.services.charges_expire_due",
        ),
        # Webhook deliveries whose task was lost are enqueued again; dead attempts closed.
        Job(
            name="webhooks.recover",
            every=settings.WEBHOOK_RECOVERY_INTERVAL_SECONDS,
            call="webhooks.services.webhook_deliveries_recover",
        ),
    ]
