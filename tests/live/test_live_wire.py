"""One live call per wire assumption of tests/emulator, for STACKIT and Chutes (see conftest.py).

Each check prints the answer it saw and asserts only what the package relies on, so a failure
names an assumption that no longer holds (then fix the emulator, re-record, and adapt the package).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from stackit_chutes_core import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ChatRequest,
    Message,
    NotFoundError,
    ToolSpec,
)
from stackit_chutes_core._chat import build_chat_body
from stackit_chutes_core._clients import sync_client_for
from stackit_chutes_core._embeddings import EmbeddingItem, embed_items, embed_texts
from stackit_chutes_core._transport import post_json, post_stream
from stackit_chutes_core.routing import Endpoint

Make = Callable[..., Endpoint]
Say = Callable[[str, Any], None]

CHAT = {"stackit": "stackit/openai/gpt-oss-20b", "chutes": "chutes/Qwen/Qwen3-32B-TEE"}
EMBED = {"stackit": "stackit/intfloat/e5-mistral-7b-instruct", "chutes": "chutes/Qwen/Qwen3-Embedding-8B"}
PROVIDERS = pytest.mark.parametrize("provider", ["stackit", "chutes"])
HI = [Message(role="user", content="Say hello in five words.")]
WEATHER = ToolSpec(
    name="get_weather",
    description="Current weather of a city.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def _error(call: Callable[[], Any]) -> APIStatusError:
    with pytest.raises(APIStatusError) as caught:
        call()
    return caught.value


def _stream(endpoint: Endpoint, request: ChatRequest) -> list[dict[str, Any]]:
    body, headers = build_chat_body(endpoint, request, stream=True)
    return list(post_stream(endpoint, "/chat/completions", body, headers))


# --- errors ---------------------------------------------------------------------------------------


@PROVIDERS
def test_bad_key_is_401_or_403(endpoint: Make, say: Say, provider: str) -> None:
    endpoint(CHAT[provider])  # skips when the provider's key is not set
    bad = endpoint(CHAT[provider], api_key="cpk_invalid" if provider == "chutes" else "invalid")
    error = _error(
        lambda: post_json(
            bad, "/chat/completions", {"model": bad.model_id, "messages": [{"role": "user", "content": "hi"}]}
        )
    )
    say("status, body", [error.status_code, error.body])
    assert isinstance(error, AuthenticationError) and error.status_code in (401, 403)


@PROVIDERS
def test_wrong_model_is_404(endpoint: Make, say: Say, provider: str) -> None:
    wrong = endpoint(f"{provider}/no-such-org/no-such-model")
    error = _error(
        lambda: post_json(
            wrong, "/chat/completions", {"model": wrong.model_id, "messages": [{"role": "user", "content": "hi"}]}
        )
    )
    say("status, body", [error.status_code, error.body])
    assert isinstance(error, NotFoundError)


@PROVIDERS
def test_context_overflow_is_400(endpoint: Make, say: Say, provider: str) -> None:
    ep = endpoint(CHAT[provider])
    error = _error(
        lambda: post_json(
            ep,
            "/chat/completions",
            {
                "model": ep.model_id,
                "messages": [{"role": "user", "content": "hi"}],
                ep.provider_config.max_tokens_field: 50_000_000,
            },
        )
    )
    say("status, type, body", [error.status_code, type(error).__name__, error.body])
    assert isinstance(error, BadRequestError)


# --- chat streams ---------------------------------------------------------------------------------


@PROVIDERS
def test_streamed_usage_chunk(endpoint: Make, say: Say, provider: str) -> None:
    ep = endpoint(CHAT[provider])
    asked = _stream(ep, ChatRequest(messages=HI, include_usage=True, max_tokens=200))
    unasked = _stream(ep, ChatRequest(messages=HI, include_usage=False, max_tokens=200))
    usage_asked = [c["usage"] for c in asked if c.get("usage")]
    usage_unasked = [c["usage"] for c in unasked if c.get("usage")]
    say("usage chunks when asked", usage_asked)
    say("usage chunks when not asked (Chutes forces them)", usage_unasked)
    say(
        "extra top-level keys",
        sorted({k for c in asked for k in c} - {"id", "object", "created", "model", "choices", "usage"}),
    )
    assert len(usage_asked) == 1
    if provider == "chutes":
        assert len(usage_unasked) == 1


@PROVIDERS
def test_reasoning_field(endpoint: Make, say: Say, provider: str) -> None:
    ep = endpoint(CHAT[provider])
    raw = post_json(
        ep,
        "/chat/completions",
        {
            "model": ep.model_id,
            "messages": [{"role": "user", "content": "Why is the sky blue? One sentence."}],
            ep.provider_config.max_tokens_field: 600,
        },
    )
    message = raw["choices"][0]["message"]
    say("message keys", sorted(message))
    say("served model", raw.get("model"))
    fields = [k for k in ("reasoning", "reasoning_content") if message.get(k)]
    say("reasoning fields with text", fields)
    assert fields or "<think>" in (message.get("content") or "")


@PROVIDERS
def test_tool_call_deltas(endpoint: Make, say: Say, provider: str) -> None:
    ep = endpoint(CHAT[provider])
    request = ChatRequest(
        messages=[Message(role="user", content="What is the weather in Berlin? Use the tool.")],
        tools=[WEATHER],
        max_tokens=800,
    )
    chunks = _stream(ep, request)
    deltas = [
        c["choices"][0]["delta"]["tool_calls"]
        for c in chunks
        if c.get("choices") and (c["choices"][0].get("delta") or {}).get("tool_calls")
    ]
    say("tool_call deltas", deltas[:6])
    say(
        "finish reasons",
        [
            c["choices"][0].get("finish_reason")
            for c in chunks
            if c.get("choices") and c["choices"][0].get("finish_reason")
        ],
    )
    assert deltas and all(isinstance(d, list) for d in deltas)


# --- embeddings -----------------------------------------------------------------------------------


@PROVIDERS
def test_embeddings_input_body(endpoint: Make, say: Say, provider: str) -> None:
    ep = endpoint(EMBED[provider], purpose="embeddings")
    result = embed_texts(ep, ["The API is fast.", "The system is stable."])
    say("vectors, dims, usage", [len(result.vectors), len(result.vectors[0]), result.usage])
    assert len(result.vectors) == 2 and len(result.vectors[0]) > 0


def test_stackit_embeddings_messages_body(endpoint: Make, say: Say) -> None:
    ep = endpoint("stackit/Qwen/Qwen3-VL-Embedding-8B", purpose="embeddings")
    result = embed_items(ep, [EmbeddingItem(text="a red square")])
    say("dims via messages", len(result.vectors[0]))
    assert len(result.vectors[0]) == 4096


@PROVIDERS
def test_dimensions(endpoint: Make, say: Say, provider: str) -> None:
    model = "stackit/Qwen/Qwen3-VL-Embedding-8B" if provider == "stackit" else EMBED["chutes"]
    ep = endpoint(model, purpose="embeddings")
    result = embed_texts(ep, ["cats on mats"], dimensions=256)
    say("dims with dimensions=256", len(result.vectors[0]))
    assert len(result.vectors[0]) == 256
    if provider == "stackit":
        e5 = endpoint(EMBED["stackit"], purpose="embeddings")
        error = _error(lambda: post_json(e5, "/embeddings", {"model": e5.model_id, "input": ["x"], "dimensions": 256}))
        say("e5 with dimensions", [error.status_code, error.body])
        assert error.status_code == 400


# --- listing --------------------------------------------------------------------------------------


@PROVIDERS
def test_models_listing_shape(endpoint: Make, say: Say, provider: str) -> None:
    ep = endpoint(CHAT[provider])
    client_listing: Any = sync_client_for(ep).get("/models", cast_to=object)
    entries = client_listing["data"]
    say("count", len(entries))
    say("first entry keys", sorted(entries[0]))
    say("ids", [e["id"] for e in entries])
    assert client_listing.get("object") == "list" and all("id" in e for e in entries)
    if provider == "chutes":
        rich = [e for e in entries if e.get("supported_features")]
        say("a rich entry", rich[0] if rich else None)
        assert {"context_length", "pricing", "input_modalities"} & set(entries[0])
