"""Image inputs -> the URL string an ``image_url`` part carries.

Accepted: an ``http(s)`` URL (passed on as a URL; the provider fetches it), a ``data:`` URI, a file
path (``str`` or ``os.PathLike``), raw ``bytes``, a binary file object (e.g. ``BytesIO``), or a PIL
image (only if Pillow is installed; it is not a dependency). The MIME type is detected from the
bytes, never trusted from a file name. Unsupported formats and oversize images raise
:class:`InvalidInputError` before any request is sent.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import stat
from typing import Any

from stackit_chutes_core.errors import InvalidInputError

__all__ = ["DEFAULT_MAX_IMAGE_BYTES", "SUPPORTED_IMAGE_TYPES", "detect_mime", "to_image_url"]

DEFAULT_MAX_IMAGE_BYTES = 20 * 1024 * 1024
"""Largest image accepted (20 MiB before base64), the common limit of OpenAI-compatible servers."""

SUPPORTED_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/tiff")

ImageSource = Any
"""``str | os.PathLike | bytes | BinaryIO | PIL.Image.Image``."""


def detect_mime(data: bytes) -> str | None:
    """The image MIME type from magic bytes, or ``None`` if it is no supported image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"BM"):
        return "image/bmp"
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    return None


def _describe(source: Any) -> str:
    text = repr(source)
    return text if len(text) <= 80 else text[:77] + "..."


def _check_size(size: int, max_bytes: int, source: Any, *, more: bool = False) -> None:
    """Refuse more than ``max_bytes``; ``more``: reading stopped at ``size``, the source is larger still."""
    if size > max_bytes:
        amount = f"more than {max_bytes:,} bytes" if more else f"{size:,} bytes"
        raise InvalidInputError(
            f"Image {_describe(source)} is {amount}; the limit is {max_bytes:,} bytes. "
            "Downscale or recompress it, or raise max_image_bytes."
        )


def _bytes_to_data_url(data: bytes, source: Any, max_bytes: int) -> str:
    if not data:
        raise InvalidInputError(f"Image {_describe(source)} is empty.")
    _check_size(len(data), max_bytes, source)
    mime = detect_mime(data)
    if mime is None:
        raise InvalidInputError(
            f"Image {_describe(source)} is not a supported image format "
            f"(supported: {', '.join(t.split('/')[1] for t in SUPPORTED_IMAGE_TYPES)})."
        )
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _check_data_url(url: str, max_bytes: int) -> str:
    header, comma, payload = url.partition(",")
    if not comma or ";base64" not in header:
        raise InvalidInputError("A data URI image must look like 'data:image/png;base64,<data>'.")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInputError(f"The data URI image is not valid base64: {exc}") from exc
    _check_size(len(data), max_bytes, url)
    mime = detect_mime(data)
    if mime is None:
        raise InvalidInputError(
            f"The data URI holds no supported image (supported: {', '.join(SUPPORTED_IMAGE_TYPES)})."
        )
    declared = header[len("data:") :].split(";")[0].strip().lower()
    if declared == mime:
        return url
    # Mislabelled (e.g. a PNG sent as image/jpeg): send the type the bytes really have.
    return f"data:{mime};base64,{payload}"


def to_image_url(source: ImageSource, *, max_bytes: int = DEFAULT_MAX_IMAGE_BYTES) -> str:
    """Normalise any supported image source to an ``http(s)`` URL or a ``data:`` URI."""
    if isinstance(source, str):
        stripped = source.strip()
        if stripped.startswith(("http://", "https://")):
            return stripped
        if stripped.startswith("data:"):
            return _check_data_url(stripped, max_bytes)
        return _read_path(stripped, max_bytes)
    if isinstance(source, os.PathLike):
        return _read_path(os.fspath(source), max_bytes)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _bytes_to_data_url(bytes(source), source, max_bytes)
    if hasattr(source, "read"):
        position = _tell(source)
        data = source.read(max_bytes + 1)  # one byte over the limit tells "too large" without reading on
        if position is not None:
            source.seek(position)  # leave the stream where the caller had it
        if isinstance(data, str):
            raise InvalidInputError("Image file objects must be opened in binary mode ('rb').")
        _check_size(len(data), max_bytes, source, more=len(data) > max_bytes)
        return _bytes_to_data_url(bytes(data), source, max_bytes)
    if hasattr(source, "save") and hasattr(source, "mode"):  # a PIL image, without importing PIL
        return _bytes_to_data_url(_encode_pil(source, max_bytes), source, max_bytes)
    raise InvalidInputError(
        f"Unsupported image source {_describe(source)}: pass a file path, http(s) URL, data URI, "
        "bytes, a binary file object or a PIL image."
    )


