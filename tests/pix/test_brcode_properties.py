"""BR Codes, property tests: whatever is encoded decodes to itself, and the independent
implementation reads and writes the same code."""

from __future__ import annotations

import re
import unicodedata

import brcode as starkbank_brcode  # starkbank-brcode: an independent implementation.
import brcode.static as starkbank_static
import pytest
from brcode.utils.brcodeId import jsonFromBrcode as starkbank_parse
from hypothesis import given, settings
from hypothesis import strategies as st

from pagtracker.pix import (
    BRCodeFieldTooLong,
    decode,
    encode,
    encode_static,
    fit_merchant_city,
    fit_merchant_name,
    format_amount,
)

from .brcode_samples import EVP, reference_crc16, root_ids


def _mod11(values: list[int], weights: list[int]) -> int:
    remainder = sum(v * w for v, w in zip(values, weights, strict=True)) % 11
    return 0 if remainder < 2 else 11 - remainder


@st.composite
def cpfs(draw: st.DrawFn) -> str:
    base = draw(
        st.lists(st.integers(0, 9), min_size=9, max_size=9).filter(lambda d: len(set(d)) > 1)
    )
    first = _mod11(base, list(range(10, 1, -1)))
    second = _mod11([*base, first], list(range(11, 1, -1)))
    return "".join(map(str, [*base, first, second]))


@st.composite
def cnpjs(draw: st.DrawFn) -> str:
    base = draw(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=12, max_size=12))
    values = [ord(c) - 48 for c in base]
    first = _mod11(values, [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
    second = _mod11([*values, first], [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
    cnpj = f"{base}{first}{second}"
    if len(set(cnpj)) == 1:
        return "11222333000181"
    return cnpj


phones = st.from_regex(r"\+55[1-9]{2}9[0-9]{8}", fullmatch=True)
emails = st.from_regex(
    r"[a-z0-9][a-z0-9._+-]{0,20}@[a-z0-9]{1,12}(\.[a-z]{2,6}){1,2}", fullmatch=True
)
evps = st.uuids().map(str)
canonical_keys = st.one_of(cpfs(), cnpjs(), phones, emails, evps)

PORTUGUESE = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZáàâãéêíóôõúüçÁÀÂÃÉÊÍÓÔÕÚÜÇ0123456789 .-&'"
)


def independent_ascii(text: str) -> str:
    stripped = unicodedata.normalize("NFD", text).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", stripped).strip()


def portuguese_text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=PORTUGUESE, min_size=1, max_size=max_size).filter(
        lambda text: independent_ascii(text) != ""
    )


@settings(max_examples=300, deadline=None)
@given(
    key=canonical_keys,
    name=portuguese_text(25),
    city=portuguese_text(15),
    amount_cents=st.one_of(st.none(), st.integers(1, 9_999_999_999)),
    txid=st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9]{1,25}", fullmatch=True)),
    info=st.one_of(st.none(), portuguese_text(20)),
)
def test_static_codes_decode_to_what_was_encoded(
    key: str,
    name: str,
    city: str,
    amount_cents: int | None,
    txid: str | None,
    info: str | None,
) -> None:
    payload = encode_static(
        key=key,
        merchant_name=name,
        merchant_city=city,
        amount_cents=amount_cents,
        txid=txid,
        info_adicional=info,
    )
    decoded = decode(payload)

    assert payload.isascii()
    assert payload[-4:] == format(reference_crc16(payload[:-4].encode()), "04X")
    assert root_ids(payload) == sorted(root_ids(payload), key=lambda i: (i == "63", i))
    assert encode(decoded) == payload
    assert decoded.key == key
    assert decoded.merchant_name == independent_ascii(name)
    assert decoded.merchant_city == independent_ascii(city)
    assert decoded.amount_cents == amount_cents
    assert decoded.txid == txid
    assert decoded.info_adicional == (independent_ascii(info) if info else None)

    # The independent parser (it also checks the CRC) reads the same fields.
    parsed = starkbank_parse(payload)
    assert parsed["26"]["01"] == key
    assert parsed["59"] == decoded.merchant_name
    assert parsed["60"] == decoded.merchant_city
    assert parsed["62"]["05"] == (txid or "***")
    assert parsed.get("54") == (None if amount_cents is None else format_amount(amount_cents))

    # And its encoder, fed the same ASCII fields, writes the very same string.
    stark_fields: dict[str, object] = {
        "key": key,
        "name": decoded.merchant_name,
        "city": decoded.merchant_city,
        "txid": txid or "",
        "amount": amount_cents or 0,
        "description": decoded.info_adicional or "",
    }
    assert starkbank_static.fromJson(stark_fields) == payload


@settings(max_examples=100, deadline=None)
@given(
    name=st.text(alphabet="abcdeçãé", min_size=26, max_size=60),
    city=st.text(alphabet="abcdeçãé", min_size=16, max_size=40),
)
def test_names_and_cities_too_long_are_refused_not_truncated(name: str, city: str) -> None:
    with pytest.raises(BRCodeFieldTooLong) as name_error:
        encode_static(key=EVP, merchant_name=name, merchant_city="Rio")
    with pytest.raises(BRCodeFieldTooLong) as city_error:
        encode_static(key=EVP, merchant_name="Fulano", merchant_city=city)

    assert (name_error.value.field, name_error.value.limit) == ("merchant_name", 25)
    assert (city_error.value.field, city_error.value.limit) == ("merchant_city", 15)


@settings(max_examples=100, deadline=None)
@given(name=portuguese_text(80), city=portuguese_text(40))
def test_fitted_names_and_cities_always_encode(name: str, city: str) -> None:
    fitted_name, fitted_city = fit_merchant_name(name), fit_merchant_city(city)

    decoded = decode(encode_static(key=EVP, merchant_name=fitted_name, merchant_city=fitted_city))

    assert decoded.merchant_name == fitted_name
    assert decoded.merchant_city == fitted_city
    assert independent_ascii(name).startswith(fitted_name)


def test_starkbank_package_is_the_expected_independent_implementation() -> None:
    assert starkbank_brcode.version == "1.1.0"
