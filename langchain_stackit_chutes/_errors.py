r"""Core errors re-raised as classes that are also langchain-core's ``Model*Error`` types.

Every provider error keeps its :mod:`stackit_chutes_core.errors` class (and all its attributes:
``provider``, ``status_code``, ``code``, ``retry_after``, ``quota_reset`` ...) and gains the matching
:mod:`langchain_core.exceptions` class, so code catching either keeps working. In particular a prompt
that exceeds the context window raises :class:`StackitChutesContextOverflowError`, an
``langchain_core.exceptions.ContextOverflowError``, which is what LangChain middleware such as
``SummarizationMiddleware`` reacts to.

Configuration errors (missing key, unknown provider, capability refusals) are raised before any
request and pass through unchanged. They are deliberately not ``ValueError`` subclasses, so that
pydantic does not wrap them into a ``ValidationError`` when a model is constructed; call-time
parameter and input errors (``InvalidParameterError``, ``InvalidInputValueError``) are
``ValueError`` subclasses, and ``InvalidInputTypeError`` is a ``TypeError``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelRateLimitError,
    ModelTimeoutError,
)

from stackit_chutes_core import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ContextLengthExceededError,
    InternalServerError,
    InvalidResponseError,
    NotFoundError,
    ProviderCapabilityError,
    QuotaExceededError,
    RateLimitError,
    ResponseTooLargeError,
    StreamError,
)

__all__ = [
    "StackitChutesAPIError",
    "StackitChutesAuthenticationError",
    "StackitChutesBadRequestError",
    "StackitChutesCapabilityError",
    "StackitChutesConnectionError",
    "StackitChutesContextOverflowError",
    "StackitChutesInternalServerError",
    "StackitChutesInvalidResponseError",
    "StackitChutesNotFoundError",
    "StackitChutesQuotaExceededError",
    "StackitChutesRateLimitError",
    "StackitChutesResponseTooLargeError",
    "StackitChutesStreamError",
    "StackitChutesTimeoutError",
    "agen_with_langchain_errors",
    "call_with_langchain_errors",
    "gen_with_langchain_errors",
    "to_langchain_error",
]


class StackitChutesContextOverflowError(ContextLengthExceededError, ContextOverflowError):
    """The prompt exceeds the model's context window (HTTP 400 "maximum context length")."""


class StackitChutesBadRequestError(BadRequestError, ModelInvalidRequestError):
    """HTTP 400/422: the provider rejected the request."""


class StackitChutesCapabilityError(ProviderCapabilityError, ModelInvalidRequestError):
    """HTTP 400: the provider refused because the model lacks a capability (tools, images, ...)."""


class StackitChutesAuthenticationError(AuthenticationError, ModelAuthenticationError):
    """HTTP 401/403: the key is missing, wrong, or not valid for this provider."""


class StackitChutesQuotaExceededError(QuotaExceededError, ModelError):
    """HTTP 402 (Chutes): balance or daily quota exhausted; retrying does not help until ``quota_reset``."""

    is_retryable = False


class StackitChutesNotFoundError(NotFoundError, ModelNotFoundError):
    """HTTP 404: usually a model id this provider does not serve."""


class StackitChutesRateLimitError(RateLimitError, ModelRateLimitError):
    """HTTP 429: rate limit (STACKIT) or capacity (Chutes); retry later (see ``retry_after``)."""


class StackitChutesInternalServerError(InternalServerError, ModelAPIError):
    """HTTP 5xx: the provider failed."""


class StackitChutesAPIError(APIStatusError, ModelAPIError):
    """Any other HTTP error status."""


class StackitChutesStreamError(StreamError, ModelAPIError):
    """A stream broke off or carried an error event."""


class StackitChutesInvalidResponseError(InvalidResponseError, ModelAPIError):
    """A 200 answer that is no usable answer (malformed JSON, wrong types, ragged embeddings...)."""


class StackitChutesResponseTooLargeError(ResponseTooLargeError, ModelAPIError):
    """The answer exceeded ``max_response_bytes``."""


class StackitChutesTimeoutError(APITimeoutError, ModelTimeoutError):
    """The request timed out."""


class StackitChutesConnectionError(APIConnectionError, ModelConnectionError):
    """The provider could not be reached."""


# Most specific core class first: the first match along the raised error's MRO wins.
_MAPPING: dict[type[APIError], type[APIError]] = {
    ContextLengthExceededError: StackitChutesContextOverflowError,
    ProviderCapabilityError: StackitChutesCapabilityError,
    BadRequestError: StackitChutesBadRequestError,
    AuthenticationError: StackitChutesAuthenticationError,
    QuotaExceededError: StackitChutesQuotaExceededError,
    NotFoundError: StackitChutesNotFoundError,
    RateLimitError: StackitChutesRateLimitError,
    InternalServerError: StackitChutesInternalServerError,
    APIStatusError: StackitChutesAPIError,
    StreamError: StackitChutesStreamError,
    InvalidResponseError: StackitChutesInvalidResponseError,
    ResponseTooLargeError: StackitChutesResponseTooLargeError,
    APITimeoutError: StackitChutesTimeoutError,
    APIConnectionError: StackitChutesConnectionError,
}


def to_langchain_error(exc: BaseException) -> BaseException:
    """The LangChain-typed twin of a core API error (other exceptions are returned unchanged)."""
    if not isinstance(exc, APIError) or isinstance(exc, ModelError):
        return exc
    for klass in type(exc).__mro__:
        target = _MAPPING.get(klass)
        if target is not None:
            twin = target.__new__(target, *exc.args)
            twin.__dict__.update(vars(exc))
            return twin
    return exc


_T = TypeVar("_T")


def call_with_langchain_errors(func: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Call ``func`` and re-raise core API errors as their LangChain-typed twins."""
    try:
        return func(*args, **kwargs)
    except APIError as exc:
        raise to_langchain_error(exc) from exc


def gen_with_langchain_errors(iterator: Iterator[_T]) -> Iterator[_T]:
    """Iterate ``iterator``, re-raising core API errors as their LangChain-typed twins."""
    try:
        yield from iterator
    except APIError as exc:
        raise to_langchain_error(exc) from exc


async def agen_with_langchain_errors(iterator: AsyncIterator[_T]) -> AsyncIterator[_T]:
    """Async :func:`gen_with_langchain_errors`."""
    try:
        async for item in iterator:
            yield item
    except APIError as exc:
        raise to_langchain_error(exc) from exc
