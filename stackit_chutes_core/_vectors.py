"""Embedding vectors on the wire: ``encoding_format`` choice, base64 decoding, float fallback.

vLLM (STACKIT) answers ``encoding_format: "base64"`` with little-endian float32 bytes: a third of
the JSON and no float parsing. Decoding has no per-float Python work: ``numpy.frombuffer(...).tolist()``
when numpy is installed (imported on the first vector, not at import), else ``array.array('f')``.
A server that rejects base64 (a 400 naming ``encoding_format``) is remembered per base URL for the
rest of the process and asked for floats again; one that ignores it (lists in the answer) is read
as it is.
"""

from __future__ import annotations

import array
import binascii
import sys
import threading
from typing import Any, Literal

from stackit_chutes_core._transport import apost_json, invalid_response, post_json
from stackit_chutes_core.errors import BadRequestError
from stackit_chutes_core.routing import Endpoint

__all__ = [
    "apost_vectors",
    "decode_vector",
    "encoding_for",
    "forget_rejections",
    "is_encoding_rejection",
    "note_rejection",
    "post_vectors",
]

Encoding = Literal["float", "base64"]

_lock = threading.Lock()
_rejected: set[str] = set()  # base URLs whose server refused base64


def encoding_for(endpoint: Endpoint) -> Encoding:
    """``"base64"`` where the provider supports it and the server has not refused it, else ``"float"``."""
    if endpoint.provider_config.embeddings_base64 and endpoint.base_url not in _rejected:
        return "base64"
    return "float"


def is_encoding_rejection(exc: BaseException) -> bool:
    """Whether ``exc`` is a 400 that names ``encoding_format`` (the server does not take base64)."""
    return isinstance(exc, BadRequestError) and "encoding_format" in f"{exc.message} {exc.body}"


def note_rejection(endpoint: Endpoint) -> None:
    """Ask this endpoint's server for floats from now on."""
    with _lock:
        _rejected.add(endpoint.base_url)


def forget_rejections() -> None:
    """Try base64 again everywhere (tests)."""
    with _lock:
        _rejected.clear()


def _falls_back(endpoint: Endpoint, body: dict[str, Any], exc: BadRequestError) -> bool:
    if body.get("encoding_format") != "base64" or not is_encoding_rejection(exc):
        return False
    note_rejection(endpoint)
    return True


def post_vectors(endpoint: Endpoint, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST an embeddings body; a server refusing base64 is asked again for floats."""
    try:
        return post_json(endpoint, path, body)
    except BadRequestError as exc:
        if not _falls_back(endpoint, body, exc):
            raise
    return post_json(endpoint, path, {**body, "encoding_format": "float"})


async def apost_vectors(endpoint: Endpoint, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """Async :func:`post_vectors`."""
    try:
        return await apost_json(endpoint, path, body)
    except BadRequestError as exc:
        if not _falls_back(endpoint, body, exc):
            raise
    return await apost_json(endpoint, path, {**body, "encoding_format": "float"})


_numpy: Any = None  # imported on the first base64 vector; False when not installed


def _floats(raw: bytes) -> list[float]:
    """Little-endian float32 bytes as Python floats (numpy's tolist is ~40 % faster than array's)."""
    global _numpy
    if _numpy is None:
        try:
            import numpy as found
        except ImportError:
            _numpy = False
        else:
            _numpy = found
    if _numpy is not False:
        values: list[float] = _numpy.frombuffer(raw, dtype="<f4").tolist()
        return values
    floats = array.array("f")
    floats.frombytes(raw)
    if sys.byteorder == "big":  # the wire is little-endian
        floats.byteswap()
    return floats.tolist()


def decode_vector(value: Any, endpoint: Endpoint) -> list[float]:
    """One ``embedding`` value as a list of floats: base64 float32 bytes or the JSON list itself."""
    if isinstance(value, list):  # floats (asked for, or base64 ignored): no per-element copy
        return value
    if isinstance(value, str):
        try:
            # Not validate=True: its regex pass doubles the cost; a corrupt string fails the size check.
            raw = binascii.a2b_base64(value)
        except (binascii.Error, ValueError) as exc:
            raise invalid_response(endpoint, f"an invalid base64 embedding ({exc})") from exc
        expected = len(value) * 3 // 4 - value.endswith("=") - value.endswith("==")
        if len(raw) != expected:  # characters outside the alphabet were skipped by the decoder
            raise invalid_response(endpoint, "an invalid base64 embedding (characters outside the alphabet)")
        if len(raw) % 4:
            raise invalid_response(
                endpoint, f"a base64 embedding of {len(raw)} bytes, not a whole number of float32 values"
            )
        return _floats(raw)
    raise invalid_response(endpoint, f"an embedding of type {type(value).__name__}, not a list of floats or base64")
