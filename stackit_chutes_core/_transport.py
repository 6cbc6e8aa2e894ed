"""HTTP calls through the pooled ``openai`` clients, with errors translated to :mod:`.errors`.

Bodies are posted with the SDK's low-level ``post`` and returned as plain dicts: the SDK still does
auth, retries (429/5xx/timeouts, honouring ``Retry-After``; never 402), SSE decoding and connection
pooling, but no per-response pydantic models are built, which is where most client overhead goes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from stackit_chutes_core._capability import capability_error
from stackit_chutes_core._clients import async_client_for, sync_client_for
from stackit_chutes_core._limiter import apace, pace
from stackit_chutes_core.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    InvalidResponseError,
    ResponseTooLargeError,
    StreamError,
    error_from_response,
    parse_error_body,
)
from stackit_chutes_core.routing import Endpoint

if TYPE_CHECKING:  # the SDK (and httpx2) load on the first request, not at import (CLI start-up time)
    import openai

__all__ = [
    "apost_json",
    "apost_stream",
    "decode_answer",
    "invalid_response",
    "post_json",
    "post_stream",
    "translate_error",
]


def _response_body(exc: openai.APIStatusError) -> Any:
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


def translate_error(exc: BaseException, provider: str, model: str | None = None) -> BaseException:
    """Map an ``openai`` SDK exception to this package's hierarchy, naming ``provider`` and ``model``.

    Exceptions that are not about the call pass through unchanged.
    """
    if isinstance(exc, APIError):
        return exc
    import openai  # already loaded: a request raised this

    from stackit_chutes_core._bounds import ResponseTooLarge

    if isinstance(exc, ResponseTooLarge):
        return ResponseTooLargeError(
            f"{exc}; raise max_response_bytes if such answers are expected",
            provider=provider,
            model=model,
            limit=exc.limit,
        )
    if isinstance(exc, openai.APIStatusError):
        return error_from_response(
            provider=provider,
            model=model,
            status_code=exc.status_code,
            body=_response_body(exc),
            headers=dict(exc.response.headers),
        )
    if isinstance(exc, openai.APITimeoutError):
        return APITimeoutError(f"request timed out: {exc}", provider=provider, model=model)
    if isinstance(exc, openai.APIConnectionError):
        return APIConnectionError(f"connection failed: {exc}", provider=provider, model=model)
    if isinstance(exc, openai.APIError):  # an error event inside a stream (framed or Chutes' raw line)
        message, code, _ = parse_error_body({"error": exc.body})
        return StreamError(message or exc.message, provider=provider, model=model, code=code, body=exc.body)
    if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError, RecursionError)):  # decoding a stream event
        what = "JSON nested too deeply to parse" if isinstance(exc, RecursionError) else exc
        return StreamError(f"the provider sent invalid JSON: {what}", provider=provider, model=model)
    return exc


def _failure(exc: BaseException, endpoint: Endpoint) -> BaseException:
    """What a failed call raises: the package's error, a capability answer as ``ProviderCapabilityError``."""
    error = translate_error(exc, endpoint.provider, endpoint.model_id)
    return capability_error(endpoint, error) if isinstance(error, APIStatusError) else error


def _sdk() -> Any:
    """The ``openai`` module (already imported by the pooled client this call uses)."""
    import openai

    return openai


def _httpx_response() -> Any:
    """``httpx2.Response``: the SDK hands back the raw answer, which :func:`decode_answer` checks."""
    import httpx2

    return httpx2.Response


def _options(headers: Mapping[str, str] | None, extra: Mapping[str, Any] | None = None) -> Any:
    """SDK ``RequestOptions`` carrying per-request headers (typed ``Any``: the SDK's TypedDict).

    ``extra``: options from the rate limiter (it turns the SDK's retries off and does them itself).
    """
    options: dict[str, Any] = {"headers": dict(headers)} if headers else {}
    if extra:
        options.update(extra)
    return options


def post_json(
    endpoint: Endpoint, path: str, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """POST ``body`` and return the decoded JSON answer (an object; anything else is rejected)."""
    client = sync_client_for(endpoint)

    def send(extra: Mapping[str, Any]) -> dict[str, Any]:
        try:
            response = client.post(path, body=dict(body), cast_to=_httpx_response(), options=_options(headers, extra))
        except Exception as exc:
            raise _failure(exc, endpoint) from exc
        return decode_answer(response.content, endpoint)

    return pace(endpoint, body, send)  # paced by the endpoint's rate limiter, if it has one


async def apost_json(
    endpoint: Endpoint, path: str, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Async :func:`post_json`."""
    client = async_client_for(endpoint)

    async def send(extra: Mapping[str, Any]) -> dict[str, Any]:
        try:
            response = await client.post(
                path, body=dict(body), cast_to=_httpx_response(), options=_options(headers, extra)
            )
        except Exception as exc:
            raise _failure(exc, endpoint) from exc
        return decode_answer(response.content, endpoint)

    return await apace(endpoint, body, send)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def invalid_response(endpoint: Endpoint, problem: str, body: Any = None) -> InvalidResponseError:
    """The typed error for a 200 answer that is no usable answer."""
    return InvalidResponseError(
        f"the answer is unusable: {problem}", provider=endpoint.provider, model=endpoint.model_id, body=body
    )


def decode_answer(content: bytes, endpoint: Endpoint) -> dict[str, Any]:
    """Parse a response body: strict JSON (no ``NaN``/``Infinity``), UTF-8, an object at the top."""
    try:
        result = json.loads(content, parse_constant=_no_constants)
    except RecursionError:
        raise invalid_response(endpoint, "JSON nested too deeply to parse", content[:200]) from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, NaN/Infinity
        raise invalid_response(endpoint, f"not valid JSON ({exc})", content[:200]) from None
    if not isinstance(result, dict):
        raise invalid_response(
            endpoint, f"expected a JSON object, got {type(result).__name__}: {str(result)[:200]!r}", result
        )
    return result


def post_stream(
    endpoint: Endpoint, path: str, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    """POST ``body`` with ``stream: true`` and yield each SSE ``data`` object."""
    client = sync_client_for(endpoint)

    def send(extra: Mapping[str, Any]) -> Any:
        try:
            return client.post(
                path,
                body=dict(body),
                cast_to=object,
                options=_options(headers, extra),
                stream=True,
                stream_cls=_sdk().Stream[object],
            )
        except Exception as exc:
            raise _failure(exc, endpoint) from exc

    try:
        stream = pace(endpoint, body, send)  # paced until the stream opens (a 429 comes before the body)
        with stream:
            for event in stream:
                if isinstance(event, dict):
                    yield event
    except Exception as exc:
        raise _failure(exc, endpoint) from exc


async def apost_stream(
    endpoint: Endpoint, path: str, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Async :func:`post_stream`."""
    client = async_client_for(endpoint)

    async def send(extra: Mapping[str, Any]) -> Any:
        try:
            return await client.post(
                path,
                body=dict(body),
                cast_to=object,
                options=_options(headers, extra),
                stream=True,
                stream_cls=_sdk().AsyncStream[object],
            )
        except Exception as exc:
            raise _failure(exc, endpoint) from exc

    try:
        stream = await apace(endpoint, body, send)  # paced until the stream opens (a 429 comes before the body)
        async with stream:
            async for event in stream:
                if isinstance(event, dict):
                    yield event
    except Exception as exc:
        raise _failure(exc, endpoint) from exc
