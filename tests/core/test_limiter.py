"""The rate limiter: pacing math, adaptation, sharing, threads, asyncio, fork, and end to end."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Iterator

import httpx2
import pytest

from stackit_chutes_core import ConfigurationError, RateLimitError, _limiter, embed_texts, resolve_endpoint
from stackit_chutes_core._embeddings import aembed_texts
from stackit_chutes_core._limiter import Budget, RateLimiter, limiter_for, reset_limiters, set_rate_limits
from tests._http import Recorder, json_response
from tests.ratelimited_server import RateLimitedServer

E5 = "stackit/intfloat/e5-mistral-7b-instruct"


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    reset_limiters()
    yield
    reset_limiters()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(_limiter.time, "monotonic", fake)
    return fake


def test_requests_are_spaced_at_the_budget_without_bursts(clock: FakeClock) -> None:
    limiter = RateLimiter(Budget(requests_per_minute=600))  # 10/s
    waits = [limiter.reserve(0) for _ in range(5)]
    step = 1 / (10 * _limiter.UTILISATION)
    assert waits[0] == 0
    assert waits[1:] == pytest.approx([step, 2 * step, 3 * step, 4 * step])
    clock.now += 100  # idle time does not build up a burst
    assert limiter.reserve(0) == 0
    assert limiter.reserve(0) == pytest.approx(step)


def test_tokens_budget_paces_by_cost(clock: FakeClock) -> None:
    limiter = RateLimiter(Budget(tokens_per_minute=6000))  # 100 tokens/s
    pace = 100 * _limiter.UTILISATION
    assert limiter.reserve(50) == 0  # the first request goes at once
    assert limiter.reserve(100) == pytest.approx(50 / pace)  # after the first one's 50 tokens drained
    limiter.succeeded(100, 10)  # the answer's usage was much lower: the 90 tokens come back
    assert limiter.reserve(1) == pytest.approx(60 / pace)


def test_429_slows_down_and_success_recovers(clock: FakeClock) -> None:
    limiter = RateLimiter(Budget(requests_per_minute=600))
    for _ in range(10):
        limiter.rejected(0, None)
    assert limiter.factor == pytest.approx(0.95**10)
    assert limiter.rate_limited == 10
    for _ in range(60):
        limiter.succeeded(0, None)
    assert limiter.factor > 0.99
    limiter.rejected(0, retry_after=3.0)  # Retry-After pauses every request
    assert limiter.reserve(0) >= 3.0


def test_random_429s_cost_only_a_few_percent(clock: FakeClock) -> None:
    limiter = RateLimiter(Budget(requests_per_minute=600))
    for i in range(2000):  # one 429 in twenty, like Chutes' capacity answers
        if i % 20 == 0:
            limiter.rejected(0, None)
        else:
            limiter.succeeded(0, None)
    assert limiter.factor > 0.95


def test_remaining_zero_header_slows_down() -> None:
    limiter = RateLimiter(Budget(requests_per_minute=600))
    limiter.observe_headers({"x-ratelimit-remaining-requests": "12"})
    assert limiter.factor == 1.0
    limiter.observe_headers({"x-ratelimit-remaining-tokens": "0"})
    assert limiter.factor == pytest.approx(0.95)


def test_bad_budgets_are_typed_errors() -> None:
    with pytest.raises(ConfigurationError, match="requests_per_minute must be a positive number"):
        Budget(requests_per_minute=0)
    with pytest.raises(ConfigurationError, match="tokens_per_minute"):
        Budget(tokens_per_minute="many")  # type: ignore[arg-type]
    assert Budget(600, 60000).share(4) == Budget(150, 15000)


def test_catalog_budgets_are_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STACKIT_CHUTES_RATE_LIMITS", raising=False)
    limiter = limiter_for(resolve_endpoint(E5, api_key="k", purpose="embeddings"))
    assert limiter is not None and limiter.limits == Budget(600, 200_000)  # STACKIT's documented budgets
    assert limiter_for(resolve_endpoint("chutes/Qwen/Qwen3-Embedding-8B", api_key="k", purpose="embeddings")) is None
    reset_limiters()
    monkeypatch.setenv("STACKIT_CHUTES_RATE_LIMITS", "off")
    assert limiter_for(resolve_endpoint(E5, api_key="k", purpose="embeddings")) is None


def test_shared_per_key_and_model_and_off_when_unknown() -> None:
    a = resolve_endpoint(E5, api_key="key-1", purpose="embeddings")
    b = resolve_endpoint(E5, api_key="key-1", purpose="embeddings", timeout=5)
    other_key = resolve_endpoint(E5, api_key="key-2", purpose="embeddings")
    assert limiter_for(a) is None  # catalog budgets switched off for the suite, nothing configured: off
    set_rate_limits(a, requests_per_minute=600)
    assert limiter_for(a) is limiter_for(b) is not None
    assert limiter_for(other_key) is None
    set_rate_limits(b, requests_per_minute=300)  # last configuration wins, for everyone
    limiter = limiter_for(a)
    assert limiter is not None and limiter.limits.requests_per_minute == 300
    set_rate_limits(a)
    assert limiter_for(b) is None


def test_threads_get_distinct_slots(clock: FakeClock) -> None:
    limiter = RateLimiter(Budget(requests_per_minute=60_000))  # 1000/s
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            wait = limiter.reserve(0)
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    # 400 reservations (clock frozen), none sharing a slot: exactly the slots 0, 1, ..., 399.
    step = 1 / (1000 * _limiter.UTILISATION)
    assert sorted(waits) == pytest.approx([k * step for k in range(400)])


def test_async_waits_do_not_block_the_loop() -> None:
    limiter = RateLimiter(Budget(requests_per_minute=1200))  # 20/s: 6 requests take ~0.25 s

    async def main() -> int:
        ticks = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        await asyncio.gather(*(limiter.aacquire(0) for _ in range(6)))
        done.set()
        await task
        return ticks

    assert asyncio.run(main()) >= 10


def _child(queue: multiprocessing.Queue[int]) -> None:
    queue.put(len(_limiter._limiters) + len(_limiter._configured))


@pytest.mark.skipif(sys.platform == "win32" or not hasattr(os, "fork"), reason="fork start method is POSIX-only")
def test_forked_children_start_without_limiters() -> None:
    endpoint = resolve_endpoint(E5, api_key="k", purpose="embeddings")
    set_rate_limits(endpoint, requests_per_minute=600)
    assert limiter_for(endpoint) is not None
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[int] = context.Queue()
    process = context.Process(target=_child, args=(queue,))
    process.start()
    process.join(30)
    assert queue.get(timeout=5) == 0
    assert limiter_for(endpoint) is not None  # the parent keeps its own


def _answer_with_429s(every: int) -> Recorder:
    count = 0
    lock = threading.Lock()

    def reply(request: httpx2.Request) -> httpx2.Response:
        nonlocal count
        with lock:
            count += 1
            mine = count
        if mine % every == 0:
            return json_response({"detail": "Infrastructure is at maximum capacity, try again later"}, 429)
        body = json.loads(request.content)
        data = [{"index": i, "embedding": [1.0, 2.0]} for i in range(len(body["input"]))]
        return json_response({"data": data, "usage": {"prompt_tokens": 3, "total_tokens": 3}})

    return Recorder(reply)


def test_paced_requests_retry_429s_without_sdk_retries() -> None:
    recorder = _answer_with_429s(every=4)
    endpoint = resolve_endpoint(E5, api_key="k", purpose="embeddings", max_retries=1, http_client=recorder.client())
    set_rate_limits(endpoint, requests_per_minute=60_000)
    result = embed_texts(endpoint, [f"t{i}" for i in range(9)], batch_size=1, max_concurrency=1)
    assert len(result.vectors) == 9
    assert len(recorder.requests) == 11  # 9 answers + 2 rejections (every 4th), no SDK retry on top
    limiter = limiter_for(endpoint)
    assert limiter is not None and limiter.rate_limited == 2


def test_async_paced_requests_retry_429s() -> None:
    recorder = _answer_with_429s(every=3)
    endpoint = resolve_endpoint(
        E5, api_key="k", purpose="embeddings", max_retries=1, http_async_client=recorder.async_client()
    )
    set_rate_limits(endpoint, requests_per_minute=60_000)
    result = asyncio.run(aembed_texts(endpoint, [f"t{i}" for i in range(6)], batch_size=1))
    assert len(result.vectors) == 6
    assert len(recorder.requests) == 8  # 6 answers + 2 rejections (every 3rd)


def test_max_retries_zero_means_no_retry_even_when_paced() -> None:
    recorder = _answer_with_429s(every=1)
    endpoint = resolve_endpoint(E5, api_key="k", purpose="embeddings", max_retries=0, http_client=recorder.client())
    set_rate_limits(endpoint, requests_per_minute=60_000)
    with pytest.raises(RateLimitError):
        embed_texts(endpoint, ["a"])
    assert len(recorder.requests) == 1


def test_rate_limit_headers_reach_the_limiter() -> None:
    recorder = Recorder(
        json_response({"data": [{"index": 0, "embedding": [1.0]}]}, headers={"x-ratelimit-remaining-requests": "0"})
    )
    endpoint = resolve_endpoint(E5, api_key="k", purpose="embeddings", http_client=recorder.client())
    set_rate_limits(endpoint, requests_per_minute=60_000)
    embed_texts(endpoint, ["a"])
    limiter = limiter_for(endpoint)
    assert limiter is not None and limiter.factor < 1.0


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_bulk_embedding_at_a_scaled_down_limit(mode: str) -> None:
    """The benchmark in small: 100 requests/3 s enforced, 5 % random 429s -> 0 failures, >= 90 % of the rate."""
    with RateLimitedServer(requests=100, window_s=3.0, random_429=0.05, max_lifetime_s=60) as server:
        endpoint = resolve_endpoint(E5, api_key="k", purpose="embeddings", base_url=server.base_url)
        set_rate_limits(endpoint, requests_per_minute=100 * 20)  # the same budget, per minute
        texts = [f"document {i} about rivers" for i in range(150)]
        started = time.monotonic()
        if mode == "sync":
            result = embed_texts(endpoint, texts, batch_size=1, max_concurrency=8)
        else:
            result = asyncio.run(aembed_texts(endpoint, texts, batch_size=1, max_concurrency=8))
        elapsed = time.monotonic() - started
        assert len(result.vectors) == 150
        assert server.over_budget == 0  # the limiter never overran the budget
        requests_per_window, _ = server.achieved()
        assert requests_per_window >= 90  # >= 90 % of the allowed rate
        assert elapsed < 10
