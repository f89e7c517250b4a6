import uuid

from django.db import models
from django.utils import timezone

from pagtracker.accounts.models import ProviderName


class ChargeStatus(models.TextChoices):
    PENDENTE = "pendente", "Pendente"
    PAGO = "pago", "Pago"
    EXPIRADO = "expirado", "Expirado"
    CANCELADO = "cancelado", "Cancelado"
    REEMBOLSADO = "reembolsado", "Reembolsado"


# The charge state machine: ``charges_transition`` writes only the moves listed here.
CHARGE_TRANSITIONS: dict[str, frozenset[str]] = {
    ChargeStatus.PENDENTE: frozenset(
        {ChargeStatus.PAGO, ChargeStatus.EXPIRADO, ChargeStatus.CANCELADO}
    ),
    ChargeStatus.PAGO: frozenset({ChargeStatus.REEMBOLSADO}),
    ChargeStatus.EXPIRADO: frozenset(),
    ChargeStatus.CANCELADO: frozenset(),
    ChargeStatus.REEMBOLSADO: frozenset(),
}

STATUS_ALIASES = {
    "pending": ChargeStatus.PENDENTE,
    "paid": ChargeStatus.PAGO,
    "expired": ChargeStatus.EXPIRADO,
    "cancelled": ChargeStatus.CANCELADO,
    "canceled": ChargeStatus.CANCELADO,
    "refunded": ChargeStatus.REEMBOLSADO,
}


class Charge(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: charge_merchant_created starts with it (one index less per write).
    merchant = models.ForeignKey(
        "accounts.Merchant", on_delete=models.PROTECT, related_name="charges", db_index=False
    )
    provider = models.CharField(
        max_length=20, choices=ProviderName.choices, default=ProviderName.SANDBOX
    )
    txid = models.CharField(max_length=35, unique=True)
    public_code = models.CharField(
        max_length=32, unique=True, help_text="The unguessable code of the hosted page and room."
    )
    status = models.CharField(
        max_length=20, choices=ChargeStatus.choices, default=ChargeStatus.PENDENTE
    )
    amount_cents = models.BigIntegerField()
    paid_amount_cents = models.BigIntegerField(default=0)
    refunded_cents = models.BigIntegerField(default=0)
    descricao = models.CharField(max_length=140, blank=True)
    cliente = models.JSONField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    split_id = models.UUIDField(null=True, blank=True)
    split_snapshot = models.JSONField(null=True, blank=True)
    qr_code = models.CharField(max_length=512, help_text="The BR Code (copia e cola).")
    qr_code_image = models.TextField(help_text="data:image/png;base64 of exactly qr_code.")
    end_to_end_id = models.CharField(max_length=32, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "cobrança"
        verbose_name_plural = "cobranças"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["merchant", "-created_at"], name="charge_merchant_created"),
            models.Index(
                fields=["merchant", "status", "-created_at"], name="charge_merchant_status"
            ),
            # Only pending charges: the expiry sweep's index, which a payment leaves instead
            # of moving within it.
            models.Index(
                fields=["expires_at"],
                name="charge_pending_expiry",
                condition=models.Q(status=ChargeStatus.PENDENTE),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="charge_amount_pos"
            ),
            models.CheckConstraint(
                condition=models.Q(refunded_cents__gte=0)
                & models.Q(refunded_cents__lte=models.F("paid_amount_cents")),
                name="charge_refunds_within_paid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.txid} R$ {self.amount_cents / 100:.2f} ({self.status})"

    def can_become(self, status: str) -> bool:
        return status in CHARGE_TRANSITIONS[self.status]


class ChargeEventType(models.TextChoices):
    CREATED = "created", "Criada"
    CONFIRMED = "confirmed", "Pagamento confirmado"
    PAYMENT_REJECTED = "payment_rejected", "Pagamento recusado"
    EXPIRED = "expired", "Expirada"
    CANCELED = "canceled", "Cancelada"
    REFUNDED = "refunded", "Devolução"


class ChargeEvent(models.Model):
    """Append-only history of a charge: every transition and every refused payment."""

    id = models.BigAutoField(primary_key=True)
    charge = models.ForeignKey(Charge, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=30, choices=ChargeEventType.choices)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "evento da cobrança"
        verbose_name_plural = "eventos da cobrança"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_type_display()} @ {self.created_at:%Y-%m-%d %H:%M:%S}"


class PaymentOutcome(models.TextChoices):
    APPLIED = "applied", "Aplicado"
    AMOUNT_MISMATCH = "amount_mismatch", "Valor divergente"
    NOT_PAYABLE = "not_payable", "Cobrança não pagável"
    UNKNOWN_TXID = "unknown_txid", "txid desconhecido"


class PaymentNotification(models.Model):
    """A payment the bank reported (sandbox or PSP webhook), applied or not.

    ``end_to_end_id`` is unique: the same notification twice is one row, so a replay
    cannot confirm twice."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    charge = models.ForeignKey(
        Charge, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    txid = models.CharField(max_length=35)
    end_to_end_id = models.CharField(max_length=32, unique=True)
    amount_cents = models.BigIntegerField()
    outcome = models.CharField(max_length=20, choices=PaymentOutcome.choices)
    source = models.CharField(max_length=30)
    payload = models.JSONField(default=dict, blank=True)
    paid_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "notificação de pagamento"
        verbose_name_plural = "notificações de pagamento"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.end_to_end_id} ({self.outcome})"


class RefundStatus(models.TextChoices):
    # Ours: the amount is debited and the PSP not answered yet.
    SOLICITADO = "SOLICITADO", "Solicitado"
    # BCB devolução statuses (pix.md §2.3).
    EM_PROCESSAMENTO = "EM_PROCESSAMENTO", "Em processamento"
    DEVOLVIDO = "DEVOLVIDO", "Devolvido"
    NAO_REALIZADO = "NAO_REALIZADO", "Não realizado"


class Refund(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="refunds")
    return_id = models.CharField(
        max_length=35, unique=True, help_text="The devolução id sent to the PSP."
    )
    rtr_id = models.CharField(max_length=32, blank=True)
    amount_cents = models.BigIntegerField()
    motivo = models.CharField(max_length=140, blank=True)
    status = models.CharField(
        max_length=20, choices=RefundStatus.choices, default=RefundStatus.SOLICITADO
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "devolução"
        verbose_name_plural = "devoluções"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="refund_amount_pos"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.return_id} R$ {self.amount_cents / 100:.2f} ({self.status})"


class SandboxWallet(models.Model):
    """A test payer's card in the sandbox bank (seed 001): card number + PIN, a balance, and
    ``pin_limit_cents`` above which the PIN is required (-1: never required)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(
        "accounts.Merchant", on_delete=models.CASCADE, related_name="sandbox_wallets"
    )
    holder_name = models.CharField(max_length=100)
    card_number = models.CharField(max_length=19)
    pin = models.CharField(max_length=128, help_text="Hashed; set it in the admin.")
    balance_cents = models.BigIntegerField(default=0)
    pin_limit_cents = models.BigIntegerField(default=-1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "carteira sandbox"
        verbose_name_plural = "carteiras sandbox"
        constraints = [
            models.UniqueConstraint(fields=["merchant", "card_number"], name="wallet_unique_card"),
            models.CheckConstraint(
                condition=models.Q(balance_cents__gte=0), name="wallet_balance_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.holder_name} ****{self.card_number[-4:]}"

    def pin_required_for(self, amount_cents: int) -> bool:
        return self.pin_limit_cents != -1 and amount_cents > self.pin_limit_cents
