"""BR Code (Pix "copia e cola" / QR payload): EMV QRCPS-MPM as profiled by the BCB.

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

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from pagtracker.pix.crc import CRC_TAG, crc16_hex
from pagtracker.pix.errors import (
    BRCodeFieldInvalid,
    BRCodeFieldTooLong,
    BRCodeInvalid,
    NonAsciiText,
)
from pagtracker.pix.ids import NO_TXID, STATIC_TXID_MAX_LENGTH, validate_txid
from pagtracker.pix.keys import canonicalize_pix_key

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


# --- TLV ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DataObject:
    """One EMV data object: a 2-digit ID and either a text value or nested objects (template)."""

    id: str
    value: str | tuple[DataObject, ...]

    @property
    def is_template(self) -> bool:
        return not isinstance(self.value, str)

    @property
    def children(self) -> tuple[DataObject, ...]:
        return () if isinstance(self.value, str) else self.value

    def child(self, sub_id: str) -> DataObject | None:
        for child in self.children:
            if child.id == sub_id:
                return child
        return None

    def child_text(self, sub_id: str) -> str | None:
        child = self.child(sub_id)
        return child.value if child is not None and isinstance(child.value, str) else None


def _field_name(object_id: str, parent_id: str | None) -> str:
    if parent_id is None:
        if object_id in _ROOT_NAMES:
            return _ROOT_NAMES[object_id]
        if object_id in _MERCHANT_ACCOUNT_IDS:
            return f"merchant account information ({object_id})"
        if object_id in _UNRESERVED_IDS:
            return f"unreserved template ({object_id})"
        return f"data object {object_id}"
    return f"sub-field {object_id} of {_field_name(parent_id, None)}"


def _encode_object(data_object: DataObject, parent_id: str | None) -> str:
    name = _field_name(data_object.id, parent_id)
    if not _TWO_DIGITS.fullmatch(data_object.id):
        raise BRCodeFieldInvalid(f"{name}: an ID is two digits", field=data_object.id)
    if isinstance(data_object.value, str):
        value = data_object.value
        if not value.isascii():
            raise NonAsciiText(f"{name} must be ASCII, got {value!r}", field=data_object.id)
        if not _PRINTABLE_ASCII.fullmatch(value):
            raise BRCodeFieldInvalid(
                f"{name} contains control characters: {value!r}", field=data_object.id
            )
    else:
        if parent_id is not None:
            raise BRCodeFieldInvalid(f"{name}: templates do not nest", field=data_object.id)
        value = "".join(_encode_object(child, data_object.id) for child in data_object.value)
    if len(value) > MAX_VALUE_LENGTH:
        raise BRCodeFieldTooLong(
            f"{name} is {len(value)} characters long; a data object holds at most "
            f"{MAX_VALUE_LENGTH}",
            field=data_object.id,
            limit=MAX_VALUE_LENGTH,
        )
    return f"{data_object.id}{len(value):02d}{value}"


def encode_tlv(objects: Iterable[DataObject]) -> str:
    """ID + 2-digit decimal length + value for each object, in the order given."""
    return "".join(_encode_object(data_object, None) for data_object in objects)


def _split_tlv(text: str, *, where: str, offset: int) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        header = text[position : position + 4]
        at = offset + position
        if len(header) < 4 or not _TWO_DIGITS.fullmatch(header[:2]):
            raise BRCodeInvalid(f"malformed data object at position {at} in {where}: {header!r}")
        if not _TWO_DIGITS.fullmatch(header[2:]):
            raise BRCodeInvalid(
                f"data object {header[:2]} at position {at} in {where} has a non-numeric "
                f"length {header[2:]!r}"
            )
        length = int(header[2:])
        value = text[position + 4 : position + 4 + length]
        if len(value) < length:
            raise BRCodeInvalid(
                f"data object {header[:2]} at position {at} in {where} declares {length} "
                f"characters but only {len(value)} remain"
            )
        pairs.append((header[:2], value))
        position += 4 + length
    return pairs


def decode_tlv(text: str) -> tuple[DataObject, ...]:
    """Parse root-level TLV text. Templates (26-51, 62, 80-99) are parsed one level deep.

    Raises ``BRCodeInvalid`` on malformed or duplicated objects.
    """
    objects: list[DataObject] = []
    seen: set[str] = set()
    position = 0
    for object_id, value in _split_tlv(text, where="the payload", offset=0):
        if object_id in seen:
            raise BRCodeInvalid(f"{_field_name(object_id, None)} appears twice")
        seen.add(object_id)
        if object_id in _TEMPLATE_IDS:
            name = _field_name(object_id, None)
            children: list[DataObject] = []
            child_ids: set[str] = set()
            for child_id, child_value in _split_tlv(value, where=name, offset=position + 4):
                if child_id in child_ids:
                    raise BRCodeInvalid(f"sub-field {child_id} appears twice in {name}")
                child_ids.add(child_id)
                children.append(DataObject(child_id, child_value))
            objects.append(DataObject(object_id, tuple(children)))
        else:
            objects.append(DataObject(object_id, value))
        position += 4 + len(value)
    return tuple(objects)


# --- The BR Code ----------------------------------------------------------------------------------


def _is_pix_template(data_object: DataObject) -> bool:
    gui = data_object.child_text(SUB_GUI)
    return gui is not None and gui.lower() == PIX_GUI  # The GUI is case-insensitive.


@dataclass(frozen=True)
class BRCode:
    """A BR Code as its ordered data objects (CRC excluded: the encoder computes it).

    Keeping every object in order is what makes re-encoding byte-for-byte exact, other
    arrangements' objects included. The properties give typed access to the Pix fields.
    """

    objects: tuple[DataObject, ...]

    def get(self, object_id: str) -> DataObject | None:
        for data_object in self.objects:
            if data_object.id == object_id:
                return data_object
        return None

    def _text(self, object_id: str) -> str | None:
        data_object = self.get(object_id)
        if data_object is None or not isinstance(data_object.value, str):
            return None
        return data_object.value

    @property
    def point_of_initiation(self) -> str | None:
        """``None`` (static), ``"11"`` (static/reusable) or ``"12"`` (single use)."""
        return self._text(ID_POINT_OF_INITIATION)

    @property
    def pix_account(self) -> DataObject | None:
        """The first merchant account template (26-51) whose GUI is ``br.gov.bcb.pix``."""
        for data_object in self.objects:
            if data_object.id in _MERCHANT_ACCOUNT_IDS and _is_pix_template(data_object):
                return data_object
        return None

    def _pix_text(self, sub_id: str) -> str | None:
        account = self.pix_account
        return None if account is None else account.child_text(sub_id)

    @property
    def gui(self) -> str | None:
        return self._pix_text(SUB_GUI)

    @property
    def key(self) -> str | None:
        return self._pix_text(SUB_KEY)

    @property
    def info_adicional(self) -> str | None:
        return self._pix_text(SUB_INFO)

    @property
    def fss(self) -> str | None:
        return self._pix_text(SUB_FSS)

    @property
    def url(self) -> str | None:
        """Payload location of a dynamic code, without scheme."""
        return self._pix_text(SUB_URL)

    @property
    def other_merchant_accounts(self) -> tuple[DataObject, ...]:
        """Merchant account objects (02-51) of other arrangements, in payload order."""
        pix_account = self.pix_account
        return tuple(
            data_object
            for data_object in self.objects
            if "02" <= data_object.id <= "51" and data_object is not pix_account
        )

    @property
    def mcc(self) -> str | None:
        return self._text(ID_MCC)

    @property
    def currency(self) -> str | None:
        return self._text(ID_CURRENCY)

    @property
    def amount(self) -> str | None:
        """Object 54 exactly as written (e.g. ``"123.45"``)."""
        return self._text(ID_AMOUNT)

    @property
    def amount_cents(self) -> int | None:
        """Object 54 in centavos; ``None`` when the payer types the amount."""
        amount = self.amount
        if amount is None:
            return None
        match = _AMOUNT.fullmatch(amount)
        if match is None:
            return None
        whole, fraction = match.groups()
        return int(whole) * 100 + int((fraction or "").ljust(2, "0"))

    @property
    def country(self) -> str | None:
        return self._text(ID_COUNTRY)

    @property
    def merchant_name(self) -> str | None:
        return self._text(ID_MERCHANT_NAME)

    @property
    def merchant_city(self) -> str | None:
        return self._text(ID_MERCHANT_CITY)

    @property
    def postal_code(self) -> str | None:
        return self._text(ID_POSTAL_CODE)

    @property
    def additional_data(self) -> tuple[DataObject, ...]:
        """Sub-fields of template 62 (txid and any other EMV sub-field), in payload order."""
        data_object = self.get(ID_ADDITIONAL_DATA)
        return () if data_object is None else data_object.children

    @property
    def reference_label(self) -> str | None:
        """62-05 exactly as written, ``***`` included."""
        data_object = self.get(ID_ADDITIONAL_DATA)
        return None if data_object is None else data_object.child_text(SUB_REFERENCE_LABEL)

    @property
    def txid(self) -> str | None:
        """62-05, or ``None`` when absent or ``***`` ("no txid")."""
        label = self.reference_label
        return None if label is None or label == NO_TXID else label

    @property
    def unreserved_templates(self) -> tuple[DataObject, ...]:
        return tuple(obj for obj in self.objects if obj.id in _UNRESERVED_IDS)

    @property
    def recurrence_url(self) -> str | None:
        """Pix Automático recurrence URL: sub-field 25 of an 80-99 template with the Pix GUI."""
        for data_object in self.unreserved_templates:
            if _is_pix_template(data_object):
                url = data_object.child_text(SUB_URL)
                if url is not None:
                    return url
        return None

    @property
    def is_dynamic(self) -> bool:
        return self.url is not None


# --- Decoding -------------------------------------------------------------------------------------


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


# --- Encoding -------------------------------------------------------------------------------------


def encode(brcode: BRCode) -> str:
    """The payload of ``brcode``: its objects in their order, then ``6304`` and the CRC.

    Refuses (``BRCodeFieldTooLong``, ``NonAsciiText``, ``BRCodeFieldInvalid``) values that do not
    fit, and (``BRCodeInvalid``) anything ``decode`` would reject, so it never emits a code that
    we could not read back.
    """
    if any(data_object.id == ID_CRC for data_object in brcode.objects):
        raise BRCodeFieldInvalid("the CRC (63) is computed by the encoder", field=ID_CRC)
    body = encode_tlv(brcode.objects) + CRC_TAG
    payload = body + crc16_hex(body)
    if len(payload) > MAX_PAYLOAD_LENGTH:
        raise BRCodeFieldTooLong(
            f"the BR Code would be {len(payload)} characters long; the limit is "
            f"{MAX_PAYLOAD_LENGTH}",
            field="payload",
            limit=MAX_PAYLOAD_LENGTH,
        )
    decode(payload)
    return payload


def to_ascii_text(text: str) -> str:
    """``text`` in printable ASCII: accents stripped ("São Paulo" -> "Sao Paulo"), typographic
    quotes and dashes made plain, anything else non-ASCII dropped, runs of whitespace turned
    into one space and the ends trimmed. Case is kept as given."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TYPOGRAPHY))
    kept = "".join(char for char in decomposed if " " <= char <= "~" or char.isspace())
    return _WHITESPACE.sub(" ", kept).strip()


