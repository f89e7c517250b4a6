"""QR images: every PNG reads back to the exact payload, and the symbol is the standard one.

Three independent references: zxing-cpp decodes the PNGs; qrcode builds the same matrix when
told our version and mask; segno's mask evaluation gives the same penalty for every mask (so we
pick the mask segno would pick for this bit stream).
"""

from __future__ import annotations

import base64
import io
import struct
import zlib
from typing import Any

import pytest
import qrcode
import qrcode.util
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from segno import consts as segno_consts
from segno import encoder as segno_encoder

from pagtracker.pix import (
    decode,
    encode_dynamic,
    encode_static,
    qrimage,
    render_data_uri,
    render_png,
)
from pagtracker.pix.qrimage import codes, symbol

EVP = "123e4567-e12b-12d1-a456-426655440000"
VECTOR_2 = (
    "00020104141234567890123426580014BR.GOV.BCB.PIX0136123e4567-e12b-12d1-a456-426655440000"
    "27300012BR.COM.OUTRO011001234567895204000053039865406123.455802BR5917NOME DO RECEBEDOR"
    "6008BRASILIA61087007490062190515RP12345678-201980390012BR.COM.OUTRO01190123.ABCD.3456.WXYZ"
    "6304AD38"
)
PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))


def max_length_brcode() -> str:
    """A valid 512-character BR Code (the EMV maximum): a static code padded with templates."""
    from pagtracker.pix.brcode import BRCode, DataObject, encode

    base = decode(encode_static(key=EVP, merchant_name="Fulano de Tal", merchant_city="BRASILIA"))
    room = 512 - len(encode(base))
    fillers = []
    for template_id in range(80, 100):
        if room == 0:
            break
        inner = min(95, room - 8)
        if 0 < room - (8 + inner) < 9:
            inner -= 9
        fillers.append(DataObject(str(template_id), (DataObject("00", "X" * inner),)))
        room -= 8 + inner
    payload = encode(BRCode(objects=(*base.objects, *fillers)))
    assert len(payload) == 512
    return payload


PAYLOADS = [
    encode_static(key=EVP, merchant_name="Fulano de Tal", merchant_city="BRASILIA"),
    encode_static(
        key="+5561912345678",
        merchant_name="Padaria São João",
        merchant_city="São Paulo",
        amount_cents=123456,
        txid="ABCdef1234567890xyzXYZ123",
        info_adicional="Pedido 42",
    ),
    encode_dynamic(
        url="pix.example.com/8b3da2f39a4140d1a91abd93113bd441",
        merchant_name="Fulano de Tal",
        merchant_city="BRASILIA",
    ),
    VECTOR_2,
    max_length_brcode(),
]


def read_qr(png: bytes) -> tuple[str, bytes]:
    image = Image.open(io.BytesIO(png))
    results = zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    assert len(results) == 1
    return results[0].text, results[0].bytes


def qrcode_reference_matrix(payload: str, *, version: int, mask: int) -> list[list[bool]]:
    reference = qrcode.QRCode(
        version=version,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        mask_pattern=mask,
        border=0,
    )
    reference.add_data(qrcode.util.QRData(payload.encode(), mode=qrcode.util.MODE_8BIT_BYTE))
    reference.make(fit=False)
    return [[bool(module) for module in row] for row in reference.modules]


def assert_same_symbol_as_references(payload: str) -> None:
    _matrix, layout, mask = symbol._encode_matrix(payload)
    ours = [list(row) for row in qrimage.qr_matrix(payload)]

    assert ours == qrcode_reference_matrix(payload, version=layout.version, mask=mask)

    unmasked, layout = symbol._unmasked_matrix(payload)
    penalties = []
    for candidate_mask, flips in enumerate(layout.mask_bits):
        rows = tuple(
            bytearray(int(module) for module in row)
            for row in symbol._symbol_rows(unmasked ^ flips, layout)
        )
        segno_penalty: int = segno_encoder.evaluate_mask(  # type: ignore[no-untyped-call]
            rows, layout.size, layout.size
        )
        assert symbol._penalty(unmasked ^ flips, layout) == segno_penalty, candidate_mask
        penalties.append(segno_penalty)
    assert mask == penalties.index(min(penalties))


