"""Pooled ``openai`` SDK clients, one per (base URL, key, headers, timeout, retries).

The SDK reads ``OPENAI_ORG_ID``, ``OPENAI_PROJECT_ID``, ``OPENAI_ADMIN_KEY`` and
``OPENAI_CUSTOM_HEADERS`` by itself; every client built here is scrubbed of them so that nothing of a
user's OpenAI setup reaches STACKIT or Chutes. Async clients are bound to the event loop that
created them (httpx connection pools are loop-bound), so they are pooled per running loop and
closed when that loop shuts down (``asyncio.run()`` per task leaks nothing).

Pools are per process: a forked child (gunicorn ``--preload``, ``multiprocessing`` with fork) starts
with empty pools and a fresh lock, so it never writes to a keep-alive socket it shares with its
parent (which would mix up the two processes' answers). The parent's clients are kept referenced in
the child, never used and never closed there: closing would shut down the parent's TLS session.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any, TypeVar

from stackit_chutes_core.routing import Endpoint

if TYPE_CHECKING:  # the SDK is imported on the first request, not at import (CLI start-up time)
    import openai

__all__ = ["async_client_for", "clear_client_cache", "sync_client_for"]

_MAX_POOLED = 64
_lock = threading.Lock()
_sync_clients: OrderedDict[tuple[Any, ...], openai.OpenAI] = OrderedDict()
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopPool] = weakref.WeakKeyDictionary()

_ClientT = TypeVar("_ClientT", "openai.OpenAI", "openai.AsyncOpenAI")
# Clients inherited from the parent process: referenced so that they are never garbage-collected
# (which would close sockets the parent still uses), never handed out.
_inherited: list[object] = []


def _forget_after_fork() -> None:
    """In a forked child: start with empty pools and a lock no other thread can be holding."""
    global _lock, _sync_clients, _async_clients
    _inherited.append((_sync_clients, _async_clients))
    _lock = threading.Lock()
    _sync_clients = OrderedDict()
    _async_clients = weakref.WeakKeyDictionary()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_forget_after_fork)


def _scrub(client: _ClientT, endpoint: Endpoint) -> _ClientT:
    """Remove everything the SDK picked up from ``OPENAI_*`` variables."""
    client.organization = None
    client.project = None
    for attribute in ("admin_api_key", "webhook_secret"):
        if hasattr(client, attribute):
            setattr(client, attribute, None)
    client._custom_headers = dict(endpoint.headers)
    return client


def _client_kwargs(endpoint: Endpoint) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "api_key": endpoint.api_key.get_secret_value(),
        "base_url": endpoint.base_url,
        "max_retries": endpoint.max_retries,
        "default_headers": dict(endpoint.headers),
        # Explicit values stop the SDK from reading OPENAI_ORG_ID / OPENAI_PROJECT_ID.
        "organization": None,
        "project": None,
    }
    if endpoint.timeout is not None:
        kwargs["timeout"] = endpoint.timeout
    return kwargs


def _new_client(cls: type[_ClientT], endpoint: Endpoint, http_client: Any) -> _ClientT:
    """A scrubbed client for ``endpoint``; without a user ``http_client``, one bounded in time and size."""
    kwargs = _client_kwargs(endpoint)
    if http_client is None:
        import openai

        from stackit_chutes_core._bounds import bounded_async_http_client, bounded_http_client

        limit = endpoint.max_response_bytes
        http_client = bounded_http_client(limit) if issubclass(cls, openai.OpenAI) else bounded_async_http_client(limit)
    kwargs["http_client"] = http_client
    return _scrub(cls(**kwargs), endpoint)


def _remember(pool: OrderedDict[tuple[Any, ...], _ClientT], key: tuple[Any, ...], client: _ClientT) -> None:
    pool[key] = client
    pool.move_to_end(key)
    while len(pool) > _MAX_POOLED:
        pool.popitem(last=False)


def sync_client_for(endpoint: Endpoint) -> openai.OpenAI:
    """The pooled synchronous client for ``endpoint``."""
    key = endpoint.client_key
    client = _sync_clients.get(key)
    if client is not None:
        return client
    from stackit_chutes_core._sse import OpenAIClient  # loads the SDK on the first request

    fresh = _new_client(OpenAIClient, endpoint, endpoint.http_client)  # the first one stored wins
    with _lock:
        client = _sync_clients.get(key)
        if client is None:
            client = fresh
            _remember(_sync_clients, key, client)
    return client


class _LoopPool:
    """The async clients of one event loop, closed when the loop shuts down its async generators.

    ``asyncio.run()`` / ``asyncio.Runner`` (and pytest-asyncio, uvloop) call
    ``loop.shutdown_asyncgens()`` before closing the loop: a generator parked at its first ``yield``
    is registered with the loop and its ``finally`` runs there, on the still-running loop, which
    is what closing an ``AsyncOpenAI`` needs. Clients around a user-supplied ``http_async_client``
    are dropped but not closed: the user owns that client.
    """

    __slots__ = ("clients", "guard", "owned")

    def __init__(self) -> None:
        self.clients: OrderedDict[tuple[Any, ...], openai.AsyncOpenAI] = OrderedDict()
        self.owned: set[int] = set()
        self.guard: AsyncGenerator[None, None] | None = None


async def _close_with_loop(loop: asyncio.AbstractEventLoop, pool: _LoopPool) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        with _lock:
            if _async_clients.get(loop) is pool:
                del _async_clients[loop]
        for client in list(pool.clients.values()):
            if id(client) in pool.owned:
                with contextlib.suppress(Exception):  # a half-dead connection must not stop the shutdown
                    await client.close()
        pool.clients.clear()


def _new_loop_pool(loop: asyncio.AbstractEventLoop) -> _LoopPool:
    """A pool for ``loop``, registered to be closed with it; pools of loops already closed are dropped."""
    for other in [other for other in _async_clients if other.is_closed()]:
        # Closed without shutdown_asyncgens (a bare loop.close()): nothing can await their close now.
        del _async_clients[other]
    pool = _LoopPool()
    guard = _close_with_loop(loop, pool)
    step = guard.__anext__()  # the loop's firstiter hook registers the generator here
    with contextlib.suppress(StopIteration):  # runs the body up to its yield, synchronously
        step.send(None)
    pool.guard = guard
    _async_clients[loop] = pool
    return pool


def async_client_for(endpoint: Endpoint) -> openai.AsyncOpenAI:
    """The async client for ``endpoint`` bound to the running event loop (closed when the loop closes)."""
    loop = asyncio.get_running_loop()
    key = endpoint.client_key
    pool = _async_clients.get(loop)
    client = pool.clients.get(key) if pool is not None else None
    if client is not None:
        return client
    from stackit_chutes_core._sse import AsyncOpenAIClient  # loads the SDK on the first request

    fresh = _new_client(AsyncOpenAIClient, endpoint, endpoint.http_async_client)
    with _lock:
        pool = _async_clients.get(loop) or _new_loop_pool(loop)
        client = pool.clients.get(key)
        if client is None:
            client = fresh
            if endpoint.http_async_client is None:
                pool.owned.add(id(client))
            _remember(pool.clients, key, client)
    return client


def clear_client_cache() -> None:
    """Forget every pooled client (tests; after rotating keys)."""
    with _lock:
        for client in _sync_clients.values():
            client.close()
        _sync_clients.clear()
        _async_clients.clear()
