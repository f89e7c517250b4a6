"""``decode``: any BR Code in, a validated ``BRCode`` out."""

from __future__ import annotations

from pagtracker.pix.crc import crc16_hex
from pagtracker.pix.errors import BRCodeInvalid

from .layout import (
    _AMOUNT,
    _HEX4,
    _MCC,
    _PRINTABLE_ASCII,
    _ROOT_NAMES,
    AMOUNT_MAX_LENGTH,
    COUNTRY_BR,
    CURRENCY_BRL,
    ID_AMOUNT,
    ID_COUNTRY,
    ID_CRC,
    ID_CURRENCY,
    ID_MCC,
    ID_MERCHANT_CITY,
    ID_MERCHANT_NAME,
    ID_PAYLOAD_FORMAT,
    ID_POINT_OF_INITIATION,
    MAX_PAYLOAD_LENGTH,
    MERCHANT_CITY_MAX_LENGTH,
    MERCHANT_NAME_MAX_LENGTH,
    POINT_OF_INITIATION_SINGLE_USE,
    POINT_OF_INITIATION_STATIC,
)
from .model import BRCode
from .tlv import decode_tlv


def decode(payload: str) -> BRCode:
    """Parse and validate a BR Code. Surrounding whitespace (from copy and paste) is ignored.

    Checks: printable ASCII only, at most 512 characters, well-formed TLV without duplicates,
    ``00`` first with value ``01``, ``63`` last with a matching CRC (hex compared
    case-insensitively), a Pix merchant account (GUI ``br.gov.bcb.pix`` in any case) carrying a
    key, a URL or with a recurrence template, and the mandatory 52, 53 (986), 58 (BR), 59 (1-25
    characters) and 60 (1-15). Other arrangements' objects are kept as they are.
    Raises ``BRCodeInvalid``.
    """
    text = payload.strip()
    if not text:
        raise BRCodeInvalid("the BR Code is empty")
    if len(text) > MAX_PAYLOAD_LENGTH:
        raise BRCodeInvalid(
            f"a BR Code has at most {MAX_PAYLOAD_LENGTH} characters, this one has {len(text)}"
        )
    if not _PRINTABLE_ASCII.fullmatch(text):
        position = next(i for i, char in enumerate(text) if not " " <= char <= "~")
        raise BRCodeInvalid(
            f"character {text[position]!r} at position {position} is not printable ASCII; "
            "BR Codes are ASCII only"
        )

    objects = decode_tlv(text)
    if objects[0].id != ID_PAYLOAD_FORMAT:
        raise BRCodeInvalid("a BR Code starts with the payload format indicator 000201")
    if objects[0].value != "01":
        raise BRCodeInvalid(f"unknown payload format indicator {objects[0].value!r}")
    crc_object = objects[-1]
    if crc_object.id != ID_CRC:
        raise BRCodeInvalid("a BR Code ends with its CRC (6304 + 4 hex digits)")
    if not isinstance(crc_object.value, str) or not _HEX4.fullmatch(crc_object.value):
        raise BRCodeInvalid("the CRC (63) is 4 hex digits")
    expected = crc16_hex(text[:-4])
    if crc_object.value.upper() != expected:
        raise BRCodeInvalid(
            f"CRC mismatch: the code says {crc_object.value}, its content gives {expected}"
        )
    brcode = BRCode(objects=objects[:-1])
    _check_pix_fields(brcode)
    return brcode


def _require_text(brcode: BRCode, object_id: str) -> str:
    value = brcode._text(object_id)
    if value is None:
        if brcode.get(object_id) is None:
            raise BRCodeInvalid(f"the mandatory {_ROOT_NAMES[object_id]} is missing")
        raise BRCodeInvalid(f"the {_ROOT_NAMES[object_id]} is not a text value")
    return value


def _check_pix_fields(brcode: BRCode) -> None:
    point_of_initiation = brcode.point_of_initiation
    if brcode.get(ID_POINT_OF_INITIATION) is not None and point_of_initiation not in (
        POINT_OF_INITIATION_STATIC,
        POINT_OF_INITIATION_SINGLE_USE,
    ):
        raise BRCodeInvalid(
            f"point of initiation method (01) is 11 or 12, not {point_of_initiation!r}"
        )
    account = brcode.pix_account
    if account is None:
        raise BRCodeInvalid("no Pix merchant account: no template 26-51 has the GUI br.gov.bcb.pix")
    if brcode.key is None and brcode.url is None and brcode.recurrence_url is None:
        raise BRCodeInvalid(
            f"the Pix merchant account ({account.id}) has neither a key (01) nor a URL (25), "
            "and there is no recurrence template"
        )
    if not _MCC.fullmatch(_require_text(brcode, ID_MCC)):
        raise BRCodeInvalid("the merchant category code (52) is 4 digits")
    currency = _require_text(brcode, ID_CURRENCY)
    if currency != CURRENCY_BRL:
        raise BRCodeInvalid(f"a Pix BR Code is in BRL (53 = 986), not {currency!r}")
    amount = brcode.amount
    if brcode.get(ID_AMOUNT) is not None and (
        amount is None or len(amount) > AMOUNT_MAX_LENGTH or not _AMOUNT.fullmatch(amount)
    ):
        raise BRCodeInvalid(f"transaction amount (54) {amount!r} is not a decimal like 10.50")
    country = _require_text(brcode, ID_COUNTRY)
    if country != COUNTRY_BR:
        raise BRCodeInvalid(f"a Pix BR Code has country code BR (58), not {country!r}")
    for object_id, limit in (
        (ID_MERCHANT_NAME, MERCHANT_NAME_MAX_LENGTH),
        (ID_MERCHANT_CITY, MERCHANT_CITY_MAX_LENGTH),
    ):
        value = _require_text(brcode, object_id)
        if not 1 <= len(value) <= limit:
            raise BRCodeInvalid(f"the {_ROOT_NAMES[object_id]} has 1 to {limit} characters")
