"""Tiny stdlib image inspection shared by chat (descriptions) and embeddings (colour words).

Only PNG data URIs are decoded (8/16-bit, colour types 0/2/3/4/6, non-interlaced, filter
types 0-4). Anything else -- JPEG/GIF/WebP bytes or http(s) URLs, which are never fetched --
is described by its kind, size and a digest token so embeddings stay deterministic.
"""

from __future__ import annotations

import base64
import binascii
import colorsys
import hashlib
import re
import struct
import zlib
from collections import Counter
from dataclasses import dataclass, field

_PNG_SIG = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_RAW_BUDGET = 1_500_000  # bytes of unfiltered scanlines decoded at most (top band of huge images)
_MAX_SAMPLES = 4096
_URL_NOISE = {"http", "https", "www", "com", "org", "net", "png", "jpg", "jpeg", "gif", "webp", "images", "img"}


class ImageError(ValueError):
    """The image part is malformed (bad data URI / base64)."""


@dataclass
class ImageInfo:
    """What the emulator could tell about one image part."""

    url: str
    kind: str
    size: int = 0
    width: int | None = None
    height: int | None = None
    colour: str | None = None
    mean_rgb: tuple[int, int, int] | None = None
    digest: str = ""
    words: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """A one-sentence, deterministic description used in chat replies."""
        if self.kind == "url":
            topic = " ".join(self.words) or "an unknown subject"
            return f"The image at {self.url} appears to show {topic}."
        if self.colour is not None:
            dims = f" ({self.width}x{self.height} pixels)" if self.width else ""
            return f"The image is mostly {self.colour}{dims}."
        return f"The image is a {self.kind.upper()} picture of {self.size} bytes."

    def embedding_words(self) -> list[str]:
        """Words embedded for this image: colour name (or digest token) plus generic words."""
        base = ["image", "picture"]
        if self.colour is not None:
            return [self.colour, self.colour, *base]
        return [f"img{self.digest[:16]}", *self.words, *base]


def colour_name(r: float, g: float, b: float) -> str:
    """Name an sRGB colour (0-255 channels) with a coarse, human-friendly palette."""
    h, s, v = colorsys.rgb_to_hsv(r / 255.0, g / 255.0, b / 255.0)
    if v < 0.18:
        return "black"
    if s < 0.18:
        return "white" if v > 0.85 else "gray"
    deg = h * 360.0
    if deg < 15 or deg >= 345:
        name = "red"
    elif deg < 45:
        name = "orange"
    elif deg < 70:
        name = "yellow"
    elif deg < 170:
        name = "green"
    elif deg < 200:
        name = "cyan"
    elif deg < 260:
        name = "blue"
    elif deg < 300:
        name = "purple"
    else:
        name = "pink"
    if name == "orange" and v < 0.6:
        return "brown"
    return name


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(ftype: int, line: bytes, prev: bytes, bpp: int) -> bytes:
    if ftype == 0:
        return line
    if ftype == 2:
        return bytes((x + y) & 0xFF for x, y in zip(line, prev, strict=True))
    out = bytearray(line)
    n = len(out)
    if ftype == 1:
        for i in range(bpp, n):
            out[i] = (out[i] + out[i - bpp]) & 0xFF
    elif ftype == 3:
        for i in range(n):
            left = out[i - bpp] if i >= bpp else 0
            out[i] = (out[i] + ((left + prev[i]) >> 1)) & 0xFF
    elif ftype == 4:
        for i in range(n):
            left = out[i - bpp] if i >= bpp else 0
            up_left = prev[i - bpp] if i >= bpp else 0
            out[i] = (out[i] + _paeth(left, prev[i], up_left)) & 0xFF
    else:
        raise ImageError(f"invalid PNG filter type {ftype}")
    return bytes(out)


