"""Sandbox wallets: test cards the hosted page pays with, through the real confirmation."""

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone

from pagtracker.accounts.models import Merchant
from pagtracker.errors import InsufficientFunds, InvalidInput, InvalidState, NotFound
from pagtracker.pix.ids import new_end_to_end_id

from ..models import (
    Charge,
    ChargeStatus,
    SandboxWallet,
)
from .payments import (
    PaymentResult,
    charge_payment_confirm,
)


def sandbox_wallet_create(
    *,
    merchant: Merchant,
    holder_name: str,
    card_number: str,
    pin: str,
    balance_cents: int,
    pin_limit_cents: int = -1,
) -> SandboxWallet:
    digits = "".join(ch for ch in card_number if ch.isdigit())
    if not 12 <= len(digits) <= 19:
        raise InvalidInput(
            "A card number has 12 to 19 digits.", details={"card_number": ["12 to 19 digits"]}
        )
    if not (pin.isdigit() and 4 <= len(pin) <= 6):
        raise InvalidInput("The PIN has 4 to 6 digits.", details={"pin": ["4 to 6 digits"]})
    return SandboxWallet.objects.create(
        merchant=merchant,
        holder_name=holder_name,
        card_number=digits,
        pin=make_password(pin),
        balance_cents=balance_cents,
        pin_limit_cents=pin_limit_cents,
    )


def sandbox_wallet_pay(*, public_code: str, card_number: str, pin: str = "") -> PaymentResult:
    """The payer pays a charge with a sandbox card (hosted page). The wallet is debited and
    the charge confirmed through ``charge_payment_confirm`` in one transaction."""
    digits = "".join(ch for ch in card_number if ch.isdigit())
    with transaction.atomic():
        charge = (
            Charge.objects.select_for_update(of=("self",), no_key=True)
            .select_related("merchant")
            .filter(public_code=public_code)
            .first()
        )
        if charge is None:
            raise NotFound("Charge not found.")
        if charge.status != ChargeStatus.PENDENTE or charge.expires_at <= timezone.now():
            raise InvalidState(
                "This charge can no longer be paid.", details={"status": [charge.status]}
            )
        wallet = (
            SandboxWallet.objects.select_for_update()
            .filter(merchant_id=charge.merchant_id, card_number=digits)
            .first()
        )
        if wallet is None:
            raise InvalidInput("Cartão não encontrado.", details={"card_number": ["unknown card"]})
        if wallet.pin_required_for(charge.amount_cents) and not check_password(pin, wallet.pin):
            raise InvalidInput("PIN incorreto.", details={"pin": ["wrong or missing PIN"]})
        if wallet.balance_cents < charge.amount_cents:
            raise InsufficientFunds("Saldo insuficiente no cartão.")
        wallet.balance_cents -= charge.amount_cents
        wallet.save(update_fields=["balance_cents"])
        return charge_payment_confirm(
            txid=charge.txid,
            end_to_end_id=new_end_to_end_id(ispb="00000000"),
            amount_cents=charge.amount_cents,
            source="sandbox_wallet",
            payload={"wallet": str(wallet.id)},
        )
