"""BR Code encoding and decoding against the official BCB vectors and an independent parser."""

from __future__ import annotations

import binascii
import re
import unicodedata

import brcode as starkbank_brcode  # starkbank-brcode: an independent implementation.
import brcode.static as starkbank_static
import pytest
from brcode.utils.brcodeId import jsonFromBrcode as starkbank_parse
from hypothesis import given, settings
from hypothesis import strategies as st

from pagtracker.pix import (
    BRCode,
    BRCodeFieldInvalid,
    BRCodeFieldTooLong,
    BRCodeInvalid,
    DataObject,
    NonAsciiText,
    PixKeyInvalid,
    TxidInvalid,
    crc16_ccitt_false,
    crc16_hex,
    decode,
    encode,
    encode_dynamic,
    encode_static,
    fit_merchant_city,
    fit_merchant_name,
    format_amount,
    to_ascii_text,
)

# pix.md section 1.7 (BCB Manual de Padrões v2.10.0 and Manual do BR Code), CRCs re-verified.
VECTORS = {
    "1a": "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D",
    "1b": "00020101021226700014br.gov.bcb.pix2548pix.example.com/8b3da2f39a4140d1a91abd93113bd441"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***630464E4",
    "1c": "00020126180014br.gov.bcb.pix5204000053039865802BR5913Fulano de Tal6008BRASILIA"
    "62070503***80740014br.gov.bcb.pix2552pix.example.com/rec/2353c790eefb11eaadc10242ac120002"
    "6304F2DA",
    "1d": "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
    "5204000053039865406100.505802BR5913Fulano de Tal6008BRASILIA62070503***"
    "80740014br.gov.bcb.pix2552pix.example.com/rec/2353c790eefb11eaadc10242ac12000263042875",
    "1e": "00020101021226700014br.gov.bcb.pix2548pix.example.com/8b3da2f39a4140d1a91abd93113bd441"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***"
    "80740014br.gov.bcb.pix2552pix.example.com/rec/2353c790eefb11eaadc10242ac1200026304FB42",
    "2": "00020104141234567890123426580014BR.GOV.BCB.PIX0136123e4567-e12b-12d1-a456-426655440000"
    "27300012BR.COM.OUTRO011001234567895204000053039865406123.455802BR5917NOME DO RECEBEDOR"
    "6008BRASILIA61087007490062190515RP12345678-201980390012BR.COM.OUTRO01190123.ABCD.3456.WXYZ"
    "6304AD38",
}
EVP = "123e4567-e12b-12d1-a456-426655440000"
PAYMENT_URL = "pix.example.com/8b3da2f39a4140d1a91abd93113bd441"
RECURRENCE_URL = "pix.example.com/rec/2353c790eefb11eaadc10242ac120002"


def reference_crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE bit by bit, straight from its definition, to check ours against."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def with_crc(body_without_crc: str) -> str:
    body = body_without_crc + "6304"
    return body + format(reference_crc16(body.encode()), "04X")


def root_ids(payload: str) -> list[str]:
    ids, position = [], 0
    while position < len(payload):
        ids.append(payload[position : position + 2])
        position += 4 + int(payload[position + 2 : position + 4])
    return ids


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


