"""The package against the corrected emulator behaviours (providers.md section 0, issue 11).

Each test drives the core through the emulator and checks what a user sees: the typed error, the
usage counted once, the reasoning read from whichever field arrives, the model actually served.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stackit_chutes_core import (
    AuthenticationError,
    ChatRequest,
    Message,
    NotFoundError,
    RateLimitError,
    resolve_endpoint,
)
from stackit_chutes_core._chat import chat, stream_chat
from stackit_chutes_core._embeddings import embed_texts
from stackit_chutes_core._streaming import ChatStreamState
from stackit_chutes_core.routing import Endpoint, Purpose
from tests.emulator import ProviderEmulator

HI = [Message(role="user", content="Tell me about Berlin")]


@pytest.fixture(scope="module")
def emu() -> Iterator[ProviderEmulator]:
    with ProviderEmulator(latency_s=0.0, max_lifetime_s=300) as emulator:
        yield emulator


def _ep(
    emu: ProviderEmulator, model: str, *, key: str = "k", purpose: Purpose = "chat", scenario: str | None = None
) -> Endpoint:
    provider = model.split("/", 1)[0]
    host = "chutes_embeddings" if provider == "chutes" and purpose == "embeddings" else provider
    headers = {"X-Emulator-Scenario": scenario} if scenario else None
    return resolve_endpoint(
        model,
        api_key=key,
        base_url=emu.base_urls[host],
        purpose=purpose,
        max_retries=0,
        default_headers=headers,
    )


@pytest.mark.parametrize("asked", [True, False], ids=["asked", "not-asked"])
def test_chutes_usage_chunk_is_counted_once_asked_or_not(emu: ProviderEmulator, asked: bool) -> None:
    endpoint = _ep(emu, "chutes/zai-org/GLM-5-TEE")
    emu.clear_requests()
    state = ChatStreamState(endpoint)
    deltas = list(stream_chat(endpoint, ChatRequest(messages=HI, include_usage=asked), state))
    sent = emu.requests_for("chutes")[-1].body
    assert ("stream_options" in sent) is asked
    reference = chat(endpoint, ChatRequest(messages=HI)).usage
    assert reference is not None
    with_usage = [d.usage for d in deltas if d.usage is not None]
    assert with_usage == [reference]  # exactly one usage report, equal to the provider's count
    assert state.result().usage == reference


def test_stackit_429_without_body_or_retry_after(emu: ProviderEmulator) -> None:
    with pytest.raises(RateLimitError) as caught:
        chat(_ep(emu, "stackit/openai/gpt-oss-120b", scenario="rate_limit"), ChatRequest(messages=HI))
    assert caught.value.status_code == 429 and caught.value.retry_after is None
    assert "429" in str(caught.value)


@pytest.mark.parametrize(
    ("scenario", "text"),
    [
        ("rate_limit", "Infrastructure is at maximum capacity"),
        ("maintenance", "model is under maintenance"),
        ("spam", "Stop spamming this prompt"),
    ],
)
def test_chutes_429_texts_are_rate_limit_errors_without_hints(emu: ProviderEmulator, scenario: str, text: str) -> None:
    with pytest.raises(RateLimitError) as caught:
        chat(_ep(emu, "chutes/zai-org/GLM-5-TEE", scenario=scenario), ChatRequest(messages=HI))
    assert text in str(caught.value) and caught.value.retry_after is None


def test_bad_stackit_key_is_an_authentication_error(emu: ProviderEmulator) -> None:
    with pytest.raises(AuthenticationError) as caught:
        chat(_ep(emu, "stackit/openai/gpt-oss-120b", key="invalid"), ChatRequest(messages=HI))
    assert caught.value.status_code in (401, 403)  # unverified live: accept both


def test_chutes_thinking_suffix_is_case_sensitive_and_answers_name_the_chute(emu: ProviderEmulator) -> None:
    result = chat(_ep(emu, "chutes/deepseek-ai/DeepSeek-V3.1:THINKING"), ChatRequest(messages=HI))
    assert result.reasoning and result.model == "deepseek-ai/DeepSeek-V3.1"
    pool = chat(_ep(emu, "chutes/unknown/model,zai-org/GLM-5-TEE:latency"), ChatRequest(messages=HI))
    assert pool.model == "zai-org/GLM-5-TEE"
    with pytest.raises(NotFoundError, match="model not found"):
        chat(_ep(emu, "chutes/deepseek-ai/DeepSeek-V3.1:thinking"), ChatRequest(messages=HI))


def test_stackit_reasoning_field_is_read(emu: ProviderEmulator) -> None:
    result = chat(_ep(emu, "stackit/Qwen/Qwen3.8-27B"), ChatRequest(messages=HI))
    assert result.reasoning and "reasoning" in result.raw["choices"][0]["message"]


def test_unknown_and_misrouted_embedding_ids_are_not_found(emu: ProviderEmulator) -> None:
    with pytest.raises(NotFoundError, match="model not found: acme/My-Embedding-v1"):
        embed_texts(_ep(emu, "chutes/acme/My-Embedding-v1", purpose="embeddings"), ["x"])
    # a chat chute asked for embeddings on the LLM host: the gateway finds no cord
    endpoint = resolve_endpoint(
        "chutes/zai-org/GLM-5-TEE", api_key="k", base_url=emu.base_urls["chutes"], purpose="embeddings", max_retries=0
    )
    with pytest.raises(NotFoundError, match="No matching cord found!"):
        embed_texts(endpoint, ["x"])
