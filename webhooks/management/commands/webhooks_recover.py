"""``manage.py webhooks_recover``: the recovery sweep, by hand (operators, cron).

The same sweep runs by itself every ``WEBHOOK_RECOVERY_INTERVAL_SECONDS`` (60) on the task
queue; this command also restarts that chain if it has stopped."""

import json
from typing import Any

from django.core.management.base import BaseCommand

from webhooks import services


class Command(BaseCommand):
    help = (
        "Re-enqueue webhook deliveries whose task was lost (due, unclaimed or with an expired "
        "lease), close attempts of dead workers, and make sure the recurring sweep is scheduled."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--grace",
            type=float,
            default=None,
            help="Only deliveries due for longer than this many seconds "
            "(default WEBHOOK_RECOVERY_GRACE_SECONDS, 30).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = services.webhook_deliveries_recover(grace_seconds=options["grace"])
        result["sweep_scheduled"] = services.webhook_recovery_ensure_scheduled(force=True)
        self.stdout.write(json.dumps(result))