@pytest.mark.parametrize("payload", PAYLOADS, ids=["static", "static-full", "dynamic", "v2", "512"])
def test_png_reads_back_to_exactly_the_payload(payload: str) -> None:
    text, raw = read_qr(render_png(payload))

    assert text == payload
    assert raw == payload.encode("ascii")


@pytest.mark.parametrize("payload", PAYLOADS, ids=["static", "static-full", "dynamic", "v2", "512"])
def test_symbol_matches_the_reference_encoders(payload: str) -> None:
    assert_same_symbol_as_references(payload)


@pytest.mark.parametrize(("box_size", "border"), [(1, 4), (2, 0), (3, 1), (5, 4), (11, 6)])
def test_png_geometry_and_readability_for_any_box_size(box_size: int, border: int) -> None:
    payload = PAYLOADS[1]
    png = render_png(payload, box_size=box_size, border=border)
    image = Image.open(io.BytesIO(png))
    size = len(qrimage.qr_matrix(payload))

    assert image.size == ((size + 2 * border) * box_size,) * 2
    assert image.mode == "1"
    if box_size >= 2:  # One pixel per module is too small for zxing's binarizer to be reliable.
        assert read_qr(png)[0] == payload


def test_png_pixels_match_the_matrix_with_a_light_quiet_zone() -> None:
    payload = PAYLOADS[0]
    box_size, border = 3, 4
    image = Image.open(io.BytesIO(render_png(payload, box_size=box_size, border=border)))
    matrix = qrimage.qr_matrix(payload)
    pixels = image.load()
    assert pixels is not None

    side = image.size[0]
    for y in range(side):
        for x in range(side):
            row, col = y // box_size - border, x // box_size - border
            inside = 0 <= row < len(matrix) and 0 <= col < len(matrix)
            dark = inside and matrix[row][col]
            assert (pixels[x, y] == 0) == dark, (x, y)


def test_png_is_well_formed() -> None:
    png = render_png(PAYLOADS[0])

    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, []
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        data = png[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", png[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + data)
        chunks.append(kind)
        position += 12 + length
    assert chunks == [b"IHDR", b"IDAT", b"IEND"]


def test_data_uri_wraps_the_png() -> None:
    uri = render_data_uri(PAYLOADS[0])

    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.removeprefix("data:image/png;base64,")) == render_png(PAYLOADS[0])


def test_render_png_refuses_nonsense_geometry() -> None:
    with pytest.raises(ValueError):
        render_png(PAYLOADS[0], box_size=0)
    with pytest.raises(ValueError):
        render_png(PAYLOADS[0], border=-1)


def test_version_and_block_tables_match_segno() -> None:
    level_m = segno_consts.ERROR_LEVEL_M
    for version in range(1, 41):
        ecc_table: Any = segno_consts.ECC
        blocks = ecc_table[version][level_m]
        assert codes._data_codewords(version) == sum(b.num_blocks * b.num_data for b in blocks)
        assert codes._EC_BLOCKS_M[version] == sum(b.num_blocks for b in blocks)
        assert codes._EC_CODEWORDS_PER_BLOCK_M[version] == blocks[0].num_total - blocks[0].num_data
        if version >= 2:
            assert codes._alignment_positions(version) == list(
                segno_consts.ALIGNMENT_POS[version - 2]
            )
        if version >= 7:
            assert codes._version_bits(version) == segno_consts.VERSION_INFO[version - 7]
    for mask in range(8):
        assert codes._format_bits(mask) == segno_consts.FORMAT_INFO[mask]


@settings(max_examples=60, deadline=None)
@given(payload=st.text(alphabet=PRINTABLE, min_size=1, max_size=700))
def test_any_ascii_text_gives_the_reference_symbol(payload: str) -> None:
    assert_same_symbol_as_references(payload)


@settings(max_examples=25, deadline=None)
@given(
    name=st.text(alphabet="abcdeçãéÁ ", min_size=1, max_size=25).filter(lambda t: t.strip()),
    amount_cents=st.integers(1, 9_999_999_999),
)
def test_generated_static_codes_read_back_exactly(name: str, amount_cents: int) -> None:
    payload = encode_static(
        key=EVP, merchant_name=name, merchant_city="Recife", amount_cents=amount_cents
    )

    assert read_qr(render_png(payload))[0] == payload


def test_payload_too_long_for_any_qr_code_is_refused() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        render_png("x" * 2332)
