"""Pix key canonicalisation and CPF/CNPJ validation (pix.md section 4)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pagtracker.pix import (
    DocumentInvalid,
    PixKeyInvalid,
    PixKeyType,
    canonicalize_pix_key,
    is_valid_cnpj,
    is_valid_cpf,
    validate_cpf_or_cnpj,
)


@pytest.mark.parametrize(
    ("raw", "key_type", "canonical"),
    [
        # CPF
        ("12345678909", PixKeyType.CPF, "12345678909"),
        ("123.456.789-09", PixKeyType.CPF, "12345678909"),
        (" 111.444.777-35 ", PixKeyType.CPF, "11144477735"),
        # CNPJ, numeric and alphanumeric
        ("11.222.333/0001-81", PixKeyType.CNPJ, "11222333000181"),
        ("00038166000105", PixKeyType.CNPJ, "00038166000105"),
        ("12.ABC.345/01DE-35", PixKeyType.CNPJ, "12ABC34501DE35"),
        ("12.abc.345/01de-35", PixKeyType.CNPJ, "12ABC34501DE35"),
        ("Q0SLFMBD7VX439", PixKeyType.CNPJ, "Q0SLFMBD7VX439"),
        # Phone
        ("+5561912345678", PixKeyType.PHONE, "+5561912345678"),
        ("(61) 91234-5678", PixKeyType.PHONE, "+5561912345678"),
        ("+55 (61) 91234-5678", PixKeyType.PHONE, "+5561912345678"),
        ("61 91234 5678", PixKeyType.PHONE, "+5561912345678"),
        ("(061) 91234-5678", PixKeyType.PHONE, "+5561912345678"),
        ("5561912345678", PixKeyType.PHONE, "+5561912345678"),
        # E-mail
        (
            "fulano_da_silva.recebedor@example.com",
            PixKeyType.EMAIL,
            "fulano_da_silva.recebedor@example.com",
        ),
        ("Fulano.Silva@Example.COM", PixKeyType.EMAIL, "fulano.silva@example.com"),
        # EVP
        (
            "123e4567-e12b-12d1-a456-426655440000",
            PixKeyType.EVP,
            "123e4567-e12b-12d1-a456-426655440000",
        ),
        (
            "7D9F0335-8DCC-4054-9BF9-0DBD61D36906",
            PixKeyType.EVP,
            "7d9f0335-8dcc-4054-9bf9-0dbd61d36906",
        ),
    ],
)
def test_keys_are_canonicalised(raw: str, key_type: PixKeyType, canonical: str) -> None:
    assert canonicalize_pix_key(raw) == (key_type, canonical)


def test_e_mail_key_of_exactly_77_characters_is_accepted() -> None:
    email = "a" * 70 + "@ex.com"

    assert canonicalize_pix_key(email) == (PixKeyType.EMAIL, email)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty"),
        ("123.456.789-00", "check digits"),
        ("111.111.111-11", "check digits"),
        ("61912345678", "read as a CPF"),  # A phone without +55 or mask reads as a CPF.
        ("11.222.333/0001-82", "check digits"),
        ("00000000000000", "check digits"),
        ("12.ABC.345/01DE-3A", "12 letters or digits then 2 check digits"),
        ("(61) 3123-4567", "landline"),
        ("+556131234567", "landline"),
        ("+1 202 555 0100", "Brazilian"),
        ("+55 61 81234-5678", "mobile"),
        ("+55 61 9abc", "digits only"),
        ("fulano%silva@example.com", "not a valid e-mail"),
        ("fulano@", "not a valid e-mail"),
        ("a" * 71 + "@ex.com", "at most 77"),  # 78 characters
        ("123e4567e12b12d1a456426655440000", "hyphens"),
        ("123e4567-e12b-12d1-a456-42665544000", "not a Pix key"),
        ("josé@example.com", "ASCII"),
        ("１２３４５６７８９０９", "ASCII"),  # Full-width digits pass str.isdigit().
        ("hello", "not a Pix key"),
    ],
)
def test_invalid_keys_are_rejected_with_a_reason(raw: str, message: str) -> None:
    with pytest.raises(PixKeyInvalid, match=message) as raised:
        canonicalize_pix_key(raw)

    assert raised.value.code == "pix_key_invalid"
    assert raised.value.field == "key"


@pytest.mark.parametrize(
    ("base", "check_digits"),
    [("123456789", "09"), ("111444777", "35")],
)
def test_cpf_check_digits_from_the_reference(base: str, check_digits: str) -> None:
    assert is_valid_cpf(base + check_digits)
    assert not is_valid_cpf(base + check_digits[::-1])


@pytest.mark.parametrize(
    ("base", "check_digits"),
    [
        ("112223330001", "81"),
        ("12ABC34501DE", "35"),
        ("000381660001", "05"),
        ("Q0SLFMBD7VX4", "39"),
    ],
)
def test_cnpj_check_digits_from_the_reference(base: str, check_digits: str) -> None:
    assert is_valid_cnpj(base + check_digits)
    for wrong in range(100):
        if f"{wrong:02d}" != check_digits:
            assert not is_valid_cnpj(f"{base}{wrong:02d}")


@pytest.mark.parametrize("cpf", [str(d) * 11 for d in range(10)])
def test_cpf_with_all_digits_equal_is_invalid(cpf: str) -> None:
    assert not is_valid_cpf(cpf)


def test_cnpj_validation_wants_the_canonical_upper_case_form() -> None:
    assert is_valid_cnpj("12ABC34501DE35")
    assert not is_valid_cnpj("12abc34501de35")
    assert not is_valid_cnpj("12.ABC.345/01DE-35")
    assert not is_valid_cnpj("00000000000000")


@pytest.mark.parametrize(
    ("raw", "document"),
    [
        ("123.456.789-09", "12345678909"),
        ("12.abc.345/01de-35", "12ABC34501DE35"),
        ("00.038.166/0001-05", "00038166000105"),
    ],
)
def test_documents_are_normalised(raw: str, document: str) -> None:
    assert validate_cpf_or_cnpj(raw) == document


@pytest.mark.parametrize(
    "raw", ["123.456.789-00", "11.222.333/0001-80", "1234", "1234567890A", "11111111111"]
)
def test_invalid_documents_are_rejected(raw: str) -> None:
    with pytest.raises(DocumentInvalid) as raised:
        validate_cpf_or_cnpj(raw)

    assert raised.value.code == "document_invalid"


@given(st.from_regex(r"[0-9]{11}", fullmatch=True))
def test_any_eleven_digits_are_a_cpf_or_rejected(digits: str) -> None:
    if is_valid_cpf(digits):
        assert canonicalize_pix_key(digits) == (PixKeyType.CPF, digits)
        masked = f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"
        assert canonicalize_pix_key(masked) == (PixKeyType.CPF, digits)
    else:
        with pytest.raises(PixKeyInvalid):
            canonicalize_pix_key(digits)


@given(st.from_regex(r"[1-9]{2}9[0-9]{8}", fullmatch=True))
def test_any_mobile_in_any_usual_mask_canonicalises_to_plus_55(national: str) -> None:
    ddd, first, last = national[:2], national[2:7], national[7:]
    for written in (
        f"+55{national}",
        f"({ddd}) {first}-{last}",
        f"+55 {ddd} {first}-{last}",
        f"({ddd}){first}{last}",
    ):
        assert canonicalize_pix_key(written) == (PixKeyType.PHONE, f"+55{national}")


@given(st.uuids())
def test_any_uuid_is_an_evp_in_lower_case_with_hyphens(uuid: object) -> None:
    text = str(uuid)

    assert canonicalize_pix_key(text.upper()) == (PixKeyType.EVP, text)
