"""Pix keys (chaves) and Brazilian taxpayer numbers (CPF, CNPJ).

A key goes into BR Code 26-01, ``cob.chave`` and ``/webhook/{chave}`` in its DICT canonical form;
anything else makes the payer's bank look up a key that does not exist. People type keys with
masks ("(61) 91234-5678", "123.456.789-09", "12.ABC.345/01DE-35"), so ``canonicalize_pix_key``
strips them, then validates the result strictly.
"""

from __future__ import annotations

import enum
import re

from pagtracker.pix.errors import DocumentInvalid, PixKeyInvalid

__all__ = [
    "PIX_KEY_MAX_LENGTH",
    "PixKeyType",
    "canonicalize_pix_key",
    "is_valid_cnpj",
    "is_valid_cpf",
    "validate_cpf_or_cnpj",
]

PIX_KEY_MAX_LENGTH = 77  # 99 (template 26) - 4 - 14 (GUI) - 4

_CPF = re.compile(r"[0-9]{11}")
_CNPJ = re.compile(r"[0-9A-Z]{12}[0-9]{2}")
_BR_MOBILE = re.compile(r"\+55[1-9]{2}9[0-9]{8}")
_BR_LANDLINE = re.compile(r"\+55[1-9]{2}[2-5][0-9]{7}")
# DICT's e-mail regex (DICT API v1.8.0). No "%", lower case only: keys are stored lower-cased.
_EMAIL = re.compile(
    r"[a-z0-9.!#$&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
    r"(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
)
# Any UUID version: DICT's regex does not constrain it and the manual's own example has version 1.
_EVP = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_EVP_WITHOUT_HYPHENS = re.compile(r"[0-9a-fA-F]{32}")
_DOCUMENT_MASK = re.compile(r"[.\-/\s]")
_PHONE_MASK = re.compile(r"[\s().\-]")
_PHONE_HINT = re.compile(r"[()\s]")

_CPF_WEIGHTS_1 = tuple(range(10, 1, -1))
_CPF_WEIGHTS_2 = tuple(range(11, 1, -1))
_CNPJ_WEIGHTS_1 = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
_CNPJ_WEIGHTS_2 = (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)


class PixKeyType(enum.StrEnum):
    CPF = "cpf"
    CNPJ = "cnpj"
    PHONE = "phone"
    EMAIL = "email"
    EVP = "evp"


def _mod11_digit(values: list[int], weights: tuple[int, ...]) -> int:
    remainder = sum(value * weight for value, weight in zip(values, weights, strict=True)) % 11
    return 0 if remainder < 2 else 11 - remainder


def _is_ascii_digits(text: str) -> bool:
    # str.isdigit() also accepts "²" and Arabic-Indic digits; keys and documents are ASCII.
    return text.isascii() and text.isdigit()


def is_valid_cpf(value: str) -> bool:
    """True for a canonical CPF: 11 ASCII digits, not all equal, with correct check digits."""
    if not _CPF.fullmatch(value) or len(set(value)) == 1:
        return False
    digits = [int(char) for char in value]
    first = _mod11_digit(digits[:9], _CPF_WEIGHTS_1)
    second = _mod11_digit([*digits[:9], first], _CPF_WEIGHTS_2)
    return digits[9] == first and digits[10] == second


def is_valid_cnpj(value: str) -> bool:
    """True for a canonical CNPJ, numeric or alphanumeric (IN RFB 2.229/2024).

    12 characters from ``[0-9A-Z]`` (upper case only) then 2 numeric check digits, computed with
    each character worth its ASCII code minus 48, which is the classic algorithm for digits.
    All-equal numeric CNPJs such as ``00000000000000`` pass the arithmetic but are not real.
    """
    if not _CNPJ.fullmatch(value) or len(set(value)) == 1:
        return False
    values = [ord(char) - 48 for char in value]
    first = _mod11_digit(values[:12], _CNPJ_WEIGHTS_1)
    second = _mod11_digit([*values[:12], first], _CNPJ_WEIGHTS_2)
    return values[12] == first and values[13] == second


def validate_cpf_or_cnpj(raw: str) -> str:
    """Canonical CPF (11 digits) or CNPJ (14 characters, upper case) from a possibly masked input.

    Used for a payer's documento. Masks (``.``, ``-``, ``/``, spaces) are removed and letters
    upper-cased; 11 characters are read as a CPF and 14 as a CNPJ.
    """
    document = _DOCUMENT_MASK.sub("", raw).upper()
    if len(document) == 11:
        if not _is_ascii_digits(document):
            raise DocumentInvalid("a CPF has 11 digits only", field="document")
        if not is_valid_cpf(document):
            raise DocumentInvalid(
                f"CPF {document} is invalid: its check digits do not match", field="document"
            )
        return document
    if len(document) == 14:
        if not _CNPJ.fullmatch(document):
            raise DocumentInvalid(
                "a CNPJ has 12 letters or digits followed by 2 check digits", field="document"
            )
        if not is_valid_cnpj(document):
            raise DocumentInvalid(
                f"CNPJ {document} is invalid: its check digits do not match", field="document"
            )
        return document
    raise DocumentInvalid(
        "expected a CPF (11 digits) or a CNPJ (14 characters), masks allowed", field="document"
    )


