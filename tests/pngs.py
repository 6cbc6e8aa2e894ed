"""Tiny, deterministic PNG images for tests, cassettes and the demo (stdlib only)."""

from __future__ import annotations

import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def solid_png(rgb: tuple[int, int, int], size: int = 8) -> bytes:
    """A ``size`` x ``size`` PNG filled with one colour (8-bit RGB, filter type 0)."""
    row = b"\x00" + bytes(rgb) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(row * size, 9))
        + _chunk(b"IEND", b"")
    )


COLOURS = {"red": (220, 20, 30), "green": (20, 200, 40), "blue": (25, 40, 230), "yellow": (240, 220, 20)}
