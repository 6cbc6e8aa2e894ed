"""HTTP calls through the pooled ``openai`` clients, with errors translated to :mod:`.errors`.

Bodies are posted with the SDK's low-level ``post`` and returned as plain dicts: the SDK still does
auth, retries (429/5xx/timeouts, honouring ``Retry-After``; never 402), SSE decoding and connection
pooling, but no per-response pydantic models are built, which is where most client overhead goes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from stackit_chutes_core._clients import async_client_for, sync_client_for
from stackit_chutes_core.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    StreamError,
    error_from_response,
)
from stackit_chutes_core.routing import Endpoint

__all__ = ["apost_json", "apost_stream", "post_json", "post_stream", "translate_error"]


def _response_body(exc: Any) -> Any:
    try:
        text = exc.response.text
    except Exception:  # a streamed error body may be unreadable; fall back to the SDK's parse
        return exc.body
    if not text.strip():
        return ""
    try:
        return json.loads(text)
    except ValueError:
        return text


def translate_error(exc: BaseException, provider: str) -> BaseException:
    """Map an ``openai`` SDK exception to this package's hierarchy (others pass through)."""
    if isinstance(exc, APIError):
        return exc
    import openai  # already loaded: an SDK call raised this

    if isinstance(exc, openai.APIStatusError):
        return error_from_response(
            provider=provider,
            status_code=exc.status_code,
            body=_response_body(exc),
            headers=dict(exc.response.headers),
        )
    if isinstance(exc, openai.APITimeoutError):
        return APITimeoutError(f"request timed out: {exc}", provider=provider)
    if isinstance(exc, openai.APIConnectionError):
        return APIConnectionError(f"connection failed: {exc}", provider=provider)
    if isinstance(exc, openai.APIError):  # an error event inside a stream
        return StreamError(exc.message, provider=provider, body=exc.body)
    if isinstance(exc, json.JSONDecodeError):
        return StreamError(f"the provider sent invalid JSON: {exc}", provider=provider)
    return exc


def _options(headers: Mapping[str, str] | None) -> Any:
    """SDK ``RequestOptions`` carrying per-request headers (typed ``Any``: the SDK's TypedDict)."""
    return {"headers": dict(headers)} if headers else {}


def post_json(
    endpoint: Endpoint, path: str, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """POST ``body`` and return the decoded JSON answer."""
    client = sync_client_for(endpoint)
    try:
        result = client.post(path, body=dict(body), cast_to=object, options=_options(headers))
    except Exception as exc:
        raise translate_error(exc, endpoint.provider.name) from exc
    return _expect_object(result, endpoint)


async def apost_json(
    endpoint: Endpoint, path: str, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Async :func:`post_json`."""
    client = async_client_for(endpoint)
    try:
        result = await client.post(path, body=dict(body), cast_to=object, options=_options(headers))
    except Exception as exc:
        raise translate_error(exc, endpoint.provider.name) from exc
    return _expect_object(result, endpoint)


def _expect_object(result: Any, endpoint: Endpoint) -> dict[str, Any]:
    if not isinstance(result, dict):
        raise APIError(
            f"expected a JSON object, got {type(result).__name__}: {str(result)[:200]!r}",
            provider=endpoint.provider.name,
        )
    return result


def post_stream(
    endpoint: Endpoint, path: str, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    """POST ``body`` with ``stream: true`` and yield each SSE ``data`` object."""
    import openai

    client = sync_client_for(endpoint)
    provider = endpoint.provider.name
    try:
        stream = client.post(
            path,
            body=dict(body),
            cast_to=object,
            options=_options(headers),
            stream=True,
            stream_cls=openai.Stream[object],
        )
        with stream:
            for event in stream:
                if isinstance(event, dict):
                    yield event
    except Exception as exc:
        raise translate_error(exc, provider) from exc


async def apost_stream(
    endpoint: Endpoint, path: str, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Async :func:`post_stream`."""
    import openai

    client = async_client_for(endpoint)
    provider = endpoint.provider.name
    try:
        stream = await client.post(
            path,
            body=dict(body),
            cast_to=object,
            options=_options(headers),
            stream=True,
            stream_cls=openai.AsyncStream[object],
        )
        async with stream:
            async for event in stream:
                if isinstance(event, dict):
                    yield event
    except Exception as exc:
        raise translate_error(exc, provider) from exc
