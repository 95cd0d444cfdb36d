"""A tiny pure-Python PNG writer: deterministic images of any size, generated fast.

Rows are assembled with slice assignment (C speed) rather than per-pixel loops, and repeat
in bands of a few rows (which zlib compresses quickly), so a 1024x1024 image costs a few
milliseconds.
"""

from __future__ import annotations

import hashlib
import struct
import zlib

__all__ = ["png_size", "render_png"]

BAND = 8
"""Rows per band of identical rows."""


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _ramp(length: int, start: int, end: int) -> bytes:
    if length <= 1:
        return bytes([start])
    step = (end - start) / (length - 1)
    return bytes(int(start + step * i) & 0xFF for i in range(length))


def render_png(width: int, height: int, key: str) -> bytes:
    """An RGB PNG of ``width`` x ``height`` whose colours and pattern derive from ``key``."""
    if width < 1 or height < 1:
        raise ValueError("width and height must be positive")
    digest = hashlib.sha256(key.encode()).digest()
    r0, r1, g0, g1, b0, b1, shift = digest[:7]
    shift = 1 + shift % 7
    reds = _ramp(width, r0, r1) * 2
    blues = _ramp(width, b0, b1)
    greens = _ramp(height, g0, g1)
    row = bytearray(3 * width)
    row[2::3] = blues
    out = bytearray()
    stride = 3 * width
    for top in range(0, height, BAND):
        # Rows repeat within a band of BAND rows, so zlib finds long matches: most of the
        # cost of a large image was compressing rows that all differed.
        offset = (top * shift) % width
        row[0::3] = reds[offset : offset + width]
        row[1::3] = bytes((greens[top],)) * width
        out += (b"\x00" + row) * min(BAND, height - top)
    assert len(out) == height * (stride + 1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(out), 6))
        + _chunk(b"IEND", b"")
    )


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height read back from a PNG's IHDR chunk."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)
