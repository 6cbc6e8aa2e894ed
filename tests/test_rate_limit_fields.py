"""The four adapter classes take requests_per_minute / tokens_per_minute and pace through the core limiter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.rate_limiters import InMemoryRateLimiter

from langchain_stackit_chutes import ChatStackitChutes, StackitChutesEmbeddings
from llama_index_stackit_chutes import StackitChutes, StackitChutesEmbedding
from stackit_chutes_core import resolve_endpoint
from stackit_chutes_core._limiter import limiter_for, reset_limiters
from tests.ratelimited_server import RateLimitedServer

E5 = "stackit/intfloat/e5-mistral-7b-instruct"
CHAT = "stackit/openai/gpt-oss-120b"


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    reset_limiters()
    yield
    reset_limiters()


@pytest.fixture
def server() -> Iterator[RateLimitedServer]:
    with RateLimitedServer(requests=1000, random_429=0.0, max_lifetime_s=60) as running:
        yield running


def _limits(model: str, purpose: str, base_url: str) -> Any:
    limiter = limiter_for(resolve_endpoint(model, api_key="k", purpose=purpose, base_url=base_url))  # type: ignore[arg-type]
    assert limiter is not None
    return limiter.limits


def test_langchain_embeddings(server: RateLimitedServer) -> None:
    emb = StackitChutesEmbeddings(model=E5, api_key="k", base_url=server.base_url, requests_per_minute=600)
    assert len(emb.embed_documents(["a", "b"])) == 2
    assert _limits(E5, "embeddings", server.base_url).requests_per_minute == 600


def test_langchain_chat_with_langchains_own_rate_limiter_on_top(server: RateLimitedServer) -> None:
    llm = ChatStackitChutes(
        model=CHAT,
        api_key="k",
        base_url=server.base_url,
        tokens_per_minute=100_000,
        rate_limiter=InMemoryRateLimiter(requests_per_second=100, check_every_n_seconds=0.01),
    )
    assert llm.invoke("hi").content == "ok"
    limits = _limits(CHAT, "chat", server.base_url)
    assert (limits.requests_per_minute, limits.tokens_per_minute) == (None, 100_000)


def test_llama_index_classes(server: RateLimitedServer) -> None:
    emb = StackitChutesEmbedding(model_name=E5, api_key="k", api_base=server.base_url, requests_per_minute=300)
    assert len(emb.get_text_embedding_batch(["a", "b", "c"])) == 3
    assert _limits(E5, "embeddings", server.base_url).requests_per_minute == 300
    llm = StackitChutes(model=CHAT, api_key="k", api_base=server.base_url, requests_per_minute=80)
    assert llm.complete("hi").text == "ok"
    assert _limits(CHAT, "chat", server.base_url).requests_per_minute == 80


def test_no_fields_no_limiter(server: RateLimitedServer) -> None:
    StackitChutesEmbeddings(model=E5, api_key="k", base_url=server.base_url).embed_documents(["a"])
    assert limiter_for(resolve_endpoint(E5, api_key="k", purpose="embeddings", base_url=server.base_url)) is None


@pytest.mark.parametrize("value", [0, -5])
def test_bad_values_are_refused(value: int) -> None:
    with pytest.raises(ValueError, match="greater than 0"):
        StackitChutesEmbeddings(model=E5, api_key="k", requests_per_minute=value)
    with pytest.raises(ValueError, match="greater than 0"):
        StackitChutesEmbedding(model_name=E5, api_key="k", tokens_per_minute=value)
