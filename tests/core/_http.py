"""Shared offline HTTP helpers for the core tests: a recording MockTransport and SSE bodies.

Every test builds its endpoint with ``http_client=`` / ``http_async_client=`` around an
``httpx2.MockTransport``, so nothing ever leaves the process, and asserts on the captured requests.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import httpx2

from stackit_chutes_core import resolve_endpoint
from stackit_chutes_core.routing import Endpoint

STACKIT_HOST = "api.openai-compat.model-serving.eu01.onstackit.cloud"
CHUTES_HOST = "llm.chutes.ai"
CHUTES_EMBED_HOST = "embed.chutes.ai"

Responder = Callable[[httpx2.Request], httpx2.Response]


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> httpx2.Response:
    """A JSON answer."""
    return httpx2.Response(status, json=body, headers=dict(headers or {}))


def sse_body(chunks: Iterable[Mapping[str, Any] | str], *, done: bool = True, raw_tail: str | None = None) -> bytes:
    """An SSE body: one ``data:`` event per chunk (dicts are JSON-encoded, strings sent as is).

    ``raw_tail`` is appended without SSE framing (Chutes' mid-stream ``{"error": ...}`` line).
    """
    parts = [f"data: {c if isinstance(c, str) else json.dumps(c)}\n\n" for c in chunks]
    if done:
        parts.append("data: [DONE]\n\n")
    if raw_tail is not None:
        parts.append(raw_tail)
    return "".join(parts).encode()


def sse_response(
    chunks: Iterable[Mapping[str, Any] | str], *, done: bool = True, raw_tail: str | None = None
) -> httpx2.Response:
    """A ``text/event-stream`` answer built with :func:`sse_body`."""
    return httpx2.Response(
        200,
        content=sse_body(chunks, done=done, raw_tail=raw_tail),
        headers={"content-type": "text/event-stream"},
    )


def chat_completion(
    content: str | None = "ok",
    *,
    finish_reason: str = "stop",
    usage: Mapping[str, int] | None = None,
    **message_fields: Any,
) -> dict[str, Any]:
    """A minimal ``chat.completion`` body."""
    message: dict[str, Any] = {"role": "assistant", "content": content, **message_fields}
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": "test-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": dict(usage or {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}),
    }


def chunk(
    delta: Mapping[str, Any] | None = None,
    *,
    finish_reason: str | None = None,
    usage: Mapping[str, int] | None = None,
    choices: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """A ``chat.completion.chunk`` dict."""
    body: dict[str, Any] = {
        "id": "chatcmpl-stream",
        "object": "chat.completion.chunk",
        "model": "test-model",
        "choices": [{"index": 0, "delta": dict(delta or {}), "finish_reason": finish_reason}] if choices else [],
        **extra,
    }
    if usage is not None:
        body["usage"] = dict(usage)
    return body


class Recorder:
    """A MockTransport handler that records every request and answers through ``responder``.

    ``responder`` is either a function of the request or a list of responses served in order
    (the last one repeats). Works for sync and async clients alike.
    """

    def __init__(self, responder: Responder | Sequence[httpx2.Response] | httpx2.Response) -> None:
        self.requests: list[httpx2.Request] = []
        self._lock = threading.Lock()
        if isinstance(responder, httpx2.Response):
            responder = [responder]
        if isinstance(responder, Sequence):
            queue = list(responder)

            def serve(_: httpx2.Request) -> httpx2.Response:
                response = queue.pop(0) if len(queue) > 1 else queue[0]
                # A Response object can only be consumed once: hand out a fresh copy.
                return httpx2.Response(response.status_code, headers=response.headers, content=response.content)

            self._responder: Responder = serve
        else:
            self._responder = responder

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        with self._lock:
            self.requests.append(request)
        return self._responder(request)

    @property
    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self)

    def client(self) -> httpx2.Client:
        return httpx2.Client(transport=self.transport)

    def async_client(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(transport=self.transport)

    def bodies(self) -> list[dict[str, Any]]:
        """Decoded JSON bodies of every captured request, in arrival order."""
        return [json.loads(r.content) for r in self.requests]

    @property
    def last(self) -> httpx2.Request:
        return self.requests[-1]

    def last_body(self) -> dict[str, Any]:
        return json.loads(self.last.content)


def endpoint(
    model: str,
    recorder: Recorder,
    *,
    api_key: str | None = "test-key",
    max_retries: int = 0,
    **kwargs: Any,
) -> Endpoint:
    """An endpoint whose sync and async clients both go through ``recorder``."""
    return resolve_endpoint(
        model,
        api_key=api_key,
        max_retries=max_retries,
        http_client=recorder.client(),
        http_async_client=recorder.async_client(),
        **kwargs,
    )


class ConcurrencyGate:
    """Tracks in-flight requests (thread-safe) and holds each one until ``limit`` are in flight.

    Holding requests makes the pool actually fill up, so the observed ``peak`` shows both that the
    limit is reached and that it is never exceeded, without any timing assumption. ``total`` is the
    number of requests the test will make (so the tail, with fewer than ``limit`` left, is released).
    The wait has a generous safety timeout so a broken limiter fails instead of hanging.
    """

    def __init__(self, limit: int, total: int, answer: Responder) -> None:
        self.limit = limit
        self.total = total
        self.answer = answer
        self.in_flight = 0
        self.peak = 0
        self.finished = 0
        self._cond = threading.Condition()

    def _ready(self) -> bool:
        return self.in_flight >= min(self.limit, self.total - self.finished)

    def _enter(self) -> None:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)

    def _leave(self) -> None:
        self.in_flight -= 1
        self.finished += 1

    def sync_handler(self, request: httpx2.Request) -> httpx2.Response:
        with self._cond:
            self._enter()
            self._cond.notify_all()
            self._cond.wait_for(self._ready, timeout=5)
        try:
            return self.answer(request)
        finally:
            with self._cond:
                self._leave()
                self._cond.notify_all()

    async def async_handler(self, request: httpx2.Request) -> httpx2.Response:
        self._enter()
        for _ in range(10_000):  # yield to the loop until the pool is full (bounded: never hangs)
            if self._ready():
                break
            await asyncio.sleep(0)
        try:
            return self.answer(request)
        finally:
            self._leave()
