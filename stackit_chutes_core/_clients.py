"""Pooled ``openai`` SDK clients, one per (base URL, key, headers, timeout, retries).

The SDK reads ``OPENAI_ORG_ID``, ``OPENAI_PROJECT_ID``, ``OPENAI_ADMIN_KEY`` and
``OPENAI_CUSTOM_HEADERS`` by itself; every client built here is scrubbed of them so that nothing of a
user's OpenAI setup reaches STACKIT or Chutes. Async clients are bound to the event loop that
created them (httpx connection pools are loop-bound), so they are pooled per running loop.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, TypeVar

from stackit_chutes_core.routing import Endpoint

if TYPE_CHECKING:  # the SDK is imported on the first request, not at import (CLI start-up time)
    import openai

__all__ = ["async_client_for", "clear_client_cache", "sync_client_for"]

_MAX_POOLED = 64
_lock = threading.Lock()
_sync_clients: OrderedDict[tuple[Any, ...], openai.OpenAI] = OrderedDict()
_async_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, OrderedDict[tuple[Any, ...], openai.AsyncOpenAI]
] = weakref.WeakKeyDictionary()

_ClientT = TypeVar("_ClientT", "openai.OpenAI", "openai.AsyncOpenAI")


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
    """A scrubbed client for ``endpoint`` (built outside the pool lock: it loads the TLS bundle, ~20 ms)."""
    kwargs = _client_kwargs(endpoint)
    if http_client is not None:
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
    import openai

    fresh = _new_client(openai.OpenAI, endpoint, endpoint.http_client)  # the first one stored wins
    with _lock:
        client = _sync_clients.get(key)
        if client is None:
            client = fresh
            _remember(_sync_clients, key, client)
    return client


def async_client_for(endpoint: Endpoint) -> openai.AsyncOpenAI:
    """The async client for ``endpoint`` bound to the running event loop."""
    loop = asyncio.get_running_loop()
    key = endpoint.client_key
    pool = _async_clients.get(loop)
    client = pool.get(key) if pool is not None else None
    if client is not None:
        return client
    import openai

    fresh = _new_client(openai.AsyncOpenAI, endpoint, endpoint.http_async_client)
    with _lock:
        pool = _async_clients.setdefault(loop, OrderedDict())
        client = pool.get(key)
        if client is None:
            client = fresh
            _remember(pool, key, client)
    return client


def clear_client_cache() -> None:
    """Forget every pooled client (tests; after rotating keys)."""
    with _lock:
        for client in _sync_clients.values():
            client.close()
        _sync_clients.clear()
        _async_clients.clear()
