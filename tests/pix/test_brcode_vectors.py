"""BR Codes: the official BCB vectors decode, re-encode byte for byte and agree with an
independent parser; the CRC."""

from __future__ import annotations

import binascii

import pytest
from brcode.utils.brcodeId import jsonFromBrcode as starkbank_parse

from pagtracker.pix import (
    DataObject,
    crc16_ccitt_false,
    crc16_hex,
    decode,
    encode,
    encode_dynamic,
    encode_static,
)

from .brcode_samples import EVP, PAYMENT_URL, RECURRENCE_URL, VECTORS, reference_crc16, with_crc

# --- Official vectors -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_official_vectors_decode_and_reencode_byte_for_byte(name: str) -> None:
    payload = VECTORS[name]

    assert encode(decode(payload)) == payload


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_official_vectors_are_also_accepted_by_the_independent_parser(name: str) -> None:
    parsed = starkbank_parse(VECTORS[name])

    assert parsed["63"] == VECTORS[name][-4:]


@pytest.mark.parametrize(
    ("name", "key", "url", "amount_cents", "txid", "recurrence_url", "point_of_initiation"),
    [
        ("1a", EVP, None, None, None, None, None),
        ("1b", None, PAYMENT_URL, None, None, None, "12"),
        ("1c", None, None, None, None, RECURRENCE_URL, None),
        ("1d", EVP, None, 10050, None, RECURRENCE_URL, None),
        ("1e", None, PAYMENT_URL, None, None, RECURRENCE_URL, "12"),
        ("2", EVP, None, 12345, "RP12345678-2019", None, None),
    ],
)
def test_official_vectors_decode_to_their_fields(
    name: str,
    key: str | None,
    url: str | None,
    amount_cents: int | None,
    txid: str | None,
    recurrence_url: str | None,
    point_of_initiation: str | None,
) -> None:
    decoded = decode(VECTORS[name])

    assert decoded.key == key
    assert decoded.url == url
    assert decoded.amount_cents == amount_cents
    assert decoded.txid == txid
    assert decoded.recurrence_url == recurrence_url
    assert decoded.point_of_initiation == point_of_initiation
    assert decoded.mcc == "0000"
    assert decoded.currency == "986"
    assert decoded.country == "BR"
    assert decoded.merchant_city == "BRASILIA"
    assert decoded.is_dynamic is (url is not None)


def test_vector_2_keeps_the_other_arrangements_and_its_extra_fields() -> None:
    decoded = decode(VECTORS["2"])

    assert decoded.gui == "BR.GOV.BCB.PIX"
    assert decoded.merchant_name == "NOME DO RECEBEDOR"
    assert decoded.postal_code == "70074900"
    assert decoded.amount == "123.45"
    assert decoded.reference_label == "RP12345678-2019"
    assert [obj.id for obj in decoded.other_merchant_accounts] == ["04", "27"]
    assert decoded.get("04") == DataObject("04", "12345678901234")
    assert decoded.other_merchant_accounts[1].child_text("00") == "BR.COM.OUTRO"
    assert [obj.id for obj in decoded.unreserved_templates] == ["80"]
    assert decoded.unreserved_templates[0].child_text("01") == "0123.ABCD.3456.WXYZ"


def test_vector_1a_is_what_encode_static_produces() -> None:
    assert (
        encode_static(key=EVP, merchant_name="Fulano de Tal", merchant_city="BRASILIA")
        == VECTORS["1a"]
    )


def test_vector_1b_is_what_encode_dynamic_produces() -> None:
    assert (
        encode_dynamic(url=PAYMENT_URL, merchant_name="Fulano de Tal", merchant_city="BRASILIA")
        == VECTORS["1b"]
    )


def test_vector_1d_static_part_is_what_encode_static_produces() -> None:
    static = encode_static(
        key=EVP, merchant_name="Fulano de Tal", merchant_city="BRASILIA", amount_cents=10050
    )

    assert decode(static).objects == decode(VECTORS["1d"]).objects[:-1]


# --- CRC ------------------------------------------------------------------------------------------


def test_crc_check_value() -> None:
    assert crc16_ccitt_false(b"123456789") == 0x29B1


def test_crc_of_the_manual_example_covers_6304_and_uses_init_ffff() -> None:
    body = VECTORS["1a"][:-4]

    assert crc16_hex(body) == "1D3D"
    assert format(binascii.crc_hqx(body.encode(), 0), "04X") == "4AC0"  # The init-0 bug.
    assert format(crc16_ccitt_false(body[:-4].encode()), "04X") != "1D3D"  # Stopping before 6304.


def test_crc_hex_is_zero_padded_upper_case() -> None:
    for payload in VECTORS.values():
        assert crc16_hex(payload[:-4]) == payload[-4:]
        assert crc16_hex(payload[:-4]) == format(reference_crc16(payload[:-4].encode()), "04X")


def test_crc_hex_refuses_a_body_without_6304() -> None:
    with pytest.raises(ValueError, match="6304"):
        crc16_hex(VECTORS["1a"][:-8])


def test_decode_compares_the_crc_case_insensitively() -> None:
    payload = with_crc("000201" + VECTORS["1a"][6:-8])
    lower = payload[:-4] + payload[-4:].lower()
    assert lower != payload  # The fixture only makes sense with letters in the CRC.

    assert decode(lower) == decode(payload)
