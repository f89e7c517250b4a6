"""CRC16 of BR Codes: CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, xorout 0)."""

from __future__ import annotations

import binascii

__all__ = ["CRC_TAG", "crc16_ccitt_false", "crc16_hex"]

# ID 63 + LEN 04. The CRC covers the payload *including* these four characters; stopping before
# them is the classic generator bug.
CRC_TAG = "6304"


def crc16_ccitt_false(data: bytes) -> int:
    # crc_hqx is CRC-CCITT with a caller-chosen initial value; 0xFFFF makes it CCITT-FALSE. The
    # XMODEM variant (init 0) gives a different, wrong value for BR Codes.
    return binascii.crc_hqx(data, 0xFFFF)


def crc16_hex(payload_without_crc_including_6304: str) -> str:
    """The four upper-case hex digits that end a BR Code whose text up to ``6304`` is given."""
    if not payload_without_crc_including_6304.endswith(CRC_TAG):
        raise ValueError("the CRC covers the payload up to and including the literal '6304'")
    return format(crc16_ccitt_false(payload_without_crc_including_6304.encode("ascii")), "04X")
