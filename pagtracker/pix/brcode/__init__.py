"""BR Code (Pix "copia e cola" / QR payload): EMV QRCPS-MPM as profiled by the BCB.

``layout`` (IDs and limits), ``tlv`` (data objects), ``model`` (``BRCode``), ``decoding`` and
``encoding``; everything public is importable from here.

* ``encode_static`` builds the static codes the gateway generates locally, canonical per pix.md
  section 1.4: ascending IDs, ASCII only, no 01, 62-05 always present, CRC over ``...6304``.
* ``encode_dynamic`` builds a dynamic code around a PSP payload URL (prefer the PSP's own
  ``pixCopiaECola`` when it gives one).
* ``decode`` reads any BR Code, Pix composite codes and other arrangements included, and keeps
  every data object in its order, so ``encode(decode(s)) == s`` for a canonical ``s`` (upper-case
  CRC, no surrounding whitespace).

Values that do not fit are refused with ``BRCodeFieldTooLong``, never truncated: a shortened key
or txid would send money to the wrong place or lose the reconciliation. ``fit_merchant_name`` and
``fit_merchant_city`` shorten on purpose, for callers that decide to.
"""

from .decoding import decode
from .encoding import (
    encode,
    encode_dynamic,
    encode_static,
    fit_merchant_city,
    fit_merchant_name,
    format_amount,
    to_ascii_text,
)
from .layout import PIX_GUI
from .model import BRCode
from .tlv import DataObject, decode_tlv, encode_tlv

__all__ = [
    "PIX_GUI",
    "BRCode",
    "DataObject",
    "decode",
    "decode_tlv",
    "encode",
    "encode_dynamic",
    "encode_static",
    "encode_tlv",
    "fit_merchant_city",
    "fit_merchant_name",
    "format_amount",
    "to_ascii_text",
]