def _merchant_text(value: str, *, field: str, limit: int) -> str:
    text = to_ascii_text(value)
    if not text:
        raise BRCodeFieldInvalid(
            f"{field} is empty once written in ASCII (got {value!r})", field=field
        )
    if len(text) > limit:
        raise BRCodeFieldTooLong(
            f"{field} has {len(text)} characters once written in ASCII ({text!r}); the limit "
            f"is {limit}. Shorten it, e.g. with fit_{field}().",
            field=field,
            limit=limit,
        )
    return text


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    words: list[str] = []
    for word in text.split(" "):
        if len(" ".join([*words, word])) > limit:
            break
        words.append(word)
    while words and (words[-1].lower() in _DANGLING_WORDS or not words[-1].strip(".,;:-&/")):
        words.pop()
    shortened = " ".join(words).rstrip(" .,;:-&/")
    # A first word longer than the limit cannot be kept whole: cut it.
    return shortened or text[:limit].rstrip()


def fit_merchant_name(name: str) -> str:
    """``name`` in ASCII, shortened on word boundaries to the 25 characters of object 59.

    For names built from what a merchant typed ("Padaria e Confeitaria São João Ltda" ->
    "Padaria e Confeitaria Sao"). The payer's app shows the name registered in DICT, not this.
    """
    text = to_ascii_text(name)
    if not text:
        raise BRCodeFieldInvalid(f"merchant_name is empty once written in ASCII (got {name!r})")
    return _shorten(text, MERCHANT_NAME_MAX_LENGTH)


