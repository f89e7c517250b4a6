"""BR Codes: static and dynamic encoding, checked by an independent parser; every limit is
refused, never truncated; explicit shortening; the generic encoder."""

from __future__ import annotations

import pytest
from brcode.utils.brcodeId import jsonFromBrcode as starkbank_parse

from pagtracker.pix import (
    BRCode,
    BRCodeFieldInvalid,
    BRCodeFieldTooLong,
    DataObject,
    NonAsciiText,
    PixKeyInvalid,
    TxidInvalid,
    decode,
    encode,
    encode_dynamic,
    encode_static,
    fit_merchant_city,
    fit_merchant_name,
    format_amount,
    to_ascii_text,
)

from .brcode_samples import EVP, PAYMENT_URL, VECTORS, root_ids

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
