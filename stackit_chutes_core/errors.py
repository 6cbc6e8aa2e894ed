"""Every error stackit-chutes raises, in one hierarchy.

::

    StackitChutesError                      base of everything below
    ├── ConfigurationError                  wrong setup, raised before any request (also at construction:
    │                                       not a ValueError, so pydantic models let it through unwrapped)
    │   ├── UnknownProviderError            "foo/model": names the known providers, suggests the closest
    │   ├── MissingAPIKeyError              no key: names the environment variable to set
    │   ├── CapabilityError                 the model cannot do this (e.g. images to a text-only model)
    │   │   └── ProviderCapabilityError     ... and the provider said so (also a BadRequestError, below)
    │   └── InvalidInputError               unusable input (unsupported image format, oversize image, ...)
    │       ├── InvalidInputTypeError       ... of the wrong type (a str for a list, None); also a TypeError
    │       ├── InvalidInputValueError      ... with an unsendable value (empty, lone surrogate); also a ValueError
    │       └── InvalidParameterError       a call parameter that cannot be sent (also a ValueError)
    └── APIError                            the provider did not answer as asked
        ├── APIConnectionError              network failure; APITimeoutError is a subclass
        ├── StreamError                     a stream broke off or carried an error event
        ├── ResponseTooLargeError           the answer exceeded ``max_response_bytes`` (never retried)
        ├── InvalidResponseError            a 200 answer that is no usable answer (bad JSON or UTF-8, wrong
        │                                   types, NaN or absurd usage, missing/ragged embeddings, ...)
        ├── EmbeddingItemsError             some multimodal items failed; carries each index and cause
        └── APIStatusError                  an HTTP error status; carries status, code, body
            ├── BadRequestError             400 (and 422); ProviderCapabilityError is one too
            │   └── ContextLengthExceededError   the prompt exceeds the model's context window
            ├── AuthenticationError         401, and 403 (STACKIT answers a bad key with an empty 403)
            ├── QuotaExceededError          402: Chutes balance/quota; never retried
            ├── NotFoundError               404: usually a wrong model id
            ├── RateLimitError              429: STACKIT RPM/TPM limits, Chutes capacity
            └── InternalServerError         5xx

Every :class:`APIError` names the provider and, where the provider said so, the machine-readable
``code``, the ``retry_after`` delay in seconds (``Retry-After`` seconds or HTTP-date, clamped to
``[0, MAX_RETRY_AFTER_S]``) and Chutes' ``quota_reset`` timestamp. The
provider bodies come in four shapes (vLLM nested ``{"error": {...}}``, vLLM legacy flat
``{"object": "error", ...}``, FastAPI ``{"detail": str | {...}}`` and empty), all parsed by
:func:`error_from_response`.
"""

from __future__ import annotations

import email.utils
import json
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CapabilityError",
    "ConfigurationError",
    "ContextLengthExceededError",
    "EmbeddingItemsError",
    "InternalServerError",
    "InvalidInputError",
    "InvalidInputTypeError",
    "InvalidInputValueError",
    "InvalidParameterError",
    "InvalidResponseError",
    "MAX_RETRY_AFTER_S",
    "MissingAPIKeyError",
    "NotFoundError",
    "ProviderCapabilityError",
    "QuotaExceededError",
    "RateLimitError",
    "ResponseTooLargeError",
    "StackitChutesError",
    "StreamError",
    "UnknownProviderError",
    "as_capability_error",
    "error_from_response",
    "missing_capability",
    "parse_error_body",
]


class StackitChutesError(Exception):
    """Base class of every error this package raises.

    Every error pickles with all its attributes (worker pools send errors back to the parent), whatever
    its constructor's signature.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore_error, (type(self), self.args, dict(self.__dict__)))


def _restore_error(cls: type[StackitChutesError], args: tuple[Any, ...], state: dict[str, Any]) -> StackitChutesError:
    """Rebuild a pickled error without calling its constructor (which may want keyword-only fields)."""
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ConfigurationError(StackitChutesError):
    """The setup is wrong; raised before any request is sent.

    Deliberately not a ``ValueError``: pydantic wraps ``ValueError`` raised in validators into a
    ``ValidationError``, which would hide this type when a LangChain or LlamaIndex model is built.
    """


class UnknownProviderError(ConfigurationError):
    """A model string names a provider that is not registered."""

    def __init__(self, provider: str, known: Sequence[str], suggestion: str | None = None) -> None:
        self.provider = provider
        self.known = tuple(known)
        self.suggestion = suggestion
        hint = f" Did you mean {suggestion!r}?" if suggestion else ""
        super().__init__(
            f"Unknown provider {provider!r}.{hint} Known providers: {', '.join(self.known)}. "
            "Write the model as '<provider>/<model id>', e.g. 'stackit/openai/gpt-oss-120b', "
            "or register another endpoint with register_provider()."
        )


class MissingAPIKeyError(ConfigurationError):
    """No API key was passed and the provider's environment variable is unset."""

    def __init__(self, provider: str, env_vars: Sequence[str]) -> None:
        self.provider = provider
        self.env_vars = tuple(env_vars)
        names = " or ".join(self.env_vars) if self.env_vars else "an api_key argument"
        super().__init__(
            f"No API key for provider {provider!r}: set {names} or pass api_key=... . "
            "OPENAI_API_KEY is never used for this provider."
        )


