"""Errors raised by the Pix toolkit.

Every error is a ``ValueError`` (bad input, never a bug of ours) with a stable machine-readable
``code`` that the API layer can put in its error envelope, and a message that tells the caller
what to change.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "BRCodeFieldInvalid",
    "BRCodeFieldTooLong",
    "BRCodeInvalid",
    "DocumentInvalid",
    "NonAsciiText",
    "PixError",
    "PixKeyInvalid",
    "TxidInvalid",
]


class PixError(ValueError):
    """Base class. ``code`` is stable; ``field`` names the offending input when there is one."""

    code: ClassVar[str] = "pix_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class BRCodeInvalid(PixError):
    """A BR Code that cannot be decoded: bad TLV, bad CRC, missing mandatory field..."""

    code = "brcode_invalid"


class BRCodeFieldTooLong(PixError):
    """A value longer than the BR Code allows. Raised instead of truncating silently."""

    code = "brcode_field_too_long"

    def __init__(self, message: str, *, field: str, limit: int) -> None:
        super().__init__(message, field=field)
        self.limit = limit


class BRCodeFieldInvalid(PixError):
    """A value the BR Code cannot carry for a reason other than its length (empty, bad format)."""

    code = "brcode_field_invalid"


class NonAsciiText(PixError):
    """Text that must be ASCII (BR Code values are EMV "ans" characters) but is not."""

    code = "non_ascii"


class PixKeyInvalid(PixError):
    code = "pix_key_invalid"


class TxidInvalid(PixError):
    code = "txid_invalid"


class DocumentInvalid(PixError):
    """A CPF or CNPJ (e.g. a payer's documento) that is malformed or fails its check digits."""

    code = "document_invalid"
