"""Client-side pacing: requests- and tokens-per-minute budgets per (provider, key, model).

STACKIT limits every project per model (requests and tokens per minute; tokens = prompt + 5 x
generated); Chutes answers 429s without ``Retry-After``. Fanning bulk work out at a fixed concurrency
and relying on retries produces 429 storms, so the core paces itself:

* **Budgets** come from :func:`set_rate_limits` (the adapters' ``requests_per_minute=`` /
  ``tokens_per_minute=``) or from the catalog row's ``rate_limits`` when it has them (not with
  ``STACKIT_CHUTES_RATE_LIMITS=off``); unknown means off (no pacing, the SDK's own retries as before).
* **One limiter per (provider, key hash, model)**, shared by every object in the process using
  them; thread-safe; async waits are ``asyncio.sleep`` (the loop never blocks); reset in forked
  children.
* **Smooth, not bursty**: a request waits for its slot in two buckets that refill at
  :data:`UTILISATION` x budget and hold no burst (a slot is reserved, possibly in the future, and
  the caller sleeps until then), so no sliding window on the server sees more than the budget.
* **Adaptive**: each 429 (with or without ``Retry-After``) cuts the pace by 5 % and the request is
  retried through the limiter (its slot refunded: a rejected request was not counted), waiting
  ``Retry-After`` when given; each success restores a tenth of the gap to full pace. Isolated 429s
  (Chutes' capacity answers) thus cost a few percent; a wrong budget converges within a few dozen
  429s. ``x-ratelimit-remaining-requests/-tokens`` at 0 slow down the same way.
* Token costs are estimated before sending (characters / 4; chat: plus 5 x the output limit) and
  corrected from the answer's ``usage``.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import os
import random
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from stackit_chutes_core.errors import (
    APIConnectionError,
    ConfigurationError,
    InternalServerError,
    RateLimitError,
)
from stackit_chutes_core.routing import Endpoint

__all__ = [
    "RateLimiter",
    "Budget",
    "apace",
    "catalog_limits",
    "configure_rate_limits",
    "limiter_for",
    "pace",
    "reset_limiters",
    "set_rate_limits",
    "watch_rate_limit_headers",
]

UTILISATION = 0.98
"""Share of a budget the limiter aims at (headroom for clock skew between client and server)."""
OUTPUT_TOKEN_WEIGHT = 5
"""STACKIT counts generated tokens five times against tokens-per-minute."""
MAX_RATE_LIMITED_RETRIES = 20
"""429 answers retried per request while a limiter paces it (each retry waits for a new slot);
none with ``max_retries=0``."""
_DECREASE = 0.95
_RECOVER = 0.1
_MIN_FACTOR = 0.05
_R = TypeVar("_R")


@dataclass(frozen=True, slots=True)
class Budget:
    """Budgets of one (provider, key, model); ``None`` means no limit on that resource."""

    requests_per_minute: float | None = None
    """Requests per minute."""
    tokens_per_minute: float | None = None
    """Tokens per minute (STACKIT: prompt + 5 x generated)."""

    def __post_init__(self) -> None:
        for name in ("requests_per_minute", "tokens_per_minute"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
                raise ConfigurationError(f"{name} must be a positive number or None, got {value!r}.")

    @property
    def active(self) -> bool:
        """Whether any budget is set."""
        return self.requests_per_minute is not None or self.tokens_per_minute is not None

    def share(self, workers: int) -> Budget:
        """``1/workers`` of each budget (one of ``workers`` processes sharing a key)."""
        if workers < 1:
            raise ConfigurationError(f"workers must be >= 1, got {workers!r}.")
        return Budget(
            self.requests_per_minute / workers if self.requests_per_minute else None,
            self.tokens_per_minute / workers if self.tokens_per_minute else None,
        )


class _Bucket:
    """GCRA: each request starts when the previous ones' cost has drained at the budget's pace."""

    __slots__ = ("rate", "tat")

    def __init__(self, per_minute: float) -> None:
        self.rate = per_minute / 60.0
        self.tat = 0.0  # theoretical arrival time of the next request (monotonic seconds)

    def reserve(self, cost: float, factor: float, now: float) -> float:
        start = max(now, self.tat)
        # One huge request waits a minute at most (it cannot be split, and the server decides).
        self.tat = start + min(cost, self.rate * 60) / (self.rate * UTILISATION * factor)
        return start - now

    def refund(self, cost: float) -> None:
        """Give back ``cost`` (negative: take more), never earlier than now."""
        self.tat = max(time.monotonic(), self.tat - cost / (self.rate * UTILISATION))


class RateLimiter:
    """Paces the requests of one (provider, key, model); see the module docstring."""

    def __init__(self, limits: Budget) -> None:
        self._lock = threading.Lock()
        self.limits = limits
        self.factor = 1.0
        """Current share of the budget in use (1.0 = full pace; lowered by 429s)."""
        self.rate_limited = 0
        """429 answers seen."""
        self._paused_until = 0.0
        self._requests = _Bucket(limits.requests_per_minute) if limits.requests_per_minute else None
        self._tokens = _Bucket(limits.tokens_per_minute) if limits.tokens_per_minute else None

    def reserve(self, tokens: int) -> float:
        """Take a slot for one request of about ``tokens`` tokens; returns the seconds to wait for it."""
        with self._lock:
            now = time.monotonic()
            wait = max(0.0, self._paused_until - now)
            if self._requests is not None:
                wait = max(wait, self._requests.reserve(1, self.factor, now))
            if self._tokens is not None:
                wait = max(wait, self._tokens.reserve(tokens, self.factor, now))
            return wait

    def acquire(self, tokens: int) -> None:
        """Block this thread until a slot for one request is free."""
        wait = self.reserve(tokens)
        if wait > 0:
            time.sleep(wait)

    async def aacquire(self, tokens: int) -> None:
        """Wait (without blocking the event loop) until a slot for one request is free."""
        wait = self.reserve(tokens)
        if wait > 0:
            await asyncio.sleep(wait)

    def succeeded(self, estimated: int, actual: int | None) -> None:
        """A request went through: recover pace; settle the token estimate against the usage."""
        with self._lock:
            self.factor += (1.0 - self.factor) * _RECOVER
            if self._tokens is not None and actual is not None and actual != estimated:
                self._tokens.refund(estimated - actual)  # negative: more debt

    def rejected(self, tokens: int, retry_after: float | None) -> None:
        """A 429: slow down, give the slot back, and pause everyone for ``Retry-After`` when given."""
        with self._lock:
            self.rate_limited += 1
            self._slow_down()
            if self._requests is not None:
                self._requests.refund(1)
            if self._tokens is not None:
                self._tokens.refund(tokens)
            if retry_after:
                self._paused_until = max(self._paused_until, time.monotonic() + min(retry_after, 120.0))

    def observe_headers(self, headers: Mapping[str, str]) -> None:
        """``x-ratelimit-remaining-requests/-tokens`` at 0: slow down before the 429 comes."""
        for name in ("x-ratelimit-remaining-requests", "x-ratelimit-remaining-tokens"):
            value = headers.get(name)
            if value is not None and value.strip() in ("0", "0.0"):
                with self._lock:
                    self._slow_down()
                return

    def _slow_down(self) -> None:
        self.factor = max(_MIN_FACTOR, self.factor * _DECREASE)


# -- the registry ---------------------------------------------------------------------------

_registry_lock = threading.Lock()
_configured: dict[tuple[str, str, str], Budget] = {}
_limiters: dict[tuple[str, str, str], RateLimiter] = {}


def _key(endpoint: Endpoint) -> tuple[str, str, str]:
    digest = hashlib.sha256(endpoint.api_key.get_secret_value().encode()).hexdigest()[:16]
    return endpoint.provider, digest, endpoint.model_id


def catalog_limits(endpoint: Endpoint) -> Budget | None:
    """The catalog row's documented budgets, when the row carries them (``rate_limits``).

    ``STACKIT_CHUTES_RATE_LIMITS=off`` ignores them (explicit budgets still apply): for a quota
    above the documented one, or for replays and emulators that answer at once.
    """
    if os.environ.get("STACKIT_CHUTES_RATE_LIMITS", "").strip().lower() in ("off", "0", "false", "no"):
        return None
    info = endpoint.route.info
    raw = getattr(info, "rate_limits", None) if info is not None else None
    if raw is None:
        return None

    def get(name: str) -> Any:
        return raw.get(name) if isinstance(raw, Mapping) else getattr(raw, name, None)

    limits = Budget(get("requests_per_minute"), get("tokens_per_minute"))
    return limits if limits.active else None


def set_rate_limits(
    endpoint: Endpoint, requests_per_minute: float | None = None, tokens_per_minute: float | None = None
) -> None:
    """Set the budgets of ``endpoint``'s (provider, key, model) for this process (last call wins).

    Every object using the same key and model shares them. Both ``None``: back to the catalog's
    budgets (or none).
    """
    limits = Budget(requests_per_minute, tokens_per_minute)
    key = _key(endpoint)
    with _registry_lock:
        if _configured.get(key) == (limits if limits.active else None):
            return
        if limits.active:
            _configured[key] = limits
        else:
            _configured.pop(key, None)
        _limiters.pop(key, None)  # the next request builds one with the new budgets


def configure_rate_limits(
    endpoint: Endpoint, requests_per_minute: float | None, tokens_per_minute: float | None
) -> None:
    """:func:`set_rate_limits` when either budget is given (an object's constructor fields); else nothing."""
    if requests_per_minute is not None or tokens_per_minute is not None:
        set_rate_limits(endpoint, requests_per_minute, tokens_per_minute)


def limiter_for(endpoint: Endpoint) -> RateLimiter | None:
    """The shared limiter of ``endpoint``'s (provider, key, model); ``None`` when no budget is known."""
    key = _key(endpoint)
    limiter = _limiters.get(key)
    if limiter is not None:
        return limiter
    limits = _configured.get(key) or catalog_limits(endpoint)
    if limits is None:
        return None
    with _registry_lock:
        return _limiters.setdefault(key, RateLimiter(limits))


def reset_limiters() -> None:
    """Forget every limiter and configured budget (tests; forked children)."""
    global _registry_lock
    _registry_lock = threading.Lock()  # a fork may have copied it locked
    _configured.clear()
    _limiters.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=reset_limiters)


