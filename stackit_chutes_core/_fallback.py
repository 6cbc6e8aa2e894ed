"""Fallbacks across models and providers: one policy for both frameworks.

A chat call with fallback models tries the primary model, then each fallback in order, when the
failure is one another model may not have: capacity or rate limits left after the retries (429),
an exhausted quota (402), a server error (5xx), a model the provider does not serve right now (404:
Chutes answers a cold chute with "No matching cord found!"), or a connection failure or timeout.
A bad request (400, including context overflow) or an authentication failure (401/403) is raised
at once: another model would fail the same way or hide a configuration error. A stream falls back
only before its first event; once text has reached the caller, an error is raised.

Each attempt builds its own endpoint, so each provider gets its own key (an explicit key stays with
the provider it was given for).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator, Iterator, Sequence
from typing import TypeVar

from stackit_chutes_core.errors import (
    APIConnectionError,
    InternalServerError,
    NotFoundError,
    QuotaExceededError,
    RateLimitError,
    StackitChutesError,
)

__all__ = [
    "FALLBACK_ERRORS",
    "achat_with_fallbacks",
    "astream_with_fallbacks",
    "chat_with_fallbacks",
    "stream_with_fallbacks",
]

logger = logging.getLogger("stackit_chutes")

FALLBACK_ERRORS: tuple[type[StackitChutesError], ...] = (
    RateLimitError,
    QuotaExceededError,
    InternalServerError,
    NotFoundError,
    APIConnectionError,
)
"""The errors after which the next fallback model is tried (timeouts are ``APIConnectionError``\\ s)."""

_T = TypeVar("_T")


def _models(primary: str, fallbacks: Sequence[str]) -> list[str]:
    return [primary, *(model for model in fallbacks if model != primary)]


def _give_up(exc: BaseException, model: str, attempts: list[str], remaining: int) -> bool:
    """Whether ``exc`` from ``model`` ends the call; logs the switch otherwise."""
    attempts.append(f"{model}: {type(exc).__name__}: {exc}")
    if not isinstance(exc, FALLBACK_ERRORS) or remaining == 0:
        if len(attempts) > 1 and hasattr(exc, "add_note"):
            exc.add_note("Models tried in order:\n  " + "\n  ".join(attempts))
        return True
    logger.warning("%s failed (%s); falling back to the next model.", model, type(exc).__name__)
    return False


def chat_with_fallbacks(primary: str, fallbacks: Sequence[str], call: Callable[[str], _T]) -> _T:
    """``call(model)`` for the primary model, then each fallback after a :data:`FALLBACK_ERRORS` error."""
    models = _models(primary, fallbacks)
    attempts: list[str] = []
    for position, model in enumerate(models):
        try:
            return call(model)
        except StackitChutesError as exc:
            if _give_up(exc, model, attempts, len(models) - position - 1):
                raise
    raise AssertionError("unreachable: the last model either answers or raises")


async def achat_with_fallbacks(primary: str, fallbacks: Sequence[str], call: Callable[[str], Awaitable[_T]]) -> _T:
    """Async :func:`chat_with_fallbacks`."""
    models = _models(primary, fallbacks)
    attempts: list[str] = []
    for position, model in enumerate(models):
        try:
            return await call(model)
        except StackitChutesError as exc:
            if _give_up(exc, model, attempts, len(models) - position - 1):
                raise
    raise AssertionError("unreachable: the last model either answers or raises")


def stream_with_fallbacks(
    primary: str, fallbacks: Sequence[str], start: Callable[[str], Iterator[_T]]
) -> Generator[_T, None, None]:
    """Stream from the first model that produces a first event; later errors are raised as they come."""
    models = _models(primary, fallbacks)
    attempts: list[str] = []
    for position, model in enumerate(models):
        stream = start(model)
        try:
            first = next(stream)
        except StopIteration:
            return
        except StackitChutesError as exc:
            if _give_up(exc, model, attempts, len(models) - position - 1):
                raise
            continue
        yield first
        yield from stream
        return


async def astream_with_fallbacks(
    primary: str, fallbacks: Sequence[str], start: Callable[[str], AsyncIterator[_T]]
) -> AsyncGenerator[_T, None]:
    """Async :func:`stream_with_fallbacks`."""
    models = _models(primary, fallbacks)
    attempts: list[str] = []
    for position, model in enumerate(models):
        stream = start(model)
        try:
            first = await anext(stream)
        except StopAsyncIteration:
            return
        except StackitChutesError as exc:
            if _give_up(exc, model, attempts, len(models) - position - 1):
                raise
            continue
        yield first
        async for item in stream:
            yield item
        return
