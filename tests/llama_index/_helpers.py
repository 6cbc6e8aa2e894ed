"""Shared constants of the LlamaIndex adapter tests: model ids and tiny PNGs (HTTP mocks: ``tests/_http.py``)."""

from __future__ import annotations

import struct
import zlib

CHAT_MODELS = {
    "stackit": "stackit/openai/gpt-oss-120b",
    "chutes": "chutes/deepseek-ai/DeepSeek-V3.2-TEE",
}
REASONING_MODELS = {
    "stackit": "stackit/openai/gpt-oss-120b",
    "chutes": "chutes/Qwen/Qwen3-235B-A22B-Thinking-2507-TEE",
}
VISION_MODELS = {
    "stackit": "stackit/Qwen/Qwen3-VL-235B-A22B-Instruct-FP8",
    "chutes": "chutes/Qwen/Qwen3.6-27B-TEE",
}
EMBED_MODELS = {
    "stackit": "stackit/intfloat/e5-mistral-7b-instruct",
    "chutes": "chutes/Qwen/Qwen3-Embedding-8B",
}
IMAGE_EMBED_MODEL = "stackit/Qwen/Qwen3-VL-Embedding-8B"
PROVIDERS = ("stackit", "chutes")

RED = (220, 30, 30)
BLUE = (30, 60, 220)
GREEN = (30, 180, 60)


def make_png(rgb: tuple[int, int, int], size: int = 4) -> bytes:
    """A deterministic solid-colour RGB PNG (same bytes every run, so request bodies replay)."""
    raw = (b"\x00" + bytes(rgb) * size) * size

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
