"""Per-attempt deadline and size cap on response bodies, installed as ``httpx`` event hooks.

httpx's ``read`` timeout bounds each socket read, not the body: a server trickling one byte per
second, or sending a body that never ends, keeps a call alive for ever (and buffers the body until
memory runs out). The hooks below wrap each non-SSE response body so that

* the attempt ends with ``httpx.ReadTimeout`` once ``timeout`` seconds (the request's read timeout)
  have passed since it was sent; the SDK retries that like any timeout, then raises
  ``APITimeoutError``, so a call ends within about ``timeout x (max_retries + 1)`` plus backoff;
* more than ``max_bytes`` of body raises :class:`ResponseTooLarge` (never retried: the same answer
  would come back), which the transport turns into :class:`~stackit_chutes_core.errors.ResponseTooLargeError`.

SSE streams are exempt (a long generation is legitimate); their reads keep the per-read timeout.
The cost on a normal answer is one clock read and one addition per received chunk (up to 64 KiB),
never per byte.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx2
import openai

__all__ = ["ResponseTooLarge", "bounded_async_http_client", "bounded_http_client"]

_DEADLINE = "stackit_chutes_deadline"
_ssl_lock = threading.Lock()
_ssl_context: ssl.SSLContext | None = None


class ResponseTooLarge(Exception):
    """The body exceeded the cap; deliberately not an ``httpx.RequestError`` so the SDK does not retry."""

    def __init__(self, limit: int, received: int) -> None:
        self.limit = limit
        self.received = received
        super().__init__(f"the response body exceeds {limit:,} bytes (received {received:,} so far)")


def _fresh_lock_after_fork() -> None:
    global _ssl_lock
    _ssl_lock = threading.Lock()  # another thread may have held it at fork time


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fresh_lock_after_fork)


def _shared_ssl_context() -> ssl.SSLContext:
    """One verified TLS context per process: loading the CA bundle costs 20-160 ms per client."""
    global _ssl_context
    with _ssl_lock:
        if _ssl_context is None:
            _ssl_context = httpx2.create_ssl_context()
        return _ssl_context


def _stamp_deadline(request: httpx2.Request) -> None:
    timeout = request.extensions.get("timeout") or {}
    budget = timeout.get("read")
    if budget is not None:
        request.extensions[_DEADLINE] = time.monotonic() + float(budget)


def _check_headers(response: httpx2.Response, max_bytes: int) -> bool:
    """Whether the body needs bounding; raises at once when ``Content-Length`` is over the cap."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        return False
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise ResponseTooLarge(max_bytes, int(length))
    return True


class _Limit:
    """Running total and deadline of one body."""

    __slots__ = ("deadline", "max_bytes", "received", "request")

    def __init__(self, response: httpx2.Response, max_bytes: int) -> None:
        self.request = response.request
        self.deadline: float | None = self.request.extensions.get(_DEADLINE)
        self.max_bytes = max_bytes
        self.received = 0

    def check(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if self.received > self.max_bytes:
            raise ResponseTooLarge(self.max_bytes, self.received)
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise httpx2.ReadTimeout("the response body did not arrive within the timeout", request=self.request)


class _BoundedStream(httpx2.SyncByteStream):
    def __init__(self, inner: Any, limit: _Limit) -> None:
        self._inner = inner
        self._limit = limit

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self._limit.check(chunk)
            yield chunk

    def close(self) -> None:
        self._inner.close()

    @property
    def elapsed(self) -> Any:
        """What httpx reports as ``response.elapsed``."""
        return getattr(self._inner, "elapsed", None)


class _BoundedAsyncStream(httpx2.AsyncByteStream):
    def __init__(self, inner: Any, limit: _Limit) -> None:
        self._inner = inner
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._limit.check(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()

    @property
    def elapsed(self) -> Any:
        """What httpx reports as ``response.elapsed``."""
        return getattr(self._inner, "elapsed", None)


class _OwnedHttpClient(openai.DefaultHttpxClient):
    def __del__(self) -> None:  # like the SDK's own default client: close when dropped from the pool
        with contextlib.suppress(Exception):
            self.close()


class _OwnedAsyncHttpClient(openai.DefaultAsyncHttpxClient):
    def __del__(self) -> None:  # normally closed with its loop (see _clients); this covers pool eviction
        if self.is_closed:
            return
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().create_task(self.aclose())


def bounded_http_client(max_bytes: int) -> httpx2.Client:
    """The SDK's default sync HTTP client plus the deadline and the ``max_bytes`` cap."""

    def bound(response: httpx2.Response) -> None:
        if _check_headers(response, max_bytes):
            response.stream = _BoundedStream(response.stream, _Limit(response, max_bytes))

    hooks: dict[str, list[Callable[[Any], None]]] = {"request": [_stamp_deadline], "response": [bound]}
    return _OwnedHttpClient(verify=_shared_ssl_context(), event_hooks=hooks)


def bounded_async_http_client(max_bytes: int) -> httpx2.AsyncClient:
    """Async :func:`bounded_http_client`."""

    async def stamp(request: httpx2.Request) -> None:
        _stamp_deadline(request)

    async def bound(response: httpx2.Response) -> None:
        if _check_headers(response, max_bytes):
            response.stream = _BoundedAsyncStream(response.stream, _Limit(response, max_bytes))

    hooks: dict[str, list[Callable[[Any], Awaitable[None]]]] = {"request": [stamp], "response": [bound]}
    return _OwnedAsyncHttpClient(verify=_shared_ssl_context(), event_hooks=hooks)
