"""Where every module of a symbol goes, computed once per version."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter

from .codes import (
    _alignment_positions,
    _data_codewords,
    _format_bits,
    _mask_condition,
    _raw_data_modules,
    _version_bits,
)

_PAD = (
    4  # Light cells around and between rows: N3's four-module light windows never leave the buffer.
)


@dataclass(frozen=True)
class _Layout:
    """Everything about a version's symbol that does not depend on the data.

    A matrix is one integer with a bit per cell (1 = dark) over a padded row-major buffer: every row
    is prefixed by ``_PAD`` padding cells and ``_PAD`` padding rows sit above and below the symbol.
    Cell ``k`` of the buffer is bit ``bit_length - 1 - k``, so ``x << 1`` aligns each cell with its
    right-hand neighbour and ``x << stride`` with the one below. Padding is neither dark nor light
    for the run and block rules, and counts as light (the quiet zone) for the finder-like rule.
    """

    version: int
    size: int
    stride: int
    bit_length: int
    data_codewords: int
    raw_data_modules: int
    # Buffer cell -> index into (bit stream + b"01"): data cells pick their bit, every other cell a
    # constant. Format and version areas and the dark module read as light here, which is how segno
    # sees the symbol while it compares masks.
    gather: Callable[[bytes], tuple[int, ...]]
    mask_bits: tuple[int, ...]  # Per mask: the data cells it flips.
    finishing_bits: tuple[int, ...]  # Per mask: dark format cells, version cells and dark module.
    symbol_cells: int  # Every real module.
    all_cells: int  # Every cell of the buffer, padding included.


@functools.cache
def _layout(version: int) -> _Layout:
    size = version * 4 + 17
    is_function = [[False] * size for _ in range(size)]
    value = [[0] * size for _ in range(size)]

    def put(row: int, col: int, dark: bool) -> None:
        is_function[row][col] = True
        value[row][col] = 1 if dark else 0

    for index in range(size):  # Timing patterns
        put(6, index, index % 2 == 0)
        put(index, 6, index % 2 == 0)
    for center_row, center_col in ((3, 3), (3, size - 4), (size - 4, 3)):  # Finders + separators
        for dy in range(-4, 5):
            for dx in range(-4, 5):
                row, col = center_row + dy, center_col + dx
                if 0 <= row < size and 0 <= col < size:
                    put(row, col, max(abs(dx), abs(dy)) not in (2, 4))
    positions = _alignment_positions(version)
    last = len(positions) - 1
    for i, center_row in enumerate(positions):
        for j, center_col in enumerate(positions):
            if (i, j) in ((0, 0), (0, last), (last, 0)):
                continue  # Those corners hold finder patterns.
            for dy in range(-2, 3):
                for dx in range(-2, 3):
                    put(center_row + dy, center_col + dx, max(abs(dx), abs(dy)) != 1)

    # (row, col, bit of the 15-bit format word), both copies (ISO/IEC 18004 7.9.1).
    format_cells = [(bit, 8, bit) for bit in range(6)]
    format_cells += [(7, 8, 6), (8, 8, 7), (8, 7, 8)]
    format_cells += [(8, 14 - bit, bit) for bit in range(9, 15)]
    format_cells += [(8, size - 1 - bit, bit) for bit in range(8)]
    format_cells += [(size - 15 + bit, 8, bit) for bit in range(8, 15)]
    always_dark: list[tuple[int, int]] = [(size - 8, 8)]  # The dark module.
    reserved = [(row, col) for row, col, _bit in format_cells] + always_dark
    if version >= 7:
        version_word = _version_bits(version)
        for bit in range(18):
            near, far = size - 11 + bit % 3, bit // 3
            reserved += [(near, far), (far, near)]
            if (version_word >> bit) & 1:
                always_dark += [(near, far), (far, near)]
    for row, col in reserved:
        put(row, col, False)

    # Codeword placement: two-module columns from the right, alternately upwards and downwards,
    # skipping the vertical timing pattern (ISO/IEC 18004 7.7.3).
    placement: list[tuple[int, int]] = []
    right = size - 1
    while right >= 1:
        if right == 6:
            right = 5
        upwards = ((right + 1) & 2) == 0
        for vertical in range(size):
            row = size - 1 - vertical if upwards else vertical
            for col in (right, right - 1):
                if not is_function[row][col]:
                    placement.append((row, col))
        right -= 2
    raw_data_modules = _raw_data_modules(version)
    assert len(placement) == raw_data_modules

    stride = size + _PAD
    rows = size + 2 * _PAD
    bit_length = rows * stride

    def cell_bit(row: int, col: int) -> int:
        return 1 << (bit_length - 1 - ((row + _PAD) * stride + _PAD + col))

    light_constant, dark_constant = raw_data_modules, raw_data_modules + 1
    gather_indices = [light_constant] * bit_length
    symbol_cells = 0
    for row in range(size):
        for col in range(size):
            symbol_cells |= cell_bit(row, col)
            if is_function[row][col] and value[row][col]:
                gather_indices[(row + _PAD) * stride + _PAD + col] = dark_constant
    for bit_number, (row, col) in enumerate(placement):
        gather_indices[(row + _PAD) * stride + _PAD + col] = bit_number

    mask_bits = []
    for mask in range(8):
        flips = 0
        for row, col in placement:
            if _mask_condition(mask, row, col):
                flips |= cell_bit(row, col)
        mask_bits.append(flips)

    fixed_dark = 0
    for row, col in always_dark:
        fixed_dark |= cell_bit(row, col)
    finishing_bits = []
    for mask in range(8):
        format_word = _format_bits(mask)
        dark = fixed_dark
        for row, col, format_bit in format_cells:
            if (format_word >> format_bit) & 1:
                dark |= cell_bit(row, col)
        finishing_bits.append(dark)

    return _Layout(
        version=version,
        size=size,
        stride=stride,
        bit_length=bit_length,
        data_codewords=_data_codewords(version),
        raw_data_modules=raw_data_modules,
        gather=itemgetter(*gather_indices),
        mask_bits=tuple(mask_bits),
        finishing_bits=tuple(finishing_bits),
        symbol_cells=symbol_cells,
        all_cells=(1 << bit_length) - 1,
    )
