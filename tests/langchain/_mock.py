"""Offline HTTP for the LangChain adapter tests: an ``httpx2.MockTransport`` that records requests.

Models get ``http_client=`` / ``http_async_client=`` built here, so nothing leaves the process and
each test can assert on the exact URL, headers and JSON body the adapter made the core send.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2

STACKIT_HOST = "api.openai-compat.model-serving.eu01.onstackit.cloud"
CHUTES_HOST = "llm.chutes.ai"
CHUTES_EMBED_HOST = "embed.chutes.ai"

Reply = httpx2.Response | Callable[[httpx2.Request], httpx2.Response]


@dataclass
class Seen:
    """One captured request."""

    host: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class MockHTTP:
    """Answers requests from ``replies`` in order (the last one repeats) and records them."""

    replies: list[Reply]
    seen: list[Seen] = field(default_factory=list)

    def _handle(self, request: httpx2.Request) -> httpx2.Response:
        raw = request.read()
        body = json.loads(raw) if raw else None
        self.seen.append(Seen(request.url.host, request.url.path, dict(request.headers), body))
        reply = self.replies[min(len(self.seen) - 1, len(self.replies) - 1)]
        return reply(request) if callable(reply) else reply

    def clients(self) -> dict[str, Any]:
        """``http_client`` and ``http_async_client`` keyword arguments for a model."""
        transport = httpx2.MockTransport(self._handle)
        return {
            "http_client": httpx2.Client(transport=transport),
            "http_async_client": httpx2.AsyncClient(transport=transport),
        }

    @property
    def last(self) -> Seen:
        """The most recent request."""
        return self.seen[-1]


def json_reply(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> httpx2.Response:
    """A JSON answer."""
    return httpx2.Response(status, json=body, headers=dict(headers or {}))


def completion(
    content: str | None = "ok",
    *,
    model: str = "openai/gpt-oss-120b",
    finish_reason: str = "stop",
    usage: Mapping[str, Any] | None = None,
    **message_fields: Any,
) -> dict[str, Any]:
    """A ``chat.completion`` body."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, **message_fields},
                "finish_reason": finish_reason,
            }
        ],
        "usage": dict(usage or {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}),
    }


def chunk(
    delta: Mapping[str, Any] | None = None, *, finish_reason: str | None = None, model: str = "m"
) -> dict[str, Any]:
    """One ``chat.completion.chunk`` with a single choice."""
    return {
        "id": "chatcmpl-stream",
        "object": "chat.completion.chunk",
        "model": model,
        "choices": [{"index": 0, "delta": dict(delta or {}), "finish_reason": finish_reason}],
    }


def usage_chunk(prompt: int = 7, completion: int = 5, model: str = "m") -> dict[str, Any]:
    """The trailing usage-only chunk of ``stream_options.include_usage``."""
    return {
        "id": "chatcmpl-stream",
        "object": "chat.completion.chunk",
        "model": model,
        "choices": [],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
    }


def sse_reply(
    chunks: Iterable[Mapping[str, Any] | str], *, done: bool = True, raw_tail: str | None = None
) -> httpx2.Response:
    """A ``text/event-stream`` answer; ``raw_tail`` is appended without SSE framing."""
    parts = [f"data: {c if isinstance(c, str) else json.dumps(c)}\n\n" for c in chunks]
    if done:
        parts.append("data: [DONE]\n\n")
    if raw_tail is not None:
        parts.append(raw_tail)
    return httpx2.Response(200, content="".join(parts).encode(), headers={"content-type": "text/event-stream"})