# -- the hook where the core sends requests --------------------------------------------------

_current: contextvars.ContextVar[RateLimiter | None] = contextvars.ContextVar("stackit_chutes_limiter", default=None)


def estimate_tokens(body: Mapping[str, Any]) -> int:
    """Tokens a request will count, before sending: ~4 characters a token, plus 5 x the output limit."""
    chars = 0
    for value in body.get("input") or ():
        chars += len(value) if isinstance(value, str) else 0
    for message in body.get("messages") or ():
        content = message.get("content") if isinstance(message, Mapping) else None
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, Mapping):
                    chars += len(part.get("text") or "") + (1024 * 4 if part.get("type") == "image_url" else 0)
    output = body.get("max_completion_tokens") or body.get("max_tokens") or 0
    return chars // 4 + 1 + OUTPUT_TOKEN_WEIGHT * int(output if isinstance(output, int) else 0)


def _actual_tokens(result: Any) -> int | None:
    usage = result.get("usage") if isinstance(result, Mapping) else None
    if not isinstance(usage, Mapping):
        return None
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens") or 0
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    return prompt + OUTPUT_TOKEN_WEIGHT * completion


def _retry_delay(attempt: int) -> float:
    return float(min(8.0, 0.5 * 2**attempt) * (0.75 + random.random() / 2))