def fit_merchant_city(city: str) -> str:
    """``city`` in ASCII, shortened on word boundaries to the 15 characters of object 60."""
    text = to_ascii_text(city)
    if not text:
        raise BRCodeFieldInvalid(f"merchant_city is empty once written in ASCII (got {city!r})")
    return _shorten(text, MERCHANT_CITY_MAX_LENGTH)


def format_amount(amount_cents: int) -> str:
    """Centavos as the BR Code amount: digits, a dot, exactly two decimals (``1050`` -> ``10.50``).

    Integer arithmetic only: a float would eventually print ``10.499999``.
    """
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise BRCodeFieldInvalid("amount_cents is an integer number of centavos", field="amount")
    if amount_cents <= 0:
        raise BRCodeFieldInvalid(
            "amount_cents must be positive; leave it out to let the payer type the amount",
            field="amount",
        )
    amount = f"{amount_cents // 100}.{amount_cents % 100:02d}"
    if len(amount) > AMOUNT_MAX_LENGTH:
        raise BRCodeFieldTooLong(
            f"amount {amount} has {len(amount)} characters; the BR Code allows "
            f"{AMOUNT_MAX_LENGTH} (at most 9999999999.99)",
            field="amount",
            limit=AMOUNT_MAX_LENGTH,
        )
    return amount