class CapabilityError(ConfigurationError):
    """The model cannot do what was asked.

    Raised before sending only on a documented, dated catalog fact; otherwise the request is sent and
    the provider's own "capability missing" answer arrives as :class:`ProviderCapabilityError`.
    """


class InvalidInputError(ConfigurationError):
    """An input cannot be sent (unsupported image format, oversize image, empty input, ...)."""


class InvalidInputTypeError(InvalidInputError, TypeError):
    """An input of the wrong type, raised at call time before any request (also a ``TypeError``)."""


class InvalidInputValueError(InvalidInputError, ValueError):
    """An input value that cannot be sent, raised at call time before any request (also a ``ValueError``).

    A ``ValueError`` only here, at call time: configuration errors are not, so that pydantic does not
    wrap them when a framework model is built.
    """


class InvalidParameterError(InvalidInputError, ValueError):
    """A call parameter that cannot be sent (an unknown ``tool_choice`` form, a tool name that is not bound).

    Also a ``ValueError``, as framework users expect of bad call arguments.
    """


class APIError(StackitChutesError):
    """The provider did not answer as asked.

    ``provider`` and ``model`` (the model id sent on the wire) say who failed, ``message`` what the
    provider said (or what went wrong on the way), ``body`` the provider's error body as received;
    ``str()`` shows all three as ``[provider status] model <id>: <message>``.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        model: str | None = None,
        status_code: int | None = None,
        code: str | int | None = None,
        retry_after: float | None = None,
        quota_reset: str | None = None,
        body: Any = None,
        request_id: str | None = None,
    ) -> None:
        self.message = message
        self.provider = provider
        self.model = model
        self.status_code = status_code
        self.code = code
        self.retry_after = retry_after
        self.quota_reset = quota_reset
        self.body = body
        self.request_id = request_id
        status = f" {status_code}" if status_code is not None else ""
        subject = f"model {model}: " if model else ""
        super().__init__(f"[{provider}{status}] {subject}{message}")


class APIConnectionError(APIError):
    """The request never got an answer (DNS, refused connection, reset, ...)."""


class APITimeoutError(APIConnectionError):
    """The request timed out; raise ``timeout`` or retry later."""


class StreamError(APIError):
    """A streamed response broke off or carried an error event mid-stream."""


class InvalidResponseError(APIError):
    """The provider answered 200, but not with a usable answer; nothing of it is passed on.

    Covers bodies that are not JSON or not UTF-8, ``NaN``/``Infinity``, nesting too deep to parse,
    fields of the wrong type (``choices``, ``tool_calls``, ``embedding``), usage counts that are not
    non-negative integers of a sane size, and embeddings with missing/duplicate ``index`` or ragged
    or unexpected dimensions. ``body`` holds (a prefix of) what was received.
    """


class ResponseTooLargeError(APIError):
    """The answer's body exceeded the endpoint's ``max_response_bytes``; the read was stopped there.

    ``limit`` is the cap in bytes. Raise the cap (``resolve_endpoint(..., max_response_bytes=...)``)
    if such answers are expected.
    """

    def __init__(self, message: str, *, provider: str, limit: int, **kwargs: Any) -> None:
        self.limit = limit
        super().__init__(message, provider=provider, **kwargs)


class EmbeddingItemsError(APIError):
    """Some items of a multimodal embedding call failed; the others succeeded.

    ``failures`` maps each failed item's index to its exception; ``partial`` holds the vectors in
    input order with ``None`` where the item failed, so nothing computed is lost.
    """

    def __init__(
        self,
        *,
        provider: str,
        failures: Mapping[int, BaseException],
        partial: Sequence[list[float] | None],
        model: str | None = None,
    ) -> None:
        self.failures = dict(failures)
        self.partial = list(partial)
        detail = "; ".join(f"item {i}: {exc}" for i, exc in sorted(self.failures.items()))
        super().__init__(
            f"{len(self.failures)} of {len(self.partial)} embedding items failed: {detail}",
            provider=provider,
            model=model,
        )


class APIStatusError(APIError):
    """The provider answered with an HTTP error status."""


class BadRequestError(APIStatusError):
    """HTTP 400/422: the provider rejected the request as invalid."""


class ContextLengthExceededError(BadRequestError):
    """The prompt (plus requested output) exceeds the model's context window."""


