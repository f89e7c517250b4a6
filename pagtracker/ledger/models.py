import uuid

from django.db import models
from django.utils import timezone


class EntryKind(models.TextChoices):
    PAYMENT_IN = "payment_in", "Pagamento recebido"
    REFUND_OUT = "refund_out", "Devolução"
    # A refund the PSP refused after its amount was debited: the money comes back.
    REFUND_REVERSAL = "refund_reversal", "Devolução não realizada"
    PAYOUT_OUT = "payout_out", "Pagamento enviado"
    SPLIT_OUT = "split_out", "Repasse de split"


class LedgerEntry(models.Model):
    """Append-only money movement of a merchant, in signed centavos (credit > 0, debit < 0).

    Written in the same transaction as the movement it records; ``(kind, reference_id)`` is
    unique, so a replayed movement cannot be booked twice."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed by (merchant, created_at) below, which serves lookups by merchant alone too.
    merchant = models.ForeignKey(
        "accounts.Merchant",
        on_delete=models.PROTECT,
        related_name="ledger_entries",
        db_index=False,
    )
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    amount_cents = models.BigIntegerField()
    reference_id = models.UUIDField(help_text="The charge, refund or payout that moved money.")
    charge = models.ForeignKey(
        "charges.Charge",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "lançamento"
        verbose_name_plural = "lançamentos"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "reference_id"], name="ledger_unique_movement")
        ]
        indexes = [models.Index(fields=["merchant", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount_cents / 100:.2f}"


BALANCE_SLOTS = 8


class BalanceSlot(models.Model):
    """A share of a merchant's running balance. Every ledger entry adds its amount to one slot
    of its merchant in the entry's own transaction, so the balance is the sum of at most
    ``BALANCE_SLOTS`` rows however many entries there are. Entries pick a slot at random:
    concurrent payments of one merchant rarely wait on the same row (on PostgreSQL; SQLite
    serialises writers anyway). ``manage.py ledger_check`` compares slots and entries."""

    merchant = models.ForeignKey(
        "accounts.Merchant", on_delete=models.PROTECT, related_name="balance_slots"
    )
    slot = models.PositiveSmallIntegerField()
    balance_cents = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "saldo (parcela)"
        verbose_name_plural = "saldos (parcelas)"
        constraints = [
            models.UniqueConstraint(fields=["merchant", "slot"], name="ledger_balance_slot")
        ]

    def __str__(self) -> str:
        return f"{self.merchant_id} #{self.slot}: {self.balance_cents / 100:.2f}"