def _common_objects(*, merchant_name: str, merchant_city: str) -> tuple[DataObject, DataObject]:
    return (
        DataObject(
            ID_MERCHANT_NAME,
            _merchant_text(merchant_name, field="merchant_name", limit=MERCHANT_NAME_MAX_LENGTH),
        ),
        DataObject(
            ID_MERCHANT_CITY,
            _merchant_text(merchant_city, field="merchant_city", limit=MERCHANT_CITY_MAX_LENGTH),
        ),
    )


def encode_static(
    *,
    key: str,
    merchant_name: str,
    merchant_city: str,
    amount_cents: int | None = None,
    txid: str | None = None,
    info_adicional: str | None = None,
    postal_code: str | None = None,
    mcc: str = "0000",
) -> str:
    """A canonical static Pix BR Code (pix.md sections 1.4 and 6).

    * ``key`` is canonicalised (masks removed, e-mail lower-cased...) and validated.
    * ``merchant_name`` (<= 25), ``merchant_city`` (<= 15) and ``info_adicional`` are
      transliterated to ASCII, case kept; over their limit they raise ``BRCodeFieldTooLong``.
      ``info_adicional`` shares template 26's 99 characters with the key: at most 73 - len(key).
    * ``amount_cents`` > 0, written with exactly two decimals; ``None`` lets the payer type it.
    * ``txid``: up to 25 letters or digits; ``None`` writes ``***`` (no txid).
    * ``postal_code``: a CEP, 8 digits with or without the hyphen.
    """
    _key_type, canonical_key = canonicalize_pix_key(key)
    account = [DataObject(SUB_GUI, PIX_GUI), DataObject(SUB_KEY, canonical_key)]
    if info_adicional is not None:
        info = to_ascii_text(info_adicional)
        if info:
            # Template 26 = GUI (4 + 14) + key (4 + len) + info (4 + len) <= 99.
            limit = MAX_VALUE_LENGTH - (4 + len(PIX_GUI)) - (4 + len(canonical_key)) - 4
            if len(info) > limit:
                raise BRCodeFieldTooLong(
                    f"info_adicional has {len(info)} characters once written in ASCII; with "
                    f"this {len(canonical_key)}-character key there is room for {max(limit, 0)}",
                    field="info_adicional",
                    limit=max(limit, 0),
                )
            account.append(DataObject(SUB_INFO, info))

    if not _MCC.fullmatch(mcc):
        raise BRCodeFieldInvalid("mcc is 4 digits (0000 when not informed)", field="mcc")

    if txid is None or txid == NO_TXID:
        reference_label = NO_TXID
    else:
        if len(txid) > STATIC_TXID_MAX_LENGTH:
            raise BRCodeFieldTooLong(
                f"a static BR Code txid has at most {STATIC_TXID_MAX_LENGTH} characters, "
                f"this one has {len(txid)}",
                field="txid",
                limit=STATIC_TXID_MAX_LENGTH,
            )
        reference_label = validate_txid(txid, context="static")

    objects = [
        DataObject(ID_PAYLOAD_FORMAT, "01"),
        DataObject("26", tuple(account)),
        DataObject(ID_MCC, mcc),
        DataObject(ID_CURRENCY, CURRENCY_BRL),
    ]
    if amount_cents is not None:
        objects.append(DataObject(ID_AMOUNT, format_amount(amount_cents)))
    objects.append(DataObject(ID_COUNTRY, COUNTRY_BR))
    objects.extend(_common_objects(merchant_name=merchant_name, merchant_city=merchant_city))
    if postal_code is not None:
        cep = _CEP.fullmatch(postal_code.strip())
        if cep is None:
            raise BRCodeFieldInvalid(
                "postal_code is a CEP: 8 digits, optionally 12345-678", field="postal_code"
            )
        objects.append(DataObject(ID_POSTAL_CODE, cep.group(1) + cep.group(2)))
    objects.append(
        DataObject(ID_ADDITIONAL_DATA, (DataObject(SUB_REFERENCE_LABEL, reference_label),))
    )
    return encode(BRCode(objects=tuple(objects)))


