"""The arithmetic of a QR symbol at level M: capacity tables, GF(2^8) and Reed-Solomon,
the BCH-coded format and version information, mask conditions."""

from __future__ import annotations

import functools

# Error-correction codewords per block and number of blocks at level M, by version (index 0 unused).
# ISO/IEC 18004:2015 Table 9; the test suite checks both against segno's tables.
_EC_CODEWORDS_PER_BLOCK_M = (
    0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
    26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
)  # fmt: skip
_EC_BLOCKS_M = (
    0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
    17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
)  # fmt: skip

_MODE_BYTE = 0b0100
_EC_LEVEL_M_FORMAT_BITS = 0b00  # Format information encodes M as 00 (ISO/IEC 18004 Table 12).
_PAD_CODEWORDS = (0xEC, 0x11)


def _mask_condition(mask: int, row: int, col: int) -> bool:
    if mask == 0:
        return (row + col) % 2 == 0
    if mask == 1:
        return row % 2 == 0
    if mask == 2:
        return col % 3 == 0
    if mask == 3:
        return (row + col) % 3 == 0
    if mask == 4:
        return (row // 2 + col // 3) % 2 == 0
    if mask == 5:
        return (row * col) % 2 + (row * col) % 3 == 0
    if mask == 6:
        return ((row * col) % 2 + (row * col) % 3) % 2 == 0
    return ((row + col) % 2 + (row * col) % 3) % 2 == 0


# --- Galois field GF(2^8) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1 ------------------------

_GF_EXP = [0] * 512
_GF_LOG = [0] * 256
_value = 1
for _exponent in range(255):
    _GF_EXP[_exponent] = _value
    _GF_LOG[_value] = _exponent
    _value <<= 1
    if _value & 0x100:
        _value ^= 0x11D
for _exponent in range(255, 512):
    _GF_EXP[_exponent] = _GF_EXP[_exponent - 255]
del _value, _exponent


def _gf_multiply(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return _GF_EXP[_GF_LOG[a] + _GF_LOG[b]]


@functools.cache
def _reed_solomon_table(degree: int) -> tuple[int, ...]:
    """For each factor 0..255, the generator's non-leading coefficients times it, as one integer.

    With it, each data byte costs one table lookup, a shift and an XOR on a small integer
    instead of ``degree`` field multiplications.
    """
    generator = [1]  # Coefficients, highest degree first: prod(x - a^i) for i in 0..degree-1.
    for i in range(degree):
        root = _GF_EXP[i]
        next_generator = [*generator, 0]
        for j, coefficient in enumerate(generator):
            next_generator[j + 1] ^= _gf_multiply(coefficient, root)
        generator = next_generator
    divisor = generator[1:]
    return tuple(
        int.from_bytes(bytes(_gf_multiply(coefficient, factor) for coefficient in divisor), "big")
        for factor in range(256)
    )


def _reed_solomon_remainder(data: bytes, degree: int) -> bytes:
    table = _reed_solomon_table(degree)
    top_shift = 8 * (degree - 1)
    full = (1 << (8 * degree)) - 1
    remainder = 0
    for byte in data:
        remainder = ((remainder << 8) & full) ^ table[byte ^ (remainder >> top_shift)]
    return remainder.to_bytes(degree, "big")


# --- Format and version information (BCH codes) --------------------------------------------------


def _format_bits(mask: int) -> int:
    data = (_EC_LEVEL_M_FORMAT_BITS << 3) | mask
    remainder = data
    for _ in range(10):
        remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537)
    return ((data << 10) | remainder) ^ 0x5412


def _version_bits(version: int) -> int:
    remainder = version
    for _ in range(12):
        remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25)
    return (version << 12) | remainder


def _alignment_positions(version: int) -> list[int]:
    if version == 1:
        return []
    count = version // 7 + 2
    step = (version * 8 + count * 3 + 5) // (count * 4 - 4) * 2
    size = version * 4 + 17
    return [6] + [size - 7 - step * i for i in reversed(range(count - 1))]


def _data_codewords(version: int) -> int:
    return (
        _raw_data_modules(version) // 8 - _EC_CODEWORDS_PER_BLOCK_M[version] * _EC_BLOCKS_M[version]
    )


def _raw_data_modules(version: int) -> int:
    """Modules left for codewords and remainder bits once the function patterns are drawn."""
    modules = (16 * version + 128) * version + 64
    if version >= 2:
        alignment_count = version // 7 + 2
        modules -= (25 * alignment_count - 10) * alignment_count - 55
        if version >= 7:
            modules -= 36
    return modules
