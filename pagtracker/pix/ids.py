"""Identifiers of the Pix world: txids, end-to-end ids (E...) and return ids (D...).

The three txid contexts have different rules (pix.md section 1.5) and must not be mixed up:

* ``static``: BR Code 62-05 of a static QR, ``[A-Za-z0-9]{1,25}`` or the literal ``***``.
* ``cob``: the txid we choose for ``PUT /cob/{txid}``, ``[a-zA-Z0-9]{26,35}``.
* ``received``: the txid on a Pix we received (GET /pix, webhook), ``[a-zA-Z0-9]{1,35}``: it may
  come from a static QR, hence the short minimum.
"""

from __future__ import annotations

import re
import secrets
import string
from datetime import UTC, datetime
from typing import Literal

from pagtracker.pix.errors import TxidInvalid

__all__ = [
    "STATIC_TXID_MAX_LENGTH",
    "TxidContext",
    "new_end_to_end_id",
    "new_return_id",
    "new_static_txid",
    "new_txid",
    "validate_txid",
]

TxidContext = Literal["static", "cob", "received"]

STATIC_TXID_MAX_LENGTH = 25
NO_TXID = "***"  # EMV "no reference label": what a static QR without txid carries in 62-05.

_ALPHANUMERIC = string.ascii_letters + string.digits
_TXID_RULES: dict[str, tuple[re.Pattern[str], str]] = {
    "static": (re.compile(r"[A-Za-z0-9]{1,25}"), "1 to 25 letters or digits"),
    "cob": (re.compile(r"[A-Za-z0-9]{26,35}"), "26 to 35 letters or digits"),
    "received": (re.compile(r"[A-Za-z0-9]{1,35}"), "1 to 35 letters or digits"),
}
_ISPB = re.compile(r"[0-9A-Z]{8}")
_SEQUENCE_LENGTH = 11


def _random_alphanumeric(length: int) -> str:
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def new_txid(length: int = 32) -> str:
    """A cryptographically random txid of ``length`` letters and digits.

    The default 32 fits ``PUT /cob/{txid}`` (26..35); 62^32 values make a collision, which the
    API forbids forever for a receiver, a non-event.
    """
    if not 1 <= length <= 35:
        raise ValueError("a txid has 1 to 35 characters")
    return _random_alphanumeric(length)


def new_static_txid() -> str:
    """A random txid of the maximum length a static BR Code (62-05) accepts: 25 characters."""
    return _random_alphanumeric(STATIC_TXID_MAX_LENGTH)


def validate_txid(txid: str, *, context: TxidContext) -> str:
    """Return ``txid`` unchanged if it is valid in ``context``, else raise ``TxidInvalid``.

    ``***`` is accepted in the ``static`` context only: it is how a static QR says "no txid".
    """
    if context == "static" and txid == NO_TXID:
        return txid
    pattern, rule = _TXID_RULES[context]
    if not pattern.fullmatch(txid):
        raise TxidInvalid(
            f"a {context} txid has {rule} (A-Z, a-z, 0-9); got {len(txid)} characters"
            + ("" if txid.isascii() and txid.isalnum() else " including other symbols"),
            field="txid",
        )
    return txid


def _transaction_id(prefix: str, *, ispb: str, when: datetime | None) -> str:
    if not _ISPB.fullmatch(ispb):
        raise ValueError("an ISPB has 8 digits (or upper-case letters)")
    if when is None:
        when = datetime.now(UTC)
    elif when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("when must be timezone-aware; the id carries the UTC time")
    stamp = when.astimezone(UTC).strftime("%Y%m%d%H%M")
    return prefix + ispb + stamp + _random_alphanumeric(_SEQUENCE_LENGTH)


def new_end_to_end_id(*, ispb: str = "00000000", when: datetime | None = None) -> str:
    """An EndToEndId shaped like the SPI's: ``E`` + ISPB + UTC ``yyyyMMddHHmm`` + 11 random.

    Matches ``^E[0-9A-Z]{8}\\d{12}[a-zA-Z0-9]{11}$`` (32 characters). Real ones come from the
    payer's PSP; we generate them for the sandbox provider and tests.
    """
    return _transaction_id("E", ispb=ispb, when=when)


def new_return_id(*, ispb: str = "00000000", when: datetime | None = None) -> str:
    """A ReturnIdentification (``rtrId`` of a devolução): like an EndToEndId but starting with D."""
    return _transaction_id("D", ispb=ispb, when=when)