def decode_png_samples(data: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """Decode a PNG and return ``(width, height, sampled RGBA pixels)``.

    Raises :class:`ImageError` for malformed or unsupported PNGs.
    """
    if not data.startswith(_PNG_SIG):
        raise ImageError("not a PNG")
    pos, idat, palette = 8, bytearray(), b""
    width = height = depth = ctype = interlace = -1
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        ctype_name = data[pos + 4 : pos + 8]
        chunk = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if ctype_name == b"IHDR":
            width, height, depth, ctype, _comp, _filt, interlace = struct.unpack(">IIBBBBB", chunk)
        elif ctype_name == b"PLTE":
            palette = chunk
        elif ctype_name == b"IDAT":
            idat += chunk
        elif ctype_name == b"IEND":
            break
    if width <= 0 or height <= 0 or ctype not in _CHANNELS or depth not in (8, 16) or interlace != 0:
        raise ImageError("unsupported PNG variant")
    sample_bytes = depth // 8
    bpp = _CHANNELS[ctype] * sample_bytes
    stride = width * bpp
    rows = max(1, min(height, _RAW_BUDGET // (stride + 1)))
    try:
        raw = zlib.decompressobj().decompress(bytes(idat), rows * (stride + 1))
    except zlib.error as exc:
        raise ImageError(f"corrupt PNG data: {exc}") from exc
    rows = min(rows, len(raw) // (stride + 1))
    if rows == 0:
        raise ImageError("truncated PNG data")
    total = rows * width
    step = max(1, int((total / _MAX_SAMPLES) ** 0.5))
    samples: list[tuple[int, int, int, int]] = []
    prev = bytes(stride)
    for y in range(rows):
        off = y * (stride + 1)
        line = _unfilter(raw[off], raw[off + 1 : off + 1 + stride], prev, bpp)
        prev = line
        if y % step:
            continue
        for x in range(0, width, step):
            px = line[x * bpp : (x + 1) * bpp : sample_bytes]
            if ctype == 0:
                samples.append((px[0], px[0], px[0], 255))
            elif ctype == 4:
                samples.append((px[0], px[0], px[0], px[1]))
            elif ctype == 2:
                samples.append((px[0], px[1], px[2], 255))
            elif ctype == 6:
                samples.append((px[0], px[1], px[2], px[3]))
            else:
                idx = px[0] * 3
                rgb = palette[idx : idx + 3] if idx + 3 <= len(palette) else b"\0\0\0"
                samples.append((rgb[0], rgb[1], rgb[2], 255))
    return width, height, samples


def _detect_kind(data: bytes, mime: str) -> str:
    if data.startswith(_PNG_SIG):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return mime.rsplit("/", maxsplit=1)[-1] or "binary"


def _url_words(url: str) -> list[str]:
    words = re.findall(r"[A-Za-z]{3,}", url.split("?", maxsplit=1)[0])
    return [w.lower() for w in words if w.lower() not in _URL_NOISE][-6:]


def inspect_image_url(url: str) -> ImageInfo:
    """Inspect a chat ``image_url`` value (data URI or http(s) URL)."""
    if not url.startswith("data:"):
        if not re.match(r"^https?://", url):
            raise ImageError(f"Invalid image URL: {url[:80]!r}")
        digest = hashlib.sha256(url.encode()).hexdigest()
        return ImageInfo(url=url, kind="url", digest=digest, words=_url_words(url))
    header, sep, payload = url.partition(",")
    if not sep or ";base64" not in header:
        raise ImageError("image data URI must be base64 encoded")
    try:
        data = base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise ImageError(f"invalid base64 image data: {exc}") from exc
    if not data:
        raise ImageError("empty image data")
    mime = header[5:].split(";")[0]
    info = ImageInfo(
        url=url[:64] + "...", kind=_detect_kind(data, mime), size=len(data), digest=hashlib.sha256(data).hexdigest()
    )
    if info.kind == "png":
        try:
            info.width, info.height, samples = decode_png_samples(data)
        except (ImageError, struct.error):
            return info
        opaque = [s for s in samples if s[3] >= 128]
        if not opaque:
            info.colour = "transparent"
            return info
        names = Counter(colour_name(r, g, b) for r, g, b, _ in opaque)
        info.colour = sorted(names.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        n = len(opaque)
        info.mean_rgb = (sum(s[0] for s in opaque) // n, sum(s[1] for s in opaque) // n, sum(s[2] for s in opaque) // n)
    return info


def make_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """Encode a solid-colour RGB PNG (handy for tests and demos)."""
    row = b"\x00" + bytes(rgb) * width
    raw = row * height

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return _PNG_SIG + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def png_data_uri(width: int, height: int, rgb: tuple[int, int, int]) -> str:
    """A ``data:image/png;base64,...`` URI of a solid-colour PNG."""
    return "data:image/png;base64," + base64.b64encode(make_png(width, height, rgb)).decode()
