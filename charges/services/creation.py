"""Creating a charge (BR Code and QR image included) and cancelling a pending one."""

import secrets
import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from pagtracker.accounts.models import Merchant
from pagtracker.errors import InvalidState, NotFound
from pagtracker.pix.qrimage import render_data_uri
from pagtracker.providers import provider_for

from ..models import Charge, ChargeEventType, ChargeStatus
from .transitions import DEFAULT_EXPIRATION_SECONDS, _changes_record, charges_transition


def charge_create(
    *,
    merchant: Merchant,
    amount_cents: int,
    descricao: str = "",
    expires_in: int = DEFAULT_EXPIRATION_SECONDS,
    cliente: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    split_id: uuid.UUID | None = None,
    split_snapshot: dict[str, Any] | None = None,
) -> Charge:
    """Create a pending charge with its BR Code and QR image; emits ``payment.created``.

    The provider call and the PNG come first, outside any transaction: the transaction holds
    only the inserts. The charge expires by the periodic ``charges_expire_due``."""
    now = timezone.now()
    expires_at = now + timedelta(seconds=expires_in)
    provider = provider_for(merchant)
    issued = provider.charge_create(
        merchant=merchant, amount_cents=amount_cents, expires_at=expires_at, descricao=descricao
    )
    charge = Charge(
        merchant=merchant,
        provider=provider.name,
        txid=issued.txid,
        public_code=secrets.token_urlsafe(16),
        amount_cents=amount_cents,
        descricao=descricao,
        cliente=cliente,
        metadata=metadata or {},
        split_id=split_id,
        split_snapshot=split_snapshot,
        qr_code=issued.qr_code,
        qr_code_image=render_data_uri(issued.qr_code),
        created_at=now,
        expires_at=expires_at,
    )
    with transaction.atomic():
        charge.save(force_insert=True)
        _changes_record(
            [charge], ChargeEventType.CREATED, now=now, data={"amount_cents": amount_cents}
        )
    return charge


def charge_cancel(*, merchant_id: Any, charge_id: Any) -> Charge:
    """Cancel a pending charge (``DELETE /api/charges/{id}``); emits ``payment.canceled``.

    The provider is told first, outside any transaction; if the charge was paid or expired
    meanwhile, the cancel is refused and the charge keeps that status."""
    charge = (
        Charge.objects.select_related("merchant")
        .filter(merchant_id=merchant_id, pk=charge_id)
        .first()
    )
    if charge is None:
        raise NotFound("Charge not found.")
    _refuse_unless_pending(charge)
    provider_for(charge.merchant).charge_cancel(merchant=charge.merchant, txid=charge.txid)
    with transaction.atomic():
        if not charges_transition([charge], ChargeStatus.CANCELADO, cancelled_at=timezone.now()):
            charge.refresh_from_db(fields=["status"])
            _refuse_unless_pending(charge)
    return charge


def _refuse_unless_pending(charge: Charge) -> None:
    if charge.status != ChargeStatus.PENDENTE:
        raise InvalidState(
            f"Only pending charges can be cancelled; this one is {charge.status}.",
            details={"status": [charge.status]},
        )
