"""Creating a charge (BR Code and QR image included) and cancelling a pending one."""

import secrets
import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from pagtracker import rows
from pagtracker.accounts.models import Merchant
from pagtracker.errors import InvalidState
from pagtracker.events import domain_event_emit
from pagtracker.pix.qrimage import render_data_uri
from pagtracker.providers import provider_for

from ..models import (
    Charge,
    ChargeEvent,
    ChargeEventType,
    ChargeStatus,
)
from .expiry import (
    _schedule_expiry,
)
from .transitions import (
    DEFAULT_EXPIRATION_SECONDS,
    _locked,
    _transition,
    charge_event_data,
)


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
    """Create a pending charge with its BR Code and QR image, and schedule its expiry.

    The provider call, the PNG and the rows' SQL (``pagtracker.rows``) are prepared before
    the transaction, so the write lock is held only for the inserts. Emits
    ``payment.created``."""
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
    inserts = [
        rows.insert(charge),
        rows.insert(
            ChargeEvent(
                charge=charge,
                type=ChargeEventType.CREATED,
                data={"valor": amount_cents / 100},
                created_at=now,
            )
        ),
    ]
    data = charge_event_data(charge)
    with transaction.atomic():
        for statement in inserts:
            rows.run(statement)
        domain_event_emit(name="payment.created", merchant_id=merchant.pk, data=data)
        _schedule_expiry(charge)
    charge._state.adding = False  # saved (by rows.run): a later save() updates it
    charge._state.db = "default"
    return charge


def charge_cancel(*, merchant_id: Any, charge_id: Any) -> Charge:
    """Cancel a pending charge (``DELETE /api/charges/{id}``); emits ``payment.canceled``."""
    with transaction.atomic():
        charge = _locked(merchant_id=merchant_id, charge_id=charge_id)
        if charge.status != ChargeStatus.PENDENTE:
            raise InvalidState(
                f"Only pending charges can be cancelled; this one is {charge.status}.",
                details={"status": [charge.status]},
            )
        provider_for(charge.merchant).charge_cancel(merchant=charge.merchant, txid=charge.txid)
        charge.cancelled_at = timezone.now()
        _transition(
            charge,
            ChargeStatus.CANCELADO,
            event_type=ChargeEventType.CANCELED,
            event_name="payment.canceled",
        )
    return charge
