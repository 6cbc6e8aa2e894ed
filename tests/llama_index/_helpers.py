"""Shared helpers of the LlamaIndex adapter tests: model ids, tiny PNGs, an offline mock server."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx2

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

HOSTS = {
    "stackit": "api.openai-compat.model-serving.eu01.onstackit.cloud",
    "chutes": "llm.chutes.ai",
    "chutes_embeddings": "embed.chutes.ai",
}

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


# -- an offline fake server for request-shape unit tests ------------------------------------


def completion(
    content: str | None = "ok",
    *,
    usage: Mapping[str, int] | None = None,
    finish_reason: str = "stop",
    **message: Any,
) -> dict[str, Any]:
    """A ``chat.completion`` body."""
    return {
        "id": "chatcmpl-unit",
        "object": "chat.completion",
        "model": "unit-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, **message},
                "finish_reason": finish_reason,
            }
        ],
        "usage": dict(usage or {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}),
    }


def chunk_of(delta: Mapping[str, Any] | None = None, finish_reason: str | None = None, **extra: Any) -> dict[str, Any]:
    """One ``chat.completion.chunk``."""
    choices = [] if delta is None else [{"index": 0, "delta": dict(delta), "finish_reason": finish_reason}]
    return {
        "id": "chatcmpl-unit",
        "object": "chat.completion.chunk",
        "model": "unit-model",
        "choices": choices,
        **extra,
    }


def sse(chunks: Iterable[Mapping[str, Any]]) -> bytes:
    """An SSE body ending in ``[DONE]``."""
    return "".join([*(f"data: {json.dumps(c)}\n\n" for c in chunks), "data: [DONE]\n\n"]).encode()


class FakeServer:
    """Records requests and answers them with ``responder(request_body)``; no network involved."""

    def __init__(self, responder: Callable[[dict[str, Any]], Any]) -> None:
        self.responder = responder
        self.requests: list[httpx2.Request] = []

    def _handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        answer = self.responder(json.loads(request.content or b"{}"))
        if isinstance(answer, httpx2.Response):
            return answer
        if isinstance(answer, bytes):
            return httpx2.Response(200, content=answer, headers={"content-type": "text/event-stream"})
        return httpx2.Response(200, json=answer)

    async def _ahandle(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        return self._handle(request)

    def clients(self) -> dict[str, Any]:
        """``http_client`` / ``async_http_client`` keyword arguments for the adapters."""
        return {
            "http_client": httpx2.Client(transport=httpx2.MockTransport(self._handle)),
            "async_http_client": httpx2.AsyncClient(transport=httpx2.MockTransport(self._ahandle)),
        }

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """Every request body, parsed."""
        return [json.loads(r.content) for r in self.requests]
