"""Encoding: the payload of a ``BRCode``, and the static and dynamic codes the gateway builds."""

from __future__ import annotations

import unicodedata

from pagtracker.pix.crc import CRC_TAG, crc16_hex
from pagtracker.pix.errors import (
    BRCodeFieldInvalid,
    BRCodeFieldTooLong,
    NonAsciiText,
)
from pagtracker.pix.ids import NO_TXID, STATIC_TXID_MAX_LENGTH, validate_txid
from pagtracker.pix.keys import canonicalize_pix_key

from .decoding import decode
from .layout import (
    _CEP,
    _DANGLING_WORDS,
    _MCC,
    _PRINTABLE_ASCII,
    _TYPOGRAPHY,
    _WHITESPACE,
    AMOUNT_MAX_LENGTH,
    COUNTRY_BR,
    CURRENCY_BRL,
    ID_ADDITIONAL_DATA,
    ID_AMOUNT,
    ID_COUNTRY,
    ID_CRC,
    ID_CURRENCY,
    ID_MCC,
    ID_MERCHANT_CITY,
    ID_MERCHANT_NAME,
    ID_PAYLOAD_FORMAT,
    ID_POINT_OF_INITIATION,
    ID_POSTAL_CODE,
    MAX_PAYLOAD_LENGTH,
    MAX_VALUE_LENGTH,
    MERCHANT_CITY_MAX_LENGTH,
    MERCHANT_NAME_MAX_LENGTH,
    PIX_GUI,
    POINT_OF_INITIATION_SINGLE_USE,
    SUB_GUI,
    SUB_INFO,
    SUB_KEY,
    SUB_REFERENCE_LABEL,
    SUB_URL,
    URL_MAX_LENGTH,
)
from .model import BRCode
from .tlv import (
    DataObject,
    encode_tlv,
)


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
