from typing import Any

from django.core.management.base import BaseCommand, CommandError

from pagtracker.ledger.services import ledger_mismatches


class Command(BaseCommand):
    help = "Check that every merchant's balance slots add up to its ledger entries."

    def handle(self, *args: Any, **options: Any) -> None:
        mismatches = ledger_mismatches()
        for merchant_id, slots, entries in mismatches:
            self.stderr.write(
                f"merchant {merchant_id}: balance R$ {slots / 100:.2f}, "
                f"entries add up to R$ {entries / 100:.2f}"
            )
        if mismatches:
            raise CommandError(f"{len(mismatches)} merchant(s) out of balance.")
        self.stdout.write("ledger ok: every balance matches its entries")
