"""QR Code images of BR Codes, rendered fast enough for the charge-creation hot path.

Why a QR encoder of our own: qrcode + PIL costs ~18 ms per BR Code and segno ~14 ms, almost all of
it in the per-module Python loops that evaluate the eight data masks. This package builds the same
symbol (ISO/IEC 18004, byte mode, error correction level M, the mask with the lowest penalty) with
whole-matrix operations on big integers (one bit per module), then writes a 1-bit greyscale PNG
with zlib: ~0.9 ms instead.

The test suite holds it to three independent references: the matrix equals, module for module,
what qrcode builds for the same version and mask; the penalty of every mask equals segno's
evaluation of the same matrix, so the mask choice is segno's; and zxing-cpp reads every PNG back
to the exact payload. (segno's own symbols differ slightly: it appends a spare zero byte when the
data ends on a byte boundary, which the standard does not ask for.)

Only what a BR Code needs is implemented: QR Code model 2 (no Micro QR), level M, byte mode. Byte
mode is always correct; the alphanumeric mode could only help an all-upper-case payload, and ours
always carry the lower-case GUI ``br.gov.bcb.pix``.
"""

from .png import render_data_uri, render_png
from .symbol import qr_matrix

__all__ = ["qr_matrix", "render_data_uri", "render_png"]