def _decide(
    endpoint: Endpoint, limiter: RateLimiter, tokens: int, exc: Exception, *, attempt: int, other: int
) -> float:
    """After a failed attempt: the delay before retrying it, or re-raise."""
    if isinstance(exc, RateLimitError):
        limiter.rejected(tokens, exc.retry_after)
        if endpoint.max_retries == 0 or attempt >= MAX_RATE_LIMITED_RETRIES:  # max_retries=0: never retry
            raise exc
        return 0.0  # the next slot from the (slowed) limiter is the delay
    if isinstance(exc, (InternalServerError, APIConnectionError)) and other < endpoint.max_retries:
        return _retry_delay(other)
    raise exc


_NO_SDK_RETRIES = {"max_retries": 0}


def pace(endpoint: Endpoint, body: Mapping[str, Any], send: Callable[[Mapping[str, Any]], _R]) -> _R:
    """``send(extra_options)`` paced by ``endpoint``'s limiter, retrying 429s through it.

    Without a limiter: one plain ``send({})`` (the SDK retries as configured). With one: the SDK's
    retries are off for the request and done here (429s through the limiter; 5xx and connection
    errors up to ``endpoint.max_retries`` with backoff).
    """
    limiter = limiter_for(endpoint)
    if limiter is None:
        return send({})
    tokens = estimate_tokens(body)
    attempt = other = 0
    token = _current.set(limiter)
    try:
        while True:
            limiter.acquire(tokens)
            try:
                result = send(_NO_SDK_RETRIES)
            except Exception as exc:
                delay = _decide(endpoint, limiter, tokens, exc, attempt=attempt, other=other)
                attempt, other = (attempt + 1, other) if isinstance(exc, RateLimitError) else (attempt, other + 1)
                if delay:
                    time.sleep(delay)
                continue
            limiter.succeeded(tokens, _actual_tokens(result))
            return result
    finally:
        _current.reset(token)