def encode_dynamic(
    *, url: str, merchant_name: str, merchant_city: str, single_use: bool = True
) -> str:
    """A dynamic Pix BR Code pointing at a PSP payload location (pix.md sections 1.3-1.4).

    ``url`` is the ``location`` without scheme (``pix.example.com/qr/...``), at most 77
    characters. There is no amount (54) and 62-05 is ``***``: both live in the payload the URL
    serves. ``single_use=False`` leaves out ``01=12`` for a printed QR whose location serves
    successive charges.
    """
    location = url.strip()
    if not location:
        raise BRCodeFieldInvalid("url is empty", field="url")
    if "://" in location or location.lower().startswith(("http:", "https:")):
        raise BRCodeFieldInvalid(
            "url goes into the BR Code without its scheme: drop the https:// prefix", field="url"
        )
    if not location.isascii():
        raise NonAsciiText("url must be ASCII", field="url")
    if not _PRINTABLE_ASCII.fullmatch(location) or " " in location:
        raise BRCodeFieldInvalid("url cannot contain spaces or control characters", field="url")
    if len(location) > URL_MAX_LENGTH:
        raise BRCodeFieldTooLong(
            f"url has {len(location)} characters; the BR Code allows {URL_MAX_LENGTH}",
            field="url",
            limit=URL_MAX_LENGTH,
        )
    objects = [DataObject(ID_PAYLOAD_FORMAT, "01")]
    if single_use:
        objects.append(DataObject(ID_POINT_OF_INITIATION, POINT_OF_INITIATION_SINGLE_USE))
    objects += [
        DataObject("26", (DataObject(SUB_GUI, PIX_GUI), DataObject(SUB_URL, location))),
        DataObject(ID_MCC, "0000"),
        DataObject(ID_CURRENCY, CURRENCY_BRL),
        DataObject(ID_COUNTRY, COUNTRY_BR),
        *_common_objects(merchant_name=merchant_name, merchant_city=merchant_city),
        DataObject(ID_ADDITIONAL_DATA, (DataObject(SUB_REFERENCE_LABEL, NO_TXID),)),
    ]
    return encode(BRCode(objects=tuple(objects)))
