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
    │       └── InvalidParameterError       a call parameter that cannot be sent (also a ValueError)
    └── APIError                            the provider did not answer as asked
        ├── APIConnectionError              network failure; APITimeoutError is a subclass
        ├── StreamError                     a stream broke off or carried an error event
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
``code``, the ``retry_after`` delay in seconds and Chutes' ``quota_reset`` timestamp. The
provider bodies come in four shapes (vLLM nested ``{"error": {...}}``, vLLM legacy flat
``{"object": "error", ...}``, FastAPI ``{"detail": str | {...}}`` and empty), all parsed by
:func:`error_from_response`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
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
    "InvalidParameterError",
    "MissingAPIKeyError",
    "NotFoundError",
    "ProviderCapabilityError",
    "QuotaExceededError",
    "RateLimitError",
    "StackitChutesError",
    "StreamError",
    "UnknownProviderError",
    "as_capability_error",
    "error_from_response",
    "missing_capability",
    "parse_error_body",
]


class StackitChutesError(Exception):
    """Base class of every error this package raises."""


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


class InvalidParameterError(InvalidInputError, ValueError):
    """A call parameter that cannot be sent (an unknown ``tool_choice`` form, a tool name that is not bound).

    Also a ``ValueError``, as framework users expect of bad call arguments.
    """


class APIError(StackitChutesError):
    """The provider did not answer as asked."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status_code: int | None = None,
        code: str | int | None = None,
        retry_after: float | None = None,
        quota_reset: str | None = None,
        body: Any = None,
        request_id: str | None = None,
    ) -> None:
        self.message = message
        self.provider = provider
        self.status_code = status_code
        self.code = code
        self.retry_after = retry_after
        self.quota_reset = quota_reset
        self.body = body
        self.request_id = request_id
        status = f" {status_code}" if status_code is not None else ""
        super().__init__(f"[{provider}{status}] {message}")


class APIConnectionError(APIError):
    """The request never got an answer (DNS, refused connection, reset, ...)."""


class APITimeoutError(APIConnectionError):
    """The request timed out; raise ``timeout`` or retry later."""


class StreamError(APIError):
    """A streamed response broke off or carried an error event mid-stream."""


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
    ) -> None:
        self.failures = dict(failures)
        self.partial = list(partial)
        detail = "; ".join(f"item {i}: {exc}" for i, exc in sorted(self.failures.items()))
        super().__init__(
            f"{len(self.failures)} of {len(self.partial)} embedding items failed: {detail}",
            provider=provider,
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


def _parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    if not headers:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return float(value) * scale
        except ValueError:
            continue
    return None


def error_from_response(
    *,
    provider: str,
    status_code: int,
    body: Any,
    headers: Mapping[str, str] | None = None,
) -> APIStatusError:
    """Build the typed error for an HTTP error answer of ``provider``."""
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

    def __init__(
        self, message: str, *, capability: str, model: str, alternatives: Sequence[str] = (), **api: Any
    ) -> None:
        self.capability = capability
        """``"tools"``, ``"image_input"`` or ``"embeddings"``."""
        self.model = model
        """The routing string of the model that refused."""
        self.alternatives = tuple(alternatives)
        """Catalog models of the same provider that have the capability."""
        super().__init__(message, **api)


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

    ``alternatives_for(capability)`` names catalog models that have the capability (for the message).
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
        model=model,
        alternatives=alternatives,
        provider=error.provider,
        status_code=error.status_code,
        code=error.code,
        retry_after=error.retry_after,
        quota_reset=error.quota_reset,
        body=error.body,
        request_id=error.request_id,
    )