def _tell(source: Any) -> int | None:
    """The stream position if the stream can seek back to it, else ``None`` (pipes, sockets)."""
    if not hasattr(source, "seek") or not hasattr(source, "tell"):
        return None
    try:
        position: int = source.tell()
    except (OSError, ValueError):  # io.UnsupportedOperation is both
        return None
    return position


# Modes Pillow can write as PNG; others (CMYK, YCbCr, HSV, I, F, ...) are converted to RGB(A) first.
_PNG_MODES = frozenset({"1", "L", "LA", "P", "RGB", "RGBA", "I;16"})


class _EncodedTooLarge(Exception):
    """Raised from inside PIL's writer: stops the encoder once the limit is passed."""


class _CappedBuffer(io.BytesIO):
    def __init__(self, max_bytes: int) -> None:
        super().__init__()
        self._max_bytes = max_bytes

    def write(self, data: Any) -> int:
        if self.tell() + len(data) > self._max_bytes:
            raise _EncodedTooLarge
        return super().write(data)


def _encode_pil(image: Any, max_bytes: int) -> bytes:
    """Encode a PIL image: JPEG-decoded images stay JPEG (quality 95; PNG would be 5-10x larger), else PNG.

    The encoder writes into a buffer that refuses to grow past ``max_bytes``, so an oversize image
    is refused as soon as its encoding passes the limit, never encoded in full first.
    """
    buffer = _CappedBuffer(max_bytes)
    try:
        if str(getattr(image, "format", None) or "").upper() == "JPEG" and image.mode in ("L", "RGB", "CMYK"):
            image.save(buffer, format="JPEG", quality=95)
        else:
            if image.mode not in _PNG_MODES and hasattr(image, "convert"):
                image = image.convert("RGBA" if "A" in str(image.mode) else "RGB")
            image.save(buffer, format="PNG")
    except _EncodedTooLarge:
        size = getattr(image, "size", None)
        pixels = f" ({size[0]}x{size[1]} pixels)" if isinstance(size, tuple) and len(size) == 2 else ""
        raise InvalidInputError(
            f"The PIL image {_describe(image)}{pixels} encodes to more than {max_bytes:,} bytes, the limit. "
            "Downscale it (image.thumbnail(...)) or raise max_image_bytes."
        ) from None
    except (OSError, ValueError, KeyError) as exc:
        raise InvalidInputError(f"The PIL image {_describe(image)} could not be encoded: {exc}") from exc
    return buffer.getvalue()


def _read_path(path: str | os.PathLike[str], max_bytes: int) -> str:
    """Read an image file: regular files only (never a directory, device or FIFO), at most ``max_bytes``."""
    name = os.fspath(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise InvalidInputError(
            f"Image {name!r} cannot be read ({exc.strerror or exc}); pass an existing file "
            "path, an http(s) URL or a data URI."
        ) from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file (a device, FIFO or socket)"
            raise InvalidInputError(f"Image path {name!r} is {kind}; pass the path of an image file.")
        _check_size(info.st_size, max_bytes, name)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        data = handle.read(max_bytes + 1)  # bounded even if the file grows meanwhile
    _check_size(len(data), max_bytes, name, more=True)
    return _bytes_to_data_url(data, name, max_bytes)