class AuthenticationError(APIStatusError):
    """HTTP 401/403: the key is missing, wrong, or not valid for this provider."""


class QuotaExceededError(APIStatusError):
    """HTTP 402 (Chutes): balance or daily quota exhausted. ``quota_reset`` says when it resets."""


class NotFoundError(APIStatusError):
    """HTTP 404: most often an incorrect model id for this provider."""


class RateLimitError(APIStatusError):
    """HTTP 429: rate limit (STACKIT RPM/TPM) or capacity (Chutes); retry later."""


class InternalServerError(APIStatusError):
    """HTTP 5xx: the provider failed."""


_CONTEXT_MARKERS = (
    "maximum context length",
    "context length",
    "context_length_exceeded",
    "prompt is too long",
    "exceeds the context window",
    "too many tokens",
)


def parse_error_body(body: Any) -> tuple[str | None, str | int | None, str | None]:
    """Extract ``(message, code, quota_reset)`` from any provider error body.

    Handles vLLM's nested ``{"error": {"message", "type", "code"}}`` (v0.10.1+), vLLM's legacy flat
    ``{"object": "error", "message", ...}``, FastAPI's ``{"detail": "..."}`` and
    ``{"detail": {"message", "quota_reset_timestamp"}}`` (Chutes), an OpenAI-style string
    ``{"error": "..."}``, raw text, and an empty body.
    """
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        text = body.strip()
        if not text:
            return None, None, None
        try:
            body = json.loads(text)
        except ValueError:
            return text, None, None
    if not isinstance(body, Mapping):
        return (str(body) if body is not None else None), None, None
    if "error" in body:
        inner = body["error"]
        if isinstance(inner, Mapping):
            return _str_or_none(inner.get("message")), _code(inner), None
        return _str_or_none(inner), None, None
    if body.get("object") == "error" or ("message" in body and "detail" not in body):
        return _str_or_none(body.get("message")), _code(body), None
    detail = body.get("detail")
    if isinstance(detail, Mapping):
        reset = detail.get("quota_reset_timestamp")
        message = detail.get("message") or detail.get("error") or json.dumps(dict(detail))
        return str(message), _code(detail), (str(reset) if reset is not None else None)
    if isinstance(detail, list):  # FastAPI validation errors
        return "; ".join(str(d.get("msg", d)) if isinstance(d, Mapping) else str(d) for d in detail), None, None
    return _str_or_none(detail), None, None


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _code(source: Mapping[str, Any]) -> str | int | None:
    code = source.get("code")
    if code is None:
        code = source.get("type")
    return code if isinstance(code, (str, int)) else None


MAX_RETRY_AFTER_S = 120.0
"""Cap on :attr:`APIError.retry_after`: the longest server-directed wait the ``openai`` SDK honours
between its own retries (it raises at once on a longer one), so no caller is told to sleep longer."""