# --- Decoding rejections --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("", "empty"),
        (VECTORS["1a"][:-4] + "1D3E", "CRC mismatch"),
        (VECTORS["1a"][:-4] + "1D3", "malformed|declares"),
        (VECTORS["1a"][:-8], "ends with its CRC"),
        (with_crc("0002015204000053039865802BR5913Fulano de Tal6008BRASILIA"), "no Pix merchant"),
        (
            with_crc("0002012618" + "0014br.gov.bcb.pix" + "5204000053039865802BR6008BRASILIA"),
            "neither a key",
        ),
        (
            with_crc("0002012622" + "0014br.gov.bcb.pix0100" + "5204000053039865802BR6008BRASILIA"),
            "merchant name \\(59\\) is missing",
        ),
        (with_crc("52040000000201"), "starts with the payload format"),
        (with_crc("000202"), "unknown payload format"),
        (with_crc(VECTORS["1a"][:-8].replace("5303986", "5303840")), "BRL"),
        (with_crc(VECTORS["1a"][:-8].replace("5802BR", "5802US")), "country code BR"),
        (with_crc(VECTORS["1b"][:-8].replace("010212", "010213")), "11 or 12"),
        (with_crc(VECTORS["1a"][:-8] + "5802BR"), "appears twice"),
        (with_crc(VECTORS["1a"][:-8].replace("52040000", "5204ABCD")), "4 digits"),
        (with_crc(VECTORS["1a"][:-8].replace("5303986", "53039865405,1.00")), "decimal"),
        (with_crc(VECTORS["1a"][:-8].replace("5913Fulano de Tal", "5926" + "F" * 26)), "1 to 25"),
        (with_crc(VECTORS["1a"][:-8].replace("62070503***", "620705X3***")), "non-numeric"),
        (VECTORS["1a"].replace("Fulano", "Fulanõ"), "not printable ASCII"),
        (VECTORS["1a"] + "0" * 400, "at most 512"),
    ],
)
def test_decode_rejects_invalid_codes_with_a_clear_message(payload: str, message: str) -> None:
    with pytest.raises(BRCodeInvalid, match=message) as raised:
        decode(payload)

    assert raised.value.code == "brcode_invalid"


def test_decode_accepts_an_upper_case_gui_and_surrounding_whitespace() -> None:
    upper = with_crc(VECTORS["1a"][:-8].replace("br.gov.bcb.pix", "BR.GOV.BCB.PIX"))

    decoded = decode(f"  {upper}\n")

    assert decoded.key == EVP
    assert encode(decoded) == upper


# --- Static encoding ------------------------------------------------------------------------------


def test_static_code_is_canonical_and_read_identically_by_the_independent_parser() -> None:
    payload = encode_static(
        key="(61) 91234-5678",
        merchant_name="Padaria São João",
        merchant_city="São Paulo",
        amount_cents=1050,
        txid="Pedido42",
        info_adicional="Pedido nº 42 – obrigado",
        postal_code="01310-100",
        mcc="5462",
    )

    assert root_ids(payload) == ["00", "26", "52", "53", "54", "58", "59", "60", "61", "62", "63"]
    assert starkbank_parse(payload) == {
        "00": "01",
        "26": {
            "00": "br.gov.bcb.pix",
            "01": "+5561912345678",
            "02": "Pedido no 42 - obrigado",
        },
        "52": "5462",
        "53": "986",
        "54": "10.50",
        "58": "BR",
        "59": "Padaria Sao Joao",
        "60": "Sao Paulo",
        "61": "01310100",
        "62": {"05": "Pedido42"},
        "63": payload[-4:],
    }


def test_static_code_without_amount_or_txid_has_no_54_and_txid_stars() -> None:
    payload = encode_static(key="fulano@example.com", merchant_name="Fulano", merchant_city="Rio")

    assert "5802BR" in payload
    assert "54" not in root_ids(payload)
    assert "01" not in root_ids(payload)
    assert decode(payload).reference_label == "***"


@pytest.mark.parametrize(
    ("amount_cents", "written"),
    [
        (1, "0.01"),
        (10, "0.10"),
        (100, "1.00"),
        (1050, "10.50"),
        (123456, "1234.56"),
        (999_999_999_999, "9999999999.99"),
    ],
)
def test_amount_is_written_with_exactly_two_decimals(amount_cents: int, written: str) -> None:
    payload = encode_static(
        key=EVP, merchant_name="Fulano", merchant_city="Rio", amount_cents=amount_cents
    )

    assert format_amount(amount_cents) == written
    assert decode(payload).amount == written
    assert decode(payload).amount_cents == amount_cents


@pytest.mark.parametrize("amount_cents", [0, -1])
def test_amount_must_be_positive(amount_cents: int) -> None:
    with pytest.raises(BRCodeFieldInvalid) as raised:
        encode_static(key=EVP, merchant_name="F", merchant_city="R", amount_cents=amount_cents)

    assert raised.value.code == "brcode_field_invalid"


