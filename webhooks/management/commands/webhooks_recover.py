"""``manage.py webhooks_recover``: the recovery sweep, once, by hand (operators, cron).

The worker runs the same sweep every ``WEBHOOK_RECOVERY_INTERVAL_SECONDS`` by itself
(``pagtracker/schedule.py``)."""

import json
from typing import Any

from django.core.management.base import BaseCommand

from webhooks import services


class Command(BaseCommand):
    help = (
        "Re-enqueue webhook deliveries whose task was lost (due, unclaimed or with an expired "
        "lease) and close attempts of dead workers."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--grace",
            type=float,
            default=None,
            help="Only deliveries due for longer than this many seconds "
            "(default WEBHOOK_RECOVERY_GRACE_SECONDS).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = services.webhook_deliveries_recover(grace_seconds=options["grace"])
        self.stdout.write(json.dumps(result))
