"""Image inputs -> ``image_url`` strings (``stackit_chutes_core._images``; providers.md §1.8 data URLs)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from stackit_chutes_core import ConfigurationError, InvalidInputError, to_image_url
from stackit_chutes_core._images import detect_mime

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
BMP = b"BM" + b"\x00" * 60
TIFF_LE = b"II*\x00" + b"\x00" * 20
TIFF_BE = b"MM\x00*" + b"\x00" * 20


def data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (GIF, "image/gif"),
        (WEBP, "image/webp"),
        (BMP, "image/bmp"),
        (TIFF_LE, "image/tiff"),
        (TIFF_BE, "image/tiff"),
    ],
)
def test_mime_from_magic_bytes(data: bytes, mime: str) -> None:
    assert detect_mime(data) == mime
    assert to_image_url(data) == data_uri(mime, data)


@pytest.mark.parametrize(
    "data", [b"%PDF-1.7\n", b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"RIFF\x00\x00\x00\x00WAVE", b"hello"]
)
def test_unsupported_formats_are_rejected(data: bytes) -> None:
    assert detect_mime(data) is None
    with pytest.raises(InvalidInputError, match="not a supported image"):
        to_image_url(data)


def test_invalid_input_is_a_configuration_error() -> None:
    # Raised locally (before any request), in the ConfigurationError family.
    assert issubclass(InvalidInputError, ConfigurationError)


def test_path_str_and_pathlike(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(PNG)
    assert to_image_url(str(path)) == data_uri("image/png", PNG)
    assert to_image_url(path) == data_uri("image/png", PNG)


def test_mime_comes_from_bytes_not_file_name(tmp_path: Path) -> None:
    path = tmp_path / "really-a-png.jpg"
    path.write_bytes(PNG)
    assert to_image_url(path).startswith("data:image/png;base64,")


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot be read"):
        to_image_url(tmp_path / "nope.png")
    with pytest.raises(InvalidInputError):
        to_image_url("not/a/file.png")


def test_unsupported_file(tmp_path: Path) -> None:
    path = tmp_path / "doc.png"
    path.write_bytes(b"%PDF-1.7 not an image")
    with pytest.raises(InvalidInputError):
        to_image_url(path)


def test_empty_bytes() -> None:
    with pytest.raises(InvalidInputError, match="empty"):
        to_image_url(b"")


def test_bytearray_and_memoryview() -> None:
    assert to_image_url(bytearray(JPEG)) == data_uri("image/jpeg", JPEG)
    assert to_image_url(memoryview(GIF)) == data_uri("image/gif", GIF)


def test_bytesio_position_restored() -> None:
    stream = io.BytesIO(PNG)
    assert to_image_url(stream) == data_uri("image/png", PNG)
    assert stream.tell() == 0
    # Because the position is restored, the same object can be used again.
    assert to_image_url(stream) == data_uri("image/png", PNG)


def test_binary_file_object(tmp_path: Path) -> None:
    path = tmp_path / "a.webp"
    path.write_bytes(WEBP)
    with path.open("rb") as handle:
        assert to_image_url(handle) == data_uri("image/webp", WEBP)
        assert handle.tell() == 0


def test_text_mode_file_object_rejected() -> None:
    with pytest.raises(InvalidInputError, match="binary mode"):
        to_image_url(io.StringIO("GIF89a"))


@pytest.mark.parametrize(
    "url",
    ["https://example.org/cat.png", "http://127.0.0.1:8000/img?id=1&size=2", "https://example.org/no-extension"],
)
def test_http_urls_pass_through(url: str) -> None:
    assert to_image_url(url) == url
    assert to_image_url(f"  {url}\n") == url


def test_valid_data_uri_unchanged() -> None:
    uri = data_uri("image/png", PNG)
    assert to_image_url(uri) == uri


def test_mislabelled_data_uri_is_corrected() -> None:
    payload = base64.b64encode(PNG).decode()
    assert to_image_url(f"data:image/jpeg;base64,{payload}") == f"data:image/png;base64,{payload}"
    assert to_image_url(f"data:application/octet-stream;base64,{payload}") == f"data:image/png;base64,{payload}"


@pytest.mark.parametrize(
    "uri",
    [
        "data:image/png;base64,!!!not-base64!!!",
        "data:image/svg+xml,<svg/>",  # not base64
        "data:image/png;base64",  # no payload separator
        data_uri("image/png", b"%PDF-1.7"),  # valid base64, not an image
    ],
)
def test_invalid_data_uris_are_rejected(uri: str) -> None:
    with pytest.raises(InvalidInputError):
        to_image_url(uri)


def test_oversize_images_are_rejected(tmp_path: Path) -> None:
    big = PNG + b"\x00" * 100
    with pytest.raises(InvalidInputError, match="limit"):
        to_image_url(big, max_bytes=50)
    path = tmp_path / "big.png"
    path.write_bytes(big)
    with pytest.raises(InvalidInputError, match="limit"):
        to_image_url(path, max_bytes=50)
    with pytest.raises(InvalidInputError, match="limit"):
        to_image_url(io.BytesIO(big), max_bytes=50)
    with pytest.raises(InvalidInputError, match="limit"):
        to_image_url(data_uri("image/png", big), max_bytes=50)
    # At the limit is fine.
    assert to_image_url(PNG, max_bytes=len(PNG)).startswith("data:image/png;base64,")


def test_default_limit_is_twenty_mib() -> None:
    too_big = PNG + b"\x00" * (20 * 1024 * 1024)
    with pytest.raises(InvalidInputError):
        to_image_url(too_big)


def test_unsupported_source_type() -> None:
    with pytest.raises(InvalidInputError, match="Unsupported image source"):
        to_image_url(12345)


def test_pil_like_object_without_importing_pil() -> None:
    class FakeImage:
        mode = "RGB"

        def save(self, buffer: io.BytesIO, format: str) -> None:  # PIL's signature
            assert format == "PNG"
            buffer.write(PNG)

    assert to_image_url(FakeImage()) == data_uri("image/png", PNG)
