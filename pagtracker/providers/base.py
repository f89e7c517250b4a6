"""The Pix provider seam (CONTRACT §6): one interface, chosen per merchant.

Charge services call a provider to obtain the BR Code for a new charge, to remove a charge
at the PSP and to return money; confirmations come back from the provider's side (the
sandbox bank or a PSP webhook) into ``charges.services.charge_payment_confirm``."""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pagtracker.accounts.models import Merchant


@dataclass(frozen=True)
class ProviderCharge:
    txid: str
    qr_code: str  # the BR Code (pixCopiaECola)
    location: str = ""


@dataclass(frozen=True)
class ProviderRefund:
    status: str  # EM_PROCESSAMENTO | DEVOLVIDO | NAO_REALIZADO
    rtr_id: str = ""
    reason: str = ""


class PixProvider(Protocol):
    name: str

    def charge_create(
        self, *, merchant: Merchant, amount_cents: int, expires_at: datetime, descricao: str
    ) -> ProviderCharge: ...

    def charge_cancel(self, *, merchant: Merchant, txid: str) -> None: ...

    def refund_create(
        self,
        *,
        merchant: Merchant,
        end_to_end_id: str,
        return_id: str,
        amount_cents: int,
        motivo: str,
    ) -> ProviderRefund: ...


def provider_for(merchant: Merchant) -> PixProvider:
    from .sandbox import SandboxProvider

    if merchant.provider == "sandbox":
        return SandboxProvider()
    raise NotImplementedError(f"provider {merchant.provider!r} is not available yet")