def canonicalize_pix_key(raw: str) -> tuple[PixKeyType, str]:
    """The type and DICT canonical form of a Pix key typed by a person.

    The input is read deterministically, first rule that applies:

    1. Contains ``@``: an e-mail, lower-cased, DICT regex, at most 77 characters.
    2. A UUID (any case): an EVP, lower-cased, hyphens kept. 32 hex digits without the hyphens
       are rejected: the DICT form keeps them.
    3. Starts with ``+``, or contains ``(``, ``)`` or whitespace (a phone mask): a phone. Spaces,
       parentheses, dots and hyphens are removed and ``+55`` is added to a 10- or 11-digit
       national number; the result must be a Brazilian mobile, ``+55 DD 9XXXXXXXX``.
    4. Otherwise ``.``, ``-`` and ``/`` are removed: 11 digits are a CPF; 14 letters or digits a
       CNPJ (upper-cased); 13 digits starting with 55 a phone without its ``+``.

    So ``61912345678`` is read as a CPF (and most likely rejected for its check digits); write a
    phone as ``+5561912345678`` or ``(61) 91234-5678``.
    """
    text = raw.strip()
    if not text:
        raise PixKeyInvalid("the Pix key is empty", field="key")
    if not text.isascii():
        raise PixKeyInvalid("a Pix key contains ASCII characters only", field="key")

    if "@" in text:
        return PixKeyType.EMAIL, _canonical_email(text)

    if _EVP.fullmatch(text.lower()):
        return PixKeyType.EVP, text.lower()
    if _EVP_WITHOUT_HYPHENS.fullmatch(text):
        raise PixKeyInvalid(
            "this looks like a random key (EVP) without its hyphens; write it as "
            "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
            field="key",
        )

    if text.startswith("+") or _PHONE_HINT.search(text):
        return PixKeyType.PHONE, _canonical_phone(text)

    document = _DOCUMENT_MASK.sub("", text)
    if len(document) == 11 and _is_ascii_digits(document):
        if not is_valid_cpf(document):
            raise PixKeyInvalid(
                "11 digits are read as a CPF and these check digits do not match; a phone key "
                "must be written with +55 or as (DD) 9XXXX-XXXX",
                field="key",
            )
        return PixKeyType.CPF, document
    if len(document) == 14:
        cnpj = document.upper()
        if not _CNPJ.fullmatch(cnpj):
            raise PixKeyInvalid(
                "14 characters are read as a CNPJ: 12 letters or digits then 2 check digits",
                field="key",
            )
        if not is_valid_cnpj(cnpj):
            raise PixKeyInvalid(
                f"CNPJ {cnpj} is invalid: its check digits do not match", field="key"
            )
        return PixKeyType.CNPJ, cnpj
    if len(document) == 13 and document.startswith("55") and _is_ascii_digits(document):
        return PixKeyType.PHONE, _canonical_phone("+" + document)
    raise PixKeyInvalid(
        "not a Pix key: expected a CPF, a CNPJ, a mobile phone (+55...), an e-mail or a "
        "random key (EVP)",
        field="key",
    )


def _canonical_email(text: str) -> str:
    email = text.lower()
    if len(email) > PIX_KEY_MAX_LENGTH:
        raise PixKeyInvalid(
            f"an e-mail key has at most {PIX_KEY_MAX_LENGTH} characters, this one has {len(email)}",
            field="key",
        )
    if not _EMAIL.fullmatch(email):
        raise PixKeyInvalid(f"{email!r} is not a valid e-mail key", field="key")
    return email


def _canonical_phone(text: str) -> str:
    stripped = _PHONE_MASK.sub("", text)
    if stripped.startswith("+"):
        digits = stripped[1:]
    else:
        digits = stripped
        if len(digits) == 12 and digits.startswith("0"):
            digits = digits[1:]  # Trunk prefix: "(061) 91234-5678".
        if len(digits) in (10, 11):
            digits = "55" + digits
    if not _is_ascii_digits(digits):
        raise PixKeyInvalid(
            "a phone key has digits only, optionally with +, spaces, (), - and .", field="key"
        )
    phone = "+" + digits
    if _BR_MOBILE.fullmatch(phone):
        return phone
    if not phone.startswith("+55"):
        raise PixKeyInvalid("only Brazilian mobile numbers (+55) can be Pix keys", field="key")
    if _BR_LANDLINE.fullmatch(phone):
        raise PixKeyInvalid(
            "this is a landline number; only mobile numbers (+55 DD 9XXXX-XXXX) can be Pix keys",
            field="key",
        )
    raise PixKeyInvalid(
        "a phone key is a Brazilian mobile number: +55, a two-digit area code, then 9 and "
        "eight digits",
        field="key",
    )