async def apace(endpoint: Endpoint, body: Mapping[str, Any], send: Callable[[Mapping[str, Any]], Awaitable[_R]]) -> _R:
    """Async :func:`pace`."""
    limiter = limiter_for(endpoint)
    if limiter is None:
        return await send({})
    tokens = estimate_tokens(body)
    attempt = other = 0
    token = _current.set(limiter)
    try:
        while True:
            await limiter.aacquire(tokens)
            try:
                result = await send(_NO_SDK_RETRIES)
            except Exception as exc:
                delay = _decide(endpoint, limiter, tokens, exc, attempt=attempt, other=other)
                attempt, other = (attempt + 1, other) if isinstance(exc, RateLimitError) else (attempt, other + 1)
                if delay:
                    await asyncio.sleep(delay)
                continue
            limiter.succeeded(tokens, _actual_tokens(result))
            return result
    finally:
        _current.reset(token)


def _observe(response: Any) -> None:
    """Feed a response's rate-limit headers to the limiter pacing the current request, if any."""
    limiter = _current.get()
    if limiter is not None:
        limiter.observe_headers(response.headers)


async def _aobserve(response: Any) -> None:
    _observe(response)


def watch_rate_limit_headers(client: Any) -> None:
    """Have ``client``'s httpx client report every response's headers to the current limiter.

    The hook runs in the request's thread / task, where :func:`pace` set the limiter; it does
    nothing for requests no limiter paces.
    """
    http: Any = getattr(client, "_client", None)
    hooks = getattr(http, "event_hooks", None)
    if not isinstance(hooks, dict):
        return
    hook = _aobserve if hasattr(http, "aclose") else _observe  # httpx.AsyncClient wants coroutines
    responses = list(hooks.get("response", []))
    if hook not in responses:
        http.event_hooks = {**hooks, "response": [*responses, hook]}
