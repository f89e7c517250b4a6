"""Pix toolkit: BR Codes, Pix keys, txids and QR images. Pure Python, no Django.

Reference: ``/work/shared/reference/pix.md`` (BCB Manual de Padrões para Iniciação do Pix, Manual
do BR Code, API Pix). Everything here is a pure function of its arguments (plus randomness for new
identifiers), so it can be used from services, tasks and tests alike.
"""

from pagtracker.pix.brcode import (
    PIX_GUI,
    BRCode,
    DataObject,
    decode,
    encode,
    encode_dynamic,
    encode_static,
    fit_merchant_city,
    fit_merchant_name,
    format_amount,
    to_ascii_text,
)
from pagtracker.pix.crc import crc16_ccitt_false, crc16_hex
from pagtracker.pix.errors import (
    BRCodeFieldInvalid,
    BRCodeFieldTooLong,
    BRCodeInvalid,
    DocumentInvalid,
    NonAsciiText,
    PixError,
    PixKeyInvalid,
    TxidInvalid,
)
from pagtracker.pix.ids import (
    new_end_to_end_id,
    new_return_id,
    new_static_txid,
    new_txid,
    validate_txid,
)
from pagtracker.pix.keys import (
    PixKeyType,
    canonicalize_pix_key,
    is_valid_cnpj,
    is_valid_cpf,
    validate_cpf_or_cnpj,
)
from pagtracker.pix.qrimage import render_data_uri, render_png

__all__ = [
    "PIX_GUI",
    "BRCode",
    "BRCodeFieldInvalid",
    "BRCodeFieldTooLong",
    "BRCodeInvalid",
    "DataObject",
    "DocumentInvalid",
    "NonAsciiText",
    "PixError",
    "PixKeyInvalid",
    "PixKeyType",
    "TxidInvalid",
    "canonicalize_pix_key",
    "crc16_ccitt_false",
    "crc16_hex",
    "decode",
    "encode",
    "encode_dynamic",
    "encode_static",
    "fit_merchant_city",
    "fit_merchant_name",
    "format_amount",
    "is_valid_cnpj",
    "is_valid_cpf",
    "new_end_to_end_id",
    "new_return_id",
    "new_static_txid",
    "new_txid",
    "render_data_uri",
    "render_png",
    "to_ascii_text",
    "validate_cpf_or_cnpj",
    "validate_txid",
]
