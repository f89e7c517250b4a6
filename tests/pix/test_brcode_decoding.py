"""BR Codes: what the decoder refuses, with a clear message, and what it tolerates."""

from __future__ import annotations

import pytest

from pagtracker.pix import BRCodeInvalid, decode, encode

from .brcode_samples import EVP, VECTORS, with_crc


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