def _seconds(value: str) -> float | None:
    """A ``Retry-After`` value in seconds: delta-seconds (floats tolerated) or an HTTP-date."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        when = when.replace(tzinfo=timezone.utc)
    return (when - datetime.now(timezone.utc)).total_seconds()


def _parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """``retry-after-ms``, else ``retry-after`` (seconds or HTTP-date), clamped to ``[0, MAX_RETRY_AFTER_S]``.

    A value that is not a number (``NaN``, garbage) counts as absent; negative and past dates mean
    "now" (0); absurdly large or infinite ones are clamped, never passed on as they came.
    """
    if not headers:
        return None
    for name, to_seconds in (("retry-after-ms", _milliseconds), ("retry-after", _seconds)):
        value = headers.get(name)
        seconds = to_seconds(value.strip()) if value is not None else None
        if seconds is None or math.isnan(seconds):
            continue
        return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)
    return None


def _milliseconds(value: str) -> float | None:
    try:
        return float(value) / 1000.0
    except ValueError:
        return None


def error_from_response(
    *,
    provider: str,
    status_code: int,
    body: Any,
    headers: Mapping[str, str] | None = None,
    model: str | None = None,
) -> APIStatusError:
    """Build the typed error for an HTTP error answer of ``provider`` to a request for ``model``."""
    message, code, quota_reset = parse_error_body(body)
    if not message:
        if status_code in (401, 403):
            message = (
                "authentication failed (empty error body); check the API key for this provider "
                "and that it is valid for this project"
            )
        else:
            message = f"HTTP {status_code} with an empty error body"
    lowered = message.lower()
    cls: type[APIStatusError]
    if status_code in (400, 413, 422):
        overflow = any(marker in lowered for marker in _CONTEXT_MARKERS)
        cls = ContextLengthExceededError if overflow else BadRequestError
    elif status_code in (401, 403):
        cls = AuthenticationError
    elif status_code == 402:
        cls = QuotaExceededError
    elif status_code == 404:
        cls = NotFoundError
    elif status_code == 429:
        cls = RateLimitError
    elif status_code >= 500:
        cls = InternalServerError
    else:
        cls = APIStatusError
    request_id = None
    if headers:
        request_id = headers.get("x-request-id") or headers.get("x-chutes-invocationid")
    return cls(
        message,
        provider=provider,
        model=model,
        status_code=status_code,
        code=code,
        retry_after=_parse_retry_after(headers),
        quota_reset=quota_reset,
        body=body,
        request_id=request_id,
    )


class ProviderCapabilityError(CapabilityError, BadRequestError):
    """The provider refused a request because the model lacks a capability.

    Both a :class:`CapabilityError` (so one ``except`` covers refusals before and after sending) and
    a :class:`BadRequestError` carrying the provider's status and message (so retry and fallback
    filters that look at :class:`APIStatusError` see a non-retryable 4xx, and a fallback to a model
    that has the capability can trigger on it).
    """

    def __init__(self, message: str, *, capability: str, alternatives: Sequence[str] = (), **api: Any) -> None:
        self.capability = capability
        """``"tools"``, ``"image_input"`` or ``"embeddings"``."""
        self.alternatives = tuple(alternatives)
        """Routing names of catalog models of the same provider that have the capability."""
        super().__init__(message, **api)  # ``model`` stays the id sent on the wire, as on every APIError


# Texts of "capability missing" answers: vLLM's OpenAI server (tool parser not enabled; pooling API
# on a generative model; images to a text-only model) and common gateway phrasings.
_CAPABILITY_MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("tools", ("tool choice requires --enable-auto-tool-choice", "does not support tool", "tools are not supported")),
    ("embeddings", ("does not support embeddings api", "does not support the embeddings api")),
    (
        "image_input",
        (
            "is not a multimodal model",
            "does not support image",
            "images are not supported",
            "image input is not supported",
        ),
    ),
)
_CAPABILITY_TEXT = {
    "tools": "tool calling",
    "embeddings": "the embeddings API",
    "image_input": "image input",
}


def missing_capability(message: str | None) -> str | None:
    """The capability a provider message says is missing (``"tools"``, ...), or ``None``."""
    if not message:
        return None
    lowered = message.lower()
    for capability, markers in _CAPABILITY_MARKERS:
        if any(marker in lowered for marker in markers):
            return capability
    return None


def as_capability_error(
    error: APIStatusError, *, model: str, alternatives_for: Callable[[str], Sequence[str]]
) -> APIStatusError:
    """``error`` as a :class:`ProviderCapabilityError` when it means "capability missing", else itself.

    ``model`` is the routing name used in the message; ``alternatives_for(capability)`` names catalog
    models that have the capability.
    """
    status = error.status_code or 0
    capability = missing_capability(error.message)
    if capability is None or not (400 <= status < 500 or status == 501):
        return error
    alternatives = tuple(alternatives_for(capability))
    others = ", ".join(alternatives) or "none known"
    message = (
        f"Model {model!r} does not support {_CAPABILITY_TEXT[capability]} (the provider answered: "
        f"{error.message}). Models of {error.provider} that do: {others}."
    )
    return ProviderCapabilityError(
        message,
        capability=capability,
        alternatives=alternatives,
        provider=error.provider,
        model=error.model,
        status_code=error.status_code,
        code=error.code,
        retry_after=error.retry_after,
        quota_reset=error.quota_reset,
        body=error.body,
        request_id=error.request_id,
    )
