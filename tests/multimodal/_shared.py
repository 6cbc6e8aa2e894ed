"""Shared constants and helpers of the multimodal embedding tests (issue #6).

Images are tiny generated PNGs (``tests/pngs.py``): the emulator decodes PNG data URIs and embeds an
image's dominant colour name, so a text query such as "a red picture" ranks the red image first.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import httpx2

from tests._http import request_json
from tests.pngs import COLOURS, solid_png

QWEN_VL = "stackit/Qwen/Qwen3-VL-Embedding-8B"
QWEN_VL_ID = "Qwen/Qwen3-VL-Embedding-8B"
E5 = "stackit/intfloat/e5-mistral-7b-instruct"
CHUTES_TEXT = "chutes/Qwen/Qwen3-Embedding-8B"
UNKNOWN = "stackit/acme/omni-embed-1"  # routes to STACKIT, unknown to the catalog

DOCUMENT_INSTRUCTION = "Represent the user's input."
QUERY_INSTRUCTION = "Retrieve images or text relevant to the user's query."
DIMS = 256  # Matryoshka prefix: small cassettes, same ranking
BAD_IMAGE_URL = "ftp://images.example.org/red.png"  # vLLM (and the emulator) accept only http(s)/data URLs

STACKIT_URL = "https://api.openai-compat.model-serving.eu01.onstackit.cloud/v1/embeddings"


def png(colour: str, size: int = 8) -> bytes:
    """A tiny solid PNG of one of ``tests.pngs.COLOURS``."""
    return solid_png(COLOURS[colour], size)


def data_uri(colour: str, size: int = 8) -> str:
    """The ``data:image/png;base64,...`` URI of :func:`png`."""
    return "data:image/png;base64," + base64.b64encode(png(colour, size)).decode()


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity (the emulator's vectors are L2-normalised, but do not rely on it)."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na = sum(x * x for x in a) ** 0.5
    nb = sum(y * y for y in b) ** 0.5
    return dot / (na * nb)


def ranking(query: Sequence[float], candidates: dict[str, Sequence[float]]) -> list[str]:
    """Candidate names, most similar to ``query`` first."""
    return sorted(candidates, key=lambda name: -cosine(query, candidates[name]))


def body_of(request: Any) -> dict[str, Any]:
    """The JSON body of a captured emulator request or an httpx2 request."""
    if isinstance(request, httpx2.Request):
        return request_json(request)
    return dict(request.body)


def user_parts(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The content parts of the single user message of a ``messages`` body."""
    users = [m for m in body["messages"] if m["role"] == "user"]
    assert len(users) == 1
    return list(users[0]["content"])
