"""Encoding a payload into a symbol: codewords, the eight masks and their penalties."""

from __future__ import annotations

from .codes import (
    _EC_BLOCKS_M,
    _EC_CODEWORDS_PER_BLOCK_M,
    _MODE_BYTE,
    _PAD_CODEWORDS,
    _data_codewords,
    _reed_solomon_remainder,
)
from .layout import (
    _PAD,
    _Layout,
    _layout,
)


def _choose_version(data_length: int) -> int:
    for version in range(1, 41):
        count_bits = 8 if version <= 9 else 16
        if 4 + count_bits + 8 * data_length <= _data_codewords(version) * 8:
            return version
    raise ValueError(f"{data_length} bytes do not fit in a QR Code at error correction level M")


def _codewords(data: bytes, layout: _Layout) -> bytes:
    """Data codewords (mode, count, data, terminator, padding) followed by their EC codewords,
    interleaved block by block as ISO/IEC 18004 7.6 requires."""
    version = layout.version
    capacity_bits = layout.data_codewords * 8
    count_bits = 8 if version <= 9 else 16
    header = (_MODE_BYTE << count_bits) | len(data)
    stream = (header << (8 * len(data))) | int.from_bytes(data, "big")
    used_bits = 4 + count_bits + 8 * len(data)
    terminator_bits = min(4, capacity_bits - used_bits)
    used_bits += terminator_bits
    padding_bits = -used_bits % 8  # Zero bits up to the codeword boundary, none if already on it.
    stream <<= terminator_bits + padding_bits
    used_bits += padding_bits
    message = stream.to_bytes(used_bits // 8, "big")
    pad_count = layout.data_codewords - len(message)
    message += bytes(_PAD_CODEWORDS * (pad_count // 2 + 1))[:pad_count]

    block_count = _EC_BLOCKS_M[version]
    ec_length = _EC_CODEWORDS_PER_BLOCK_M[version]
    total_codewords = layout.raw_data_modules // 8
    short_blocks = block_count - total_codewords % block_count
    short_length = total_codewords // block_count - ec_length
    data_blocks = []
    start = 0
    for block_number in range(block_count):
        length = short_length + (0 if block_number < short_blocks else 1)
        data_blocks.append(message[start : start + length])
        start += length
    ec_blocks = [_reed_solomon_remainder(data_block, ec_length) for data_block in data_blocks]

    interleaved = bytearray()
    for i in range(short_length + 1):
        for data_block in data_blocks:
            if i < len(data_block):
                interleaved.append(data_block[i])
    for i in range(ec_length):
        for ec_block in ec_blocks:
            interleaved.append(ec_block[i])
    return bytes(interleaved)


def _unmasked_matrix(payload: str) -> tuple[int, _Layout]:
    data = payload.encode("utf-8")
    layout = _layout(_choose_version(len(data)))
    codewords = _codewords(data, layout)
    bits = format(int.from_bytes(codewords, "big"), f"0{8 * len(codewords)}b").encode("ascii")
    remainder_bits = layout.raw_data_modules - 8 * len(codewords)
    source = bits + b"0" * remainder_bits + b"01"
    return int(bytes(layout.gather(source)), 2), layout


def _penalty(dark: int, layout: _Layout) -> int:
    """ISO/IEC 18004 7.8.3.1 penalty score of a masked matrix, computed exactly as segno does."""
    light = layout.symbol_cells ^ dark
    not_dark = layout.all_cells ^ dark
    score = 0
    for step in (1, layout.stride):  # Rows, then columns.
        # N1: a run of 5 + i same-coloured modules scores 3 + i. It holds 1 + i windows of five,
        # so the score is the number of windows plus 2 per run.
        dark_pairs = dark & (dark << step)
        light_pairs = light & (light << step)
        windows = (dark_pairs & (dark_pairs << 2 * step) & (dark << 4 * step)) | (
            light_pairs & (light_pairs << 2 * step) & (light << 4 * step)
        )
        score += windows.bit_count() + 2 * (windows & ~(windows >> step)).bit_count()

        # N3: dark:light:dark:dark:dark:light:dark with four light modules before or after it.
        pattern = (
            dark
            & (light << step)
            & (dark << 2 * step)
            & (dark << 3 * step)
            & (dark << 4 * step)
            & (light << 5 * step)
            & (dark << 6 * step)
        )
        before = ((not_dark >> step) & (not_dark >> 2 * step) & (not_dark >> 3 * step)) & (
            not_dark >> 4 * step
        )
        after = ((not_dark << 7 * step) & (not_dark << 8 * step) & (not_dark << 9 * step)) & (
            not_dark << 10 * step
        )
        qualifying = pattern & (before | after)
        # segno scans each line left to right and resumes 7 modules after a pattern it counts, so a
        # pattern starting 4 or 6 modules after a counted one (the only overlaps possible) is never
        # seen. Resolve that chain rule to its fixed point; usually the first pass changes nothing.
        seen = pattern
        while True:
            counted = seen & qualifying
            next_seen = pattern & ~((counted >> 4 * step) | (counted >> 6 * step))
            if next_seen == seen:
                break
            seen = next_seen
        score += 40 * counted.bit_count()

    stride = layout.stride
    blocks = (dark & (dark << 1) & (dark << stride) & (dark << (stride + 1))) | (
        light & (light << 1) & (light << stride) & (light << (stride + 1))
    )
    score += 3 * blocks.bit_count()  # N2: every 2x2 block of one colour.

    dark_ratio = float(dark.bit_count()) / (layout.size**2)
    score += 10 * int(abs(dark_ratio * 100 - 50) / 5)  # N4
    return score


def _encode_matrix(payload: str) -> tuple[int, _Layout, int]:
    unmasked, layout = _unmasked_matrix(payload)
    best_mask, best_score = 0, -1
    for mask, flips in enumerate(layout.mask_bits):
        score = _penalty(unmasked ^ flips, layout)
        if best_score < 0 or score < best_score:  # Ties go to the lowest mask number.
            best_mask, best_score = mask, score
    final = unmasked ^ layout.mask_bits[best_mask] | layout.finishing_bits[best_mask]
    return final, layout, best_mask


def _symbol_rows(matrix: int, layout: _Layout) -> list[str]:
    """The symbol's rows as strings of "0" (light) and "1" (dark), without quiet zone."""
    cells = format(matrix, f"0{layout.bit_length}b")
    first = _PAD * layout.stride + _PAD
    return [
        cells[first + row * layout.stride : first + row * layout.stride + layout.size]
        for row in range(layout.size)
    ]


def qr_matrix(payload: str) -> tuple[tuple[bool, ...], ...]:
    """The QR symbol's modules (True = dark), without quiet zone. For tests and other renderers."""
    matrix, layout, _mask = _encode_matrix(payload)
    return tuple(tuple(module == "1" for module in row) for row in _symbol_rows(matrix, layout))
