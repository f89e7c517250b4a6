"""The BR Code's data object IDs, length limits and the patterns its values follow."""

from __future__ import annotations

import re

PIX_GUI = "br.gov.bcb.pix"
MAX_PAYLOAD_LENGTH = 512
MAX_VALUE_LENGTH = 99
MERCHANT_NAME_MAX_LENGTH = 25
MERCHANT_CITY_MAX_LENGTH = 15
URL_MAX_LENGTH = 77
AMOUNT_MAX_LENGTH = 13

# Root IDs.
ID_PAYLOAD_FORMAT = "00"
ID_POINT_OF_INITIATION = "01"
ID_MCC = "52"
ID_CURRENCY = "53"
ID_AMOUNT = "54"
ID_COUNTRY = "58"
ID_MERCHANT_NAME = "59"
ID_MERCHANT_CITY = "60"
ID_POSTAL_CODE = "61"
ID_ADDITIONAL_DATA = "62"
ID_CRC = "63"
# Sub-IDs of a Pix merchant account template (and of an 80-99 Pix template).
SUB_GUI = "00"
SUB_KEY = "01"
SUB_INFO = "02"
SUB_FSS = "03"
SUB_URL = "25"
# Sub-ID of the additional data template.
SUB_REFERENCE_LABEL = "05"

CURRENCY_BRL = "986"
COUNTRY_BR = "BR"
POINT_OF_INITIATION_STATIC = "11"
POINT_OF_INITIATION_SINGLE_USE = "12"

_MERCHANT_ACCOUNT_IDS = frozenset(f"{number:02d}" for number in range(26, 52))
_UNRESERVED_IDS = frozenset(f"{number:02d}" for number in range(80, 100))
_TEMPLATE_IDS = _MERCHANT_ACCOUNT_IDS | _UNRESERVED_IDS | {ID_ADDITIONAL_DATA}
_ROOT_NAMES = {
    ID_PAYLOAD_FORMAT: "payload format indicator (00)",
    ID_POINT_OF_INITIATION: "point of initiation method (01)",
    ID_MCC: "merchant category code (52)",
    ID_CURRENCY: "transaction currency (53)",
    ID_AMOUNT: "transaction amount (54)",
    ID_COUNTRY: "country code (58)",
    ID_MERCHANT_NAME: "merchant name (59)",
    ID_MERCHANT_CITY: "merchant city (60)",
    ID_POSTAL_CODE: "postal code (61)",
    ID_ADDITIONAL_DATA: "additional data template (62)",
    ID_CRC: "CRC (63)",
}
_AMOUNT = re.compile(r"([0-9]+)(?:\.([0-9]{1,2}))?")
_MCC = re.compile(r"[0-9]{4}")
_CEP = re.compile(r"([0-9]{5})-?([0-9]{3})")
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_TWO_DIGITS = re.compile(r"[0-9]{2}")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")
_WHITESPACE = re.compile(r"\s+")
# Typographic characters that NFKD leaves alone but that have an obvious ASCII spelling.
_TYPOGRAPHY = str.maketrans(
    {"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-", "−": "-"}
)
# Words a shortened name should not end on ("Padaria e", "Casa de").
_DANGLING_WORDS = frozenset({"e", "de", "da", "do", "das", "dos", "&", "-", "/", "+"})