def test_amount_over_13_characters_is_refused() -> None:
    with pytest.raises(BRCodeFieldTooLong) as raised:
        encode_static(key=EVP, merchant_name="F", merchant_city="R", amount_cents=10**12)

    assert (raised.value.code, raised.value.field, raised.value.limit) == (
        "brcode_field_too_long",
        "amount",
        13,
    )


def test_amount_cannot_be_a_float() -> None:
    with pytest.raises(BRCodeFieldInvalid):
        encode_static(key=EVP, merchant_name="F", merchant_city="R", amount_cents=10.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "field", "limit"),
    [
        ({"merchant_name": "Padaria e Confeitaria São João"}, "merchant_name", 25),
        ({"merchant_city": "São José dos Campos"}, "merchant_city", 15),
        ({"txid": "A" * 26}, "txid", 25),
        ({"info_adicional": "x" * 38}, "info_adicional", 37),  # 73 - len(EVP)
    ],
)
def test_values_over_their_limit_are_refused_not_truncated(
    kwargs: dict[str, str], field: str, limit: int
) -> None:
    arguments = {"key": EVP, "merchant_name": "Fulano", "merchant_city": "Rio", **kwargs}

    with pytest.raises(BRCodeFieldTooLong) as raised:
        encode_static(**arguments)  # type: ignore[arg-type]

    assert raised.value.code == "brcode_field_too_long"
    assert raised.value.field == field
    assert raised.value.limit == limit
    assert field in str(raised.value)
    assert str(limit) in str(raised.value)


def test_info_adicional_uses_exactly_the_room_left_by_the_key() -> None:
    payload = encode_static(
        key=EVP, merchant_name="Fulano", merchant_city="Rio", info_adicional="x" * 37
    )

    assert decode(payload).info_adicional == "x" * 37
    assert payload[6:10] == "2699"


def test_txid_with_symbols_is_refused_as_txid_invalid() -> None:
    with pytest.raises(TxidInvalid) as raised:
        encode_static(key=EVP, merchant_name="F", merchant_city="R", txid="RP1234-2019")

    assert raised.value.code == "txid_invalid"


def test_invalid_key_is_refused() -> None:
    with pytest.raises(PixKeyInvalid):
        encode_static(key="123.456.789-00", merchant_name="F", merchant_city="R")


def test_key_is_written_in_canonical_form() -> None:
    payload = encode_static(key="  Fulano@Example.COM ", merchant_name="F", merchant_city="R")

    assert decode(payload).key == "fulano@example.com"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"merchant_name": "✓✓✓"}, "merchant_name"),
        ({"merchant_city": "   "}, "merchant_city"),
        ({"mcc": "12345"}, "mcc"),
        ({"postal_code": "0131-0100"}, "postal_code"),
    ],
)
def test_invalid_values_are_refused(kwargs: dict[str, str], field: str) -> None:
    arguments = {"key": EVP, "merchant_name": "Fulano", "merchant_city": "Rio", **kwargs}

    with pytest.raises(BRCodeFieldInvalid) as raised:
        encode_static(**arguments)  # type: ignore[arg-type]

    assert raised.value.field == field


def test_transliteration_strips_accents_keeps_case_and_normalises_spaces() -> None:
    assert to_ascii_text("  São  Paulo\t–  Açaí “Bom” ") == 'Sao Paulo - Acai "Bom"'
    assert to_ascii_text("ÀÉÎÕÜ Ç ñ") == "AEIOU C n"


# --- Explicit shortening --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fitted"),
    [
        ("Fulano de Tal", "Fulano de Tal"),
        ("Padaria e Confeitaria São João Ltda", "Padaria e Confeitaria Sao"),
        ("Mercadinho do Zé da Esquina Comércio", "Mercadinho do Ze"),
        ("Supercalifragilisticexpialidocious Ltda", "Supercalifragilisticexpia"),
    ],
)
def test_fit_merchant_name_shortens_on_word_boundaries(name: str, fitted: str) -> None:
    assert fit_merchant_name(name) == fitted
    assert len(fitted) <= 25
    assert (
        decode(encode_static(key=EVP, merchant_name=fitted, merchant_city="R")).merchant_name
        == fitted
    )


