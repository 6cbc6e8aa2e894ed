"""The one offline HTTP mock of the test suite: a recording handler, canned answers and SSE bodies.

Endpoints and models get ``http_client=`` / ``http_async_client=`` (LlamaIndex:
``async_http_client=``) built around an ``httpx2.MockTransport`` (httpx2 is the HTTP library of
``openai`` 3), so nothing leaves the process and each test asserts on the exact URL, headers and
JSON body that reached the wire.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

import httpx2

from stackit_chutes_core import resolve_endpoint
from stackit_chutes_core.routing import Endpoint

STACKIT_HOST = "api.openai-compat.model-serving.eu01.onstackit.cloud"
CHUTES_HOST = "llm.chutes.ai"
CHUTES_EMBED_HOST = "embed.chutes.ai"

Responder = Callable[[httpx2.Request], httpx2.Response]
Reply = httpx2.Response | Responder
Handler = Callable[[httpx2.Request], httpx2.Response | Awaitable[httpx2.Response]]


def request_json(request: httpx2.Request) -> dict[str, Any]:
    """The JSON body of a captured request."""
    return dict(json.loads(request.content))


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


def token_usage(prompt: int = 3, completion: int = 2) -> dict[str, int]:
    """An OpenAI ``usage`` object."""
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def chat_completion(
    content: str | None = "ok",
    *,
    model: str = "test-model",
    finish_reason: str = "stop",
    usage: Mapping[str, Any] | None = None,
    **message_fields: Any,
) -> dict[str, Any]:
    """A minimal ``chat.completion`` body (``message_fields`` go into the assistant message)."""
    message: dict[str, Any] = {"role": "assistant", "content": content, **message_fields}
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": dict(usage or token_usage()),
    }


def chunk(
    delta: Mapping[str, Any] | None = None,
    *,
    finish_reason: str | None = None,
    usage: Mapping[str, int] | None = None,
    choices: bool = True,
    model: str = "test-model",
    **extra: Any,
) -> dict[str, Any]:
    """A ``chat.completion.chunk`` dict (``choices=False``: the usage-only chunk has none)."""
    body: dict[str, Any] = {
        "id": "chatcmpl-stream",
        "object": "chat.completion.chunk",
        "model": model,
        "choices": [{"index": 0, "delta": dict(delta or {}), "finish_reason": finish_reason}] if choices else [],
        **extra,
    }
    if usage is not None:
        body["usage"] = dict(usage)
    return body


def usage_chunk(prompt: int = 7, completion: int = 5, *, model: str = "test-model") -> dict[str, Any]:
    """The trailing usage-only chunk of ``stream_options.include_usage``."""
    return chunk(choices=False, usage=token_usage(prompt, completion), model=model)


def mock_clients(
    handler: Handler, async_handler: Handler | None = None, *, llama_index: bool = False
) -> dict[str, Any]:
    """``http_client`` and async client keyword arguments answering through ``handler``.

    ``async_handler`` (default ``handler``) may be a coroutine function. The async keyword is
    ``http_async_client`` (core endpoints, LangChain) or ``async_http_client`` (``llama_index=True``).
    """
    async_name = "async_http_client" if llama_index else "http_async_client"
    return {
        "http_client": httpx2.Client(transport=httpx2.MockTransport(handler)),
        async_name: httpx2.AsyncClient(transport=httpx2.MockTransport(async_handler or handler)),
    }


class Recorder:
    """A MockTransport handler that records every request and answers from ``replies``.

    ``replies`` is one reply or a list served in order (the last one repeats); a reply is a
    response or a function of the request. Assigning ``replies`` later starts over at its first
    one. Works for sync and async clients alike (thread-safe).
    """

    def __init__(self, replies: Reply | Sequence[Reply]) -> None:
        self.requests: list[httpx2.Request] = []
        self._lock = threading.Lock()
        self.replies = replies

    @property
    def replies(self) -> list[Reply]:
        """The replies still to serve (the last one repeats)."""
        return self._replies

    @replies.setter
    def replies(self, replies: Reply | Sequence[Reply]) -> None:
        single = isinstance(replies, httpx2.Response) or callable(replies)
        self._replies: list[Reply] = [replies] if single else list(replies)
        self._served = 0

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        with self._lock:
            self.requests.append(request)
            reply = self._replies[min(self._served, len(self._replies) - 1)]
            self._served += 1
        if callable(reply):
            return reply(request)
        # A Response object can only be consumed once: hand out a fresh copy.
        return httpx2.Response(reply.status_code, headers=reply.headers, content=reply.content)

    def client(self) -> httpx2.Client:
        """A sync client answering through this recorder."""
        return httpx2.Client(transport=httpx2.MockTransport(self))

    def async_client(self) -> httpx2.AsyncClient:
        """An async client answering through this recorder."""
        return httpx2.AsyncClient(transport=httpx2.MockTransport(self))

    def clients(self, *, llama_index: bool = False) -> dict[str, Any]:
        """Client keyword arguments for a model (see :func:`mock_clients`)."""
        return mock_clients(self, llama_index=llama_index)

    def bodies(self) -> list[dict[str, Any]]:
        """Decoded JSON bodies of every captured request, in arrival order."""
        return [request_json(r) for r in self.requests]

    @property
    def last(self) -> httpx2.Request:
        """The most recent request."""
        return self.requests[-1]

    def last_body(self) -> dict[str, Any]:
        """The decoded JSON body of the most recent request."""
        return request_json(self.last)


def endpoint(
    model: str,
    recorder: Recorder,
    *,
    api_key: str | None = "test-key",
    max_retries: int = 0,
    **kwargs: Any,
) -> Endpoint:
    """An endpoint whose sync and async clients both go through ``recorder``."""
    return resolve_endpoint(model, api_key=api_key, max_retries=max_retries, **recorder.clients(), **kwargs)


class InFlight:
    """Counts requests in flight and their peak (thread-safe): ``with tracker:`` around one answer."""

    def __init__(self) -> None:
        self.now = self.peak = self.total = 0
        self._lock = threading.Lock()

    def __enter__(self) -> InFlight:
        with self._lock:
            self.now += 1
            self.total += 1
            self.peak = max(self.peak, self.now)
        return self

    def __exit__(self, *_: object) -> None:
        with self._lock:
            self.now -= 1


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
        """Hold until the pool is full, then answer."""
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
        """The async counterpart of :meth:`sync_handler`."""
        self._enter()
        for _ in range(10_000):  # yield to the loop until the pool is full (bounded: never hangs)
            if self._ready():
                break
            await asyncio.sleep(0)
        try:
            return self.answer(request)
        finally:
            self._leave()
