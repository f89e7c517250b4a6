"""Charge services: the only code that changes a charge, by sub-domain: ``creation``
(create, cancel), ``payments`` (confirm), ``refunds``, ``expiry``, ``wallets`` (sandbox cards),
and ``transitions``, what they share. Import them from here.

Every transition locks the charge row, checks ``CHARGE_TRANSITIONS``, writes the row, appends
a ``ChargeEvent`` and emits the domain event (``pagtracker.events``) in the same transaction.
Lock order, everywhere: merchant (ledger debits), then charge, then wallet, then one of the
merchant's balance slots (booking a ledger entry: the last lock a transaction takes).
"""

from .creation import charge_cancel, charge_create
from .expiry import charge_expire, charges_expire_due
from .payments import PaymentResult, charge_payment_confirm
from .refunds import charge_refund
from .transitions import DEFAULT_EXPIRATION_SECONDS, charge_event_data
from .wallets import sandbox_wallet_create, sandbox_wallet_pay

__all__ = [
    "DEFAULT_EXPIRATION_SECONDS",
    "PaymentResult",
    "charge_cancel",
    "charge_create",
    "charge_event_data",
    "charge_expire",
    "charge_payment_confirm",
    "charge_refund",
    "charges_expire_due",
    "sandbox_wallet_create",
    "sandbox_wallet_pay",
]