@pytest.mark.parametrize(
    ("city", "fitted"),
    [
        ("Brasília", "Brasilia"),
        ("São José dos Campos", "Sao Jose"),
        ("Florianópolis", "Florianopolis"),
    ],
)
def test_fit_merchant_city_shortens_on_word_boundaries(city: str, fitted: str) -> None:
    assert fit_merchant_city(city) == fitted


# --- Dynamic encoding -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", [f"https://{PAYMENT_URL}", f"http://{PAYMENT_URL}", "HTTPS://x.y/z"]
)
def test_dynamic_url_with_scheme_is_refused(url: str) -> None:
    with pytest.raises(BRCodeFieldInvalid, match="scheme"):
        encode_dynamic(url=url, merchant_name="F", merchant_city="R")


def test_dynamic_url_over_77_characters_is_refused() -> None:
    with pytest.raises(BRCodeFieldTooLong) as raised:
        encode_dynamic(url="pix.example.com/" + "a" * 62, merchant_name="F", merchant_city="R")

    assert (raised.value.field, raised.value.limit) == ("url", 77)


def test_dynamic_code_has_no_amount_and_no_txid() -> None:
    payload = encode_dynamic(url=PAYMENT_URL, merchant_name="Loja", merchant_city="Recife")
    decoded = decode(payload)

    assert "54" not in root_ids(payload)
    assert decoded.reference_label == "***"
    assert decoded.point_of_initiation == "12"
    assert starkbank_parse(payload)["26"] == {"00": "br.gov.bcb.pix", "25": PAYMENT_URL}


def test_reusable_dynamic_code_leaves_out_point_of_initiation() -> None:
    payload = encode_dynamic(
        url=PAYMENT_URL, merchant_name="Loja", merchant_city="Recife", single_use=False
    )

    assert decode(payload).point_of_initiation is None
    assert root_ids(payload)[:2] == ["00", "26"]


# --- Generic encoder ------------------------------------------------------------------------------


def test_generic_encoder_refuses_non_ascii_and_overlong_values() -> None:
    base = decode(VECTORS["1a"])
    renamed = BRCode(
        objects=tuple(DataObject("59", "Fulanõ") if obj.id == "59" else obj for obj in base.objects)
    )
    padded = BRCode(objects=(*base.objects, DataObject("99", "x" * 100)))

    with pytest.raises(NonAsciiText) as non_ascii:
        encode(renamed)
    with pytest.raises(BRCodeFieldTooLong):
        encode(padded)

    assert non_ascii.value.code == "non_ascii"


def filler_templates(room: int) -> list[DataObject]:
    """Unreserved templates (80, 81...) adding exactly ``room`` characters to a payload."""
    fillers, template_id = [], 80
    while room > 0:
        inner = min(95, room - 8)  # An object 8x + 00yy + value takes 8 + len(value).
        if 0 < room - (8 + inner) < 9:
            inner -= 9  # Leave enough room for one more, non-empty filler.
        fillers.append(DataObject(str(template_id), (DataObject("00", "x" * inner),)))
        room -= 8 + inner
        template_id += 1
    return fillers


def test_generic_encoder_enforces_the_512_character_limit() -> None:
    base = decode(VECTORS["1a"]).objects
    room = 512 - len(VECTORS["1a"])

    exactly_512 = encode(BRCode(objects=(*base, *filler_templates(room))))
    with pytest.raises(BRCodeFieldTooLong) as raised:
        encode(BRCode(objects=(*base, *filler_templates(room + 1))))

    assert len(exactly_512) == 512
    assert decode(exactly_512).key == EVP
    assert (raised.value.field, raised.value.limit) == ("payload", 512)


# --- Property tests -------------------------------------------------------------------------------


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
