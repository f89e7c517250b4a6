"""Charge services: the only code that changes a charge, by sub-domain: ``creation``
(create, cancel), ``payments`` (confirm), ``refunds``, ``expiry``, ``wallets`` (sandbox cards),
and ``transitions``, what they share. Import them from here.

Every status change goes through ``charges_transition``: it checks ``CHARGE_TRANSITIONS``,
updates the charge only if it is still in the status it was read in, appends a
``ChargeEvent`` and emits the domain event (``pagtracker.events``), in the caller's
transaction. No transaction is open while a provider is called or a QR image is built.
Lock order, everywhere: merchant (ledger debits), then charge, then wallet, then one of the
merchant's balance slots (booking a ledger entry: the last lock a transaction takes).
"""

from .creation import charge_cancel, charge_create
from .expiry import charges_expire_due
from .payments import PaymentResult, charge_payment_confirm
from .refunds import charge_refund
from .transitions import DEFAULT_EXPIRATION_SECONDS, charge_event_data, charges_transition
from .wallets import sandbox_wallet_create, sandbox_wallet_pay

__all__ = [
    "DEFAULT_EXPIRATION_SECONDS",
    "PaymentResult",
    "charge_cancel",
    "charge_create",
    "charge_event_data",
    "charge_payment_confirm",
    "charge_refund",
    "charges_expire_due",
    "charges_transition",
    "sandbox_wallet_create",
    "sandbox_wallet_pay",
]
