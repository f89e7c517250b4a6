"""The sandbox bank: BR Codes built locally, refunds settled at once, no network.

Payments are simulated by ``POST /api/sandbox/charges/{id}/pay`` and by the sandbox wallet on
the hosted page; both go through ``charges.services.charge_payment_confirm``, the service a
real PSP notification uses.

``SANDBOX_PROVIDER_DELAY_MS`` (benchmarks only) makes every call wait as a real PSP's round
trip would, so the server's behaviour under slow provider calls can be measured."""

import time
from datetime import datetime

from django.conf import settings

from pagtracker.accounts.models import Merchant
from pagtracker.errors import InvalidInput
from pagtracker.pix.brcode import encode_static, fit_merchant_city, fit_merchant_name
from pagtracker.pix.errors import PixError
from pagtracker.pix.ids import new_return_id, new_static_txid

from .base import ProviderCharge, ProviderRefund

SANDBOX_ISPB = "00000000"


def _psp_latency() -> None:
    delay_ms = settings.SANDBOX_PROVIDER_DELAY_MS
    if delay_ms > 0:
        time.sleep(delay_ms / 1000)


class SandboxProvider:
    name = "sandbox"

    def charge_create(
        self, *, merchant: Merchant, amount_cents: int, expires_at: datetime, descricao: str
    ) -> ProviderCharge:
        _psp_latency()
        if not merchant.chave_pix:
            raise InvalidInput(
                "Set your Pix key first (PUT /api/users/me with chave_pix).",
                details={"chave_pix": ["required to build BR Codes"]},
            )
        txid = new_static_txid()
        try:
            qr_code = encode_static(
                key=merchant.chave_pix,
                merchant_name=fit_merchant_name(merchant.receiver_name),
                merchant_city=fit_merchant_city(merchant.cidade or "BRASILIA"),
                amount_cents=amount_cents,
                txid=txid,
            )
        except PixError as exc:
            raise InvalidInput(
                f"Cannot build the BR Code: {exc}", details={"qr_code": [str(exc)]}
            ) from exc
        return ProviderCharge(txid=txid, qr_code=qr_code)

    def charge_cancel(self, *, merchant: Merchant, txid: str) -> None:
        _psp_latency()
        # A static BR Code cannot be revoked at a bank; the gateway refuses later payments.
        return None

    def refund_create(
        self,
        *,
        merchant: Merchant,
        end_to_end_id: str,
        return_id: str,
        amount_cents: int,
        motivo: str,
    ) -> ProviderRefund:
        _psp_latency()
        return ProviderRefund(status="DEVOLVIDO", rtr_id=new_return_id(ispb=SANDBOX_ISPB))
