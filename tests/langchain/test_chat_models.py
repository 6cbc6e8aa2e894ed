"""Own unit tests of ChatStackitChutes: conversion, reasoning, v1 blocks, stream quirks, images,
errors, runtime switching, serialization. All offline (httpx2 MockTransport, see _mock.py)."""

from __future__ import annotations

import base64
import json
import warnings
from typing import Any

import pytest
from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelNotFoundError,
    ModelRateLimitError,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.load import dumpd, dumps, load
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import ConfigurableField
from langchain_core.tools import tool
from pydantic import BaseModel, SecretStr

import stackit_chutes_core as core
from langchain_stackit_chutes import ChatStackitChutes
from langchain_stackit_chutes._convert import image_block_to_url, messages_to_core
from tests._http import (
    CHUTES_HOST,
    STACKIT_HOST,
    Recorder,
    chat_completion,
    chunk,
    json_response,
    request_json,
    sse_response,
    token_usage,
    usage_chunk,
)

GPT_OSS = "stackit/openai/gpt-oss-120b"
VLM = "stackit/Qwen/Qwen3-VL-235B-A22B-Instruct-FP8"
THINKER = "chutes/Qwen/Qwen3-235B-A22B-Thinking-2507-TEE"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32).decode()


def _model(http: Recorder, model: str = GPT_OSS, **kwargs: Any) -> ChatStackitChutes:
    return ChatStackitChutes(model=model, max_retries=0, **http.clients(), **kwargs)


@tool
def magic_function(input: int) -> int:
    """Applies a magic function to an input."""
    return input + 2


def _aggregate(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    full = chunks[0]
    for piece in chunks[1:]:
        full = full + piece
    return full


# ---- message conversion ------------------------------------------------------------------


def test_messages_to_core_roles_tool_history_and_reasoning() -> None:
    ai = AIMessage(
        [{"type": "text", "text": "let me check"}, {"type": "tool_use", "id": "c1", "name": "f", "input": {"a": 1}}],
        tool_calls=[{"name": "f", "args": {"a": "ü"}, "id": "c1", "type": "tool_call"}],
        additional_kwargs={"reasoning_content": "thinking..."},
    )
    converted = messages_to_core(
        [SystemMessage("be brief"), HumanMessage("hi", name="ann"), ai, ToolMessage("3", tool_call_id="c1")]
    )
    assert [m.role for m in converted] == ["system", "user", "assistant", "tool"]
    assert converted[1].name == "ann"
    assistant = converted[2]
    assert assistant.content == "let me check"
    assert assistant.reasoning == "thinking..."
    assert list(assistant.tool_calls) == [core.ToolCall(id="c1", name="f", arguments='{"a": "ü"}')]
    assert converted[3].tool_call_id == "c1" and converted[3].content == "3"


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ({"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}, "https://x.test/a.png"),
        ({"type": "image_url", "image_url": f"data:image/png;base64,{PNG}"}, f"data:image/png;base64,{PNG}"),
        ({"type": "image", "url": "https://x.test/b.png"}, "https://x.test/b.png"),
        ({"type": "image", "base64": PNG, "mime_type": "image/png"}, f"data:image/png;base64,{PNG}"),
        # a PNG labelled as JPEG is sent with the type its bytes have
        ({"type": "image", "base64": PNG, "mime_type": "image/jpeg"}, f"data:image/png;base64,{PNG}"),
        (
            {"type": "image", "source_type": "base64", "data": PNG, "mime_type": "image/png"},
            f"data:image/png;base64,{PNG}",
        ),
        ({"type": "image", "source_type": "url", "url": "https://x.test/c.png"}, "https://x.test/c.png"),
        (
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
            f"data:image/png;base64,{PNG}",
        ),
        ({"type": "text", "text": "no image"}, None),
    ],
)
def test_image_blocks_every_form(block: dict[str, Any], expected: str | None) -> None:
    assert image_block_to_url(block) == expected


def test_unusable_blocks_raise_clearly() -> None:
    with pytest.raises(core.InvalidInputError, match="file_id"):
        image_block_to_url({"type": "image", "file_id": "file-1"})
    with pytest.raises(core.InvalidInputError, match="'audio'"):
        messages_to_core([HumanMessage([{"type": "audio", "base64": "AAAA", "mime_type": "audio/wav"}])])
    with pytest.raises(core.InvalidInputError, match="not valid base64"):
        image_block_to_url({"type": "image", "base64": "%%%", "mime_type": "image/png"})


def test_tool_choice_normalisation() -> None:
    assert core.tool_choice_of("any", ["f"]) == core.ToolChoice("required")
    assert core.tool_choice_of(True, ["f"]) == core.ToolChoice("required")
    assert core.tool_choice_of("auto", ["f"]) == core.ToolChoice("auto")
    assert core.tool_choice_of("f", ["f"]) == core.ToolChoice("function", "f")
    assert core.tool_choice_of(None, ["f"]) is None
    with pytest.raises(ValueError, match="names no bound tool"):
        core.tool_choice_of("g", ["f"])
    with pytest.raises(ValueError, match="names no bound tool"):
        ChatStackitChutes(model=GPT_OSS, api_key="k").bind_tools([magic_function], tool_choice="g")


# ---- request bodies ------------------------------------------------------------------------


def test_request_body_stackit() -> None:
    http = Recorder([json_response(chat_completion())])
    llm = _model(http, temperature=0.2, max_tokens=50, top_p=0.9, stop=["END"], reasoning_effort="low")
    llm.invoke("hi", seed=7, top_k=5)  # unknown per-call kwargs go into the body verbatim
    seen = http.last
    assert (seen.url.host, seen.url.path) == (STACKIT_HOST, "/v1/chat/completions")
    assert seen.headers["authorization"] == "Bearer replay-stackit-key"
    assert request_json(seen) == {
        "model": "openai/gpt-oss-120b",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.2,
        "top_p": 0.9,
        "seed": 7,
        "reasoning_effort": "low",
        "max_completion_tokens": 50,
        "stop": ["END"],
        "top_k": 5,
    }


def test_request_body_chutes_thinking_and_extra_body() -> None:
    http = Recorder([sse_response([chunk({"content": "ok"}, finish_reason="stop"), usage_chunk()])])
    llm = _model(http, THINKER, max_tokens=20, thinking=True, extra_body={"top_k": 3})
    list(llm.stream("hi"))
    seen = http.last
    assert seen.url.host == CHUTES_HOST
    assert seen.headers["authorization"] == "Bearer replay-chutes-key"
    assert seen.headers["x-enable-thinking"] == "true"
    body = request_json(seen)
    assert body["max_tokens"] == 20 and "max_completion_tokens" not in body
    assert body["chat_template_kwargs"]["enable_thinking"] is True
    assert body["stream_options"] == {"include_usage": True}  # stream usage on by default
    assert body["top_k"] == 3
    list(llm.stream("hi", stream_usage=False))
    assert "stream_options" not in http.last_body()


def test_bind_tools_body() -> None:
    http = Recorder([json_response(chat_completion(None, tool_calls=[]))])
    bound = _model(http).bind_tools(
        [magic_function], tool_choice="magic_function", strict=True, parallel_tool_calls=False
    )
    bound.invoke("use it")
    body = http.last_body()
    assert body["tool_choice"] == {"type": "function", "function": {"name": "magic_function"}}
    assert body["parallel_tool_calls"] is False
    assert body["tools"][0]["function"]["name"] == "magic_function"
    assert body["tools"][0]["function"]["strict"] is True
    _model(http).bind_tools([magic_function], tool_choice="any").invoke("x")
    assert http.last_body()["tool_choice"] == "required"


def test_reasoning_effort_checked_and_dropped_where_unsupported() -> None:
    http = Recorder([json_response(chat_completion())])
    with pytest.raises(core.CapabilityError, match="reasoning_effort='extreme'"):
        _model(http, reasoning_effort="extreme").invoke("hi")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _model(http, THINKER, reasoning_effort="high").invoke("hi")
    assert "reasoning_effort" not in http.last_body()
    assert any("no reasoning_effort control" in str(w.message) for w in caught)


# ---- responses: reasoning, usage, metadata ---------------------------------------------------


@pytest.mark.parametrize(
    ("model", "fields", "content"),
    [
        (GPT_OSS, {"reasoning": "weighing options"}, "answer"),  # vLLM >= 0.16 field
        (THINKER, {"reasoning_content": "weighing options"}, "answer"),  # SGLang / older vLLM field
        (THINKER, {}, "<think>\nweighing options\n</think>\n\nanswer"),  # R1-style tags in content
    ],
)
def test_reasoning_surfaces_in_additional_kwargs_and_blocks(model: str, fields: dict[str, Any], content: str) -> None:
    answer = chat_completion(content, model=model.split("/", 1)[1], usage=token_usage(7, 3), **fields)
    http = Recorder([json_response(answer)])
    message = _model(http, model).invoke("hi")
    assert message.content == "answer"
    assert message.additional_kwargs["reasoning_content"] == "weighing options"
    assert [b["type"] for b in message.content_blocks] == ["reasoning", "text"]
    provider = model.split("/", 1)[0]
    assert message.response_metadata["model_provider"] == provider
    assert message.response_metadata["model_name"] == model
    assert message.response_metadata["finish_reason"] == "stop"
    assert message.usage_metadata == {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10}


def test_usage_details_and_cost() -> None:
    usage = {
        "prompt_tokens": 1000,
        "completion_tokens": 500,
        "total_tokens": 1500,
        "prompt_tokens_details": {"cached_tokens": 100},
        "completion_tokens_details": {"reasoning_tokens": 200},
    }
    http = Recorder([json_response(chat_completion(usage=usage))])
    message = _model(http).invoke("hi")
    assert message.usage_metadata is not None
    assert message.usage_metadata["input_token_details"] == {"cache_read": 100}
    assert message.usage_metadata["output_token_details"] == {"reasoning": 200}
    cost = message.response_metadata["cost"]
    assert cost["currency"] == "USD"  # the currency of the price's source (models.dev USD; no EUR list)
    assert cost["total"] == pytest.approx(cost["input"] + cost["output"])


def test_output_version_v1_invoke_blocks() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "magic_function", "arguments": '{"input": 3}'}}
    http = Recorder(
        [json_response(chat_completion(None, reasoning="think", tool_calls=[call], finish_reason="tool_calls"))]
    )
    message = _model(http, output_version="v1").bind_tools([magic_function]).invoke("x")
    assert isinstance(message.content, list)
    assert [b["type"] for b in message.content] == ["reasoning", "tool_call"]
    assert message.tool_calls[0]["args"] == {"input": 3}


# ---- streaming ---------------------------------------------------------------------------------


def _tool_stream(deltas: list[dict[str, Any]]) -> list[Any]:
    body = [chunk({"role": "assistant", "content": "", "reasoning_content": None, "tool_calls": None})]
    body += [chunk({"reasoning_content": "plan"})]
    body += [chunk({"tool_calls": d}) for d in deltas]
    body += [chunk({}, finish_reason="tool_calls"), usage_chunk()]
    return body


_QUIRKS = {
    # Chutes numbers parallel calls all 0, each starting with its own id.
    "chutes_parallel_index_0": [
        [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "magic_function", "arguments": ""}}],
        [{"index": 0, "function": {"arguments": '{"input": 3}'}}],
        [{"index": 0, "id": "call_b", "type": "function", "function": {"name": "magic_function", "arguments": ""}}],
        [{"index": 0, "function": {"arguments": '{"input": 4}'}}],
    ],
    # vLLM speculative decoding: two fragments of one call inside one delta; string indices.
    "vllm_same_index_fragments": [
        [
            {
                "index": "0",
                "id": "call_a",
                "type": "function",
                "function": {"name": "magic_function", "arguments": '{"in'},
            },
            {"index": "0", "function": {"arguments": 'put": 3}'}},
        ],
        [
            {
                "index": 1,
                "id": "call_b",
                "type": "function",
                "function": {"name": "magic_function", "arguments": '{"input"'},
            },
            {"index": 1, "function": {"arguments": ": 4}"}},
        ],
    ],
    # Continuation fragments without an index.
    "missing_index": [
        [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "magic_function", "arguments": ""}}],
        [{"function": {"arguments": '{"input": 3}'}}],
        [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "magic_function", "arguments": ""}}],
        [{"function": {"arguments": '{"input": 4}'}}],
    ],
}


@pytest.mark.parametrize("quirk", sorted(_QUIRKS))
@pytest.mark.parametrize("output_version", [None, "v1"])
def test_streamed_tool_calls_aggregate_under_quirks(quirk: str, output_version: str | None) -> None:
    http = Recorder([sse_response(_tool_stream(_QUIRKS[quirk]))])
    llm = _model(http, THINKER, output_version=output_version).bind_tools([magic_function])
    full = _aggregate(list(llm.stream("x")))
    assert [(c["name"], c["args"], c["id"]) for c in full.tool_calls] == [
        ("magic_function", {"input": 3}, "call_a"),
        ("magic_function", {"input": 4}, "call_b"),
    ]
    assert full.invalid_tool_calls == []
    assert full.additional_kwargs["reasoning_content"] == "plan"
    types = [b["type"] for b in full.content_blocks]
    assert types == ["reasoning", "tool_call", "tool_call"]  # v1 keeps the tool calls next to reasoning


@pytest.mark.parametrize("output_version", [None, "v1"])
def test_stream_metadata_once_each(output_version: str | None) -> None:
    deltas = [chunk({"role": "assistant", "content": ""}, model="openai/gpt-oss-120b")]
    deltas += [chunk({"reasoning": "r1"}), chunk({"content": "Hel"}), chunk({"content": "lo"})]
    deltas += [chunk({}, finish_reason="stop"), usage_chunk(7, 5)]
    http = Recorder([sse_response(deltas)])
    chunks = list(_model(http, output_version=output_version).stream("hi"))
    assert all(c.response_metadata.get("model_provider") == "stackit" for c in chunks[:-1])
    assert sum(1 for c in chunks if c.response_metadata.get("model_name")) == 1
    assert sum(1 for c in chunks if c.usage_metadata) == 1
    assert chunks[-1].chunk_position == "last"
    full = _aggregate(chunks)
    assert full.text == "Hello"
    assert full.response_metadata["model_name"] == GPT_OSS
    assert full.response_metadata["model_provider"] == "stackit"
    assert full.usage_metadata == {"input_tokens": 7, "output_tokens": 5, "total_tokens": 12}
    assert [b["type"] for b in full.content_blocks] == ["reasoning", "text"]


async def test_native_async_invoke_and_stream() -> None:
    assert ChatStackitChutes._agenerate is not BaseChatModel._agenerate
    assert ChatStackitChutes._astream is not BaseChatModel._astream
    http = Recorder(
        [json_response(chat_completion("async ok")), sse_response([chunk({"content": "a"}, finish_reason="stop")])]
    )
    llm = _model(http)
    assert (await llm.ainvoke("hi")).content == "async ok"
    pieces = [c async for c in llm.astream("hi")]
    assert _aggregate(pieces).text == "a"


# ---- images -------------------------------------------------------------------------------------


def test_images_refused_for_text_only_models_before_any_request() -> None:
    http = Recorder([json_response(chat_completion())])
    message = HumanMessage(
        [{"type": "text", "text": "what is this?"}, {"type": "image", "base64": PNG, "mime_type": "image/png"}]
    )
    with pytest.raises(core.CapabilityError, match="does not accept images"):
        _model(http).invoke([message])
    assert http.requests == []


def test_images_sent_to_a_vision_model() -> None:
    http = Recorder([json_response(chat_completion("a tiny image", model="Qwen/Qwen3-VL-235B-A22B-Instruct-FP8"))])
    llm = _model(http, VLM)
    assert llm.profile is not None and llm.profile["image_inputs"] is True
    message = HumanMessage(
        [
            {"type": "text", "text": "describe"},
            {"type": "image", "base64": PNG, "mime_type": "image/png"},
            {"type": "image_url", "image_url": {"url": "https://x.test/a.png", "detail": "low"}},
        ]
    )
    llm.invoke([message])
    assert http.last_body()["messages"][0]["content"] == [
        {"type": "text", "text": "describe"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        {"type": "image_url", "image_url": {"url": "https://x.test/a.png", "detail": "low"}},
    ]


# ---- errors -------------------------------------------------------------------------------------


def test_context_overflow_is_langchain_context_overflow_error() -> None:
    body = {
        "error": {
            "message": "This model's maximum context length is 131072 tokens. However, you requested 200000 tokens",
            "type": "BadRequestError",
            "code": 400,
        }
    }
    http = Recorder([json_response(body, 400)])
    with pytest.raises(ContextOverflowError) as info:
        _model(http).invoke("very long")
    assert isinstance(info.value, core.ContextLengthExceededError)
    assert info.value.status_code == 400 and info.value.provider == "stackit"


@pytest.mark.parametrize(
    ("status", "body", "lc_type", "core_type"),
    [
        (401, {"detail": "Invalid token"}, ModelAuthenticationError, core.AuthenticationError),
        (404, {"detail": "model not found: x"}, ModelNotFoundError, core.NotFoundError),
        (
            429,
            {"detail": "Infrastructure is at maximum capacity, try again later"},
            ModelRateLimitError,
            core.RateLimitError,
        ),
    ],
)
def test_http_errors_map_to_both_hierarchies(status: int, body: Any, lc_type: type, core_type: type) -> None:
    http = Recorder([json_response(body, status)])
    with pytest.raises(lc_type) as info:
        _model(http, THINKER).invoke("hi")
    assert isinstance(info.value, core_type)
    assert info.value.provider == "chutes"


def test_chutes_quota_error_is_not_retryable() -> None:
    body = {
        "detail": {
            "message": "Quota exceeded and account balance is $0.0",
            "quota_reset_timestamp": "2026-01-02T00:00:00Z",
        }
    }
    http = Recorder([json_response(body, 402)])
    with pytest.raises(core.QuotaExceededError) as info:
        _model(http, THINKER).invoke("hi")
    assert info.value.quota_reset == "2026-01-02T00:00:00Z"
    assert getattr(info.value, "is_retryable", None) is False


def test_mid_stream_error_raises_stream_error() -> None:
    http = Recorder(
        [
            sse_response(
                [chunk({"content": "par"})],
                done=False,
                raw_tail='{"error": "Unhandled exception during response stream: boom"}',
            )
        ]
    )
    with pytest.raises(core.StreamError) as info:
        list(_model(http, THINKER).stream("hi"))
    assert isinstance(info.value, ModelAPIError)


# ---- routing, switching, secrets ---------------------------------------------------------------


def test_configurable_model_switch_sends_each_key_to_its_own_host() -> None:
    http = Recorder([json_response(chat_completion())])
    base = _model(http, api_key="explicit-stackit-key")
    switchable = base.configurable_fields(model=ConfigurableField(id="model"))
    switchable.invoke("hi", config={"configurable": {"model": THINKER}})
    assert (http.last.url.host, http.last.headers["authorization"]) == (CHUTES_HOST, "Bearer replay-chutes-key")
    assert http.last_body()["model"] == "Qwen/Qwen3-235B-A22B-Thinking-2507-TEE"
    switchable.invoke("hi")
    assert (http.last.url.host, http.last.headers["authorization"]) == (STACKIT_HOST, "Bearer explicit-stackit-key")
    # the re-created model resolved its own profile, not the copied STACKIT one
    prepared, _ = switchable._prepare({"configurable": {"model": THINKER}})  # type: ignore[attr-defined]
    assert prepared.profile["name"] == THINKER
    assert prepared.profile["structured_output"] is True  # models.dev: structured_output = true
    # every field is re-passed explicitly, yet stream() still streams on the re-created model
    http.replies = [
        sse_response([chunk({"content": "a"}), chunk({"content": "b"}, finish_reason="stop"), usage_chunk()])
    ]
    pieces = list(switchable.stream("hi", config={"configurable": {"model": THINKER}}))
    assert [p.text for p in pieces if p.text] == ["a", "b"]
    assert http.last_body()["stream"] is True and http.last.url.host == CHUTES_HOST


def test_per_call_model_override_routes_and_keeps_keys_apart() -> None:
    http = Recorder([json_response(chat_completion(model="Qwen/Qwen3-32B-TEE"))])
    llm = _model(http, api_key="explicit-stackit-key", base_url="https://proxy.stackit.test/v1")
    message = llm.invoke("hi", model="chutes/Qwen/Qwen3-32B-TEE")
    assert (http.last.url.host, http.last.headers["authorization"]) == (CHUTES_HOST, "Bearer replay-chutes-key")
    assert message.response_metadata["model_name"] == "chutes/Qwen/Qwen3-32B-TEE"
    llm.invoke("hi")
    assert (http.last.url.host, http.last.headers["authorization"]) == (
        "proxy.stackit.test",
        "Bearer explicit-stackit-key",
    )


def test_ls_params_follow_the_model_actually_used() -> None:
    llm = ChatStackitChutes(model=GPT_OSS, temperature=0, max_tokens=9, stop=["x"])
    assert llm._get_ls_params() == {
        "ls_provider": "stackit",
        "ls_model_name": GPT_OSS,
        "ls_model_type": "chat",
        "ls_temperature": 0,
        "ls_max_tokens": 9,
        "ls_stop": ["x"],
    }
    override = llm._get_ls_params(model=THINKER)
    assert (override["ls_provider"], override["ls_model_name"]) == ("chutes", THINKER)


def test_provider_field_with_bare_id() -> None:
    llm = ChatStackitChutes(model="openai/gpt-oss-120b", provider="stackit")
    assert llm._endpoint().base_url.endswith("onstackit.cloud/v1")
    assert llm._endpoint(THINKER).provider == "chutes"  # a prefixed model string wins


def test_openai_environment_is_never_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-secret")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.openai.com/v1")
    monkeypatch.setenv("OPENAI_CUSTOM_HEADERS", "x-openai-leak: yes")
    monkeypatch.delenv("STACKIT_API_KEY")
    with pytest.raises(core.MissingAPIKeyError, match="STACKIT_API_KEY"):
        ChatStackitChutes(model=GPT_OSS)
    monkeypatch.setenv("STACKIT_API_KEY", "stackit-env-key")
    http = Recorder([json_response(chat_completion())])
    _model(http).invoke("hi")
    assert http.last.url.host == STACKIT_HOST
    assert http.last.headers["authorization"] == "Bearer stackit-env-key"
    assert "x-openai-leak" not in http.last.headers


def test_embedding_models_are_refused() -> None:
    with pytest.raises(core.CapabilityError, match="is an embedding model"):
        ChatStackitChutes(model="stackit/intfloat/e5-mistral-7b-instruct")


@pytest.mark.filterwarnings("ignore:The function `load` is in beta")
def test_serialization_round_trip_and_secrets() -> None:
    llm = ChatStackitChutes(model=THINKER, api_key=SecretStr("chutes-secret"), temperature=0.5)
    assert llm.lc_secrets == {"api_key": "CHUTES_API_KEY"}
    assert "chutes-secret" not in dumps(llm)
    restored = load(
        dumpd(llm),
        valid_namespaces=["langchain_stackit_chutes"],
        allowed_objects=[ChatStackitChutes],
        secrets_map={"CHUTES_API_KEY": "chutes-secret"},
    )
    assert isinstance(restored, ChatStackitChutes)
    assert (restored.model, restored.temperature, restored.credentials_provider) == (THINKER, 0.5, "chutes")
    assert restored.api_key is not None and restored.api_key.get_secret_value() == "chutes-secret"
    assert ChatStackitChutes(model=GPT_OSS).lc_secrets == {"api_key": "STACKIT_API_KEY"}


# ---- profile, structured output, token counting -----------------------------------------------


def test_profile_from_catalog_and_unknown_models() -> None:
    profile = ChatStackitChutes(model=GPT_OSS).profile
    assert profile is not None
    assert profile["max_input_tokens"] == 131000 and profile["max_output_tokens"] == 8192
    assert profile["tool_calling"] and profile["structured_output"] and profile["reasoning_output"]
    assert profile["reasoning_effort_levels"] == ["low", "medium", "high"]
    assert profile["image_inputs"] is False
    assert ChatStackitChutes(model="chutes/some-org/brand-new-model").profile is None
    custom = ChatStackitChutes(model=GPT_OSS, profile={"max_input_tokens": 5})
    assert custom.profile == {"max_input_tokens": 5}


class Joke(BaseModel):
    """A joke."""

    setup: str
    punchline: str


def test_structured_output_default_method_follows_the_catalog() -> None:
    joke = '{"setup": "s", "punchline": "p"}'
    http = Recorder([json_response(chat_completion(joke))])
    assert _model(http).with_structured_output(Joke).invoke("joke") == Joke(setup="s", punchline="p")
    assert http.last_body()["response_format"]["type"] == "json_schema"  # gpt-oss-120b: structured output
    assert http.last_body()["response_format"]["json_schema"]["name"] == "Joke"
    call = {"id": "c1", "type": "function", "function": {"name": "Joke", "arguments": joke}}
    http.replies = [json_response(chat_completion(None, model="m", tool_calls=[call], finish_reason="tool_calls"))]
    # no structured output in the catalog (undocumented, so only the default method changes)
    no_schema = "chutes/unsloth/Mistral-Nemo-Instruct-2407-TEE"
    assert _model(http, no_schema).with_structured_output(Joke).invoke("joke") == Joke(setup="s", punchline="p")
    assert http.last_body()["tool_choice"] == {"type": "function", "function": {"name": "Joke"}}


def test_structured_output_json_mode_and_include_raw() -> None:
    http = Recorder([json_response(chat_completion('{"setup": "s", "punchline": "p"}'))])
    result = _model(http).with_structured_output(Joke, method="json_mode", include_raw=True).invoke("joke")
    assert http.last_body()["response_format"] == {"type": "json_object"}
    assert isinstance(result["raw"], AIMessage)
    assert result["parsed"] == Joke(setup="s", punchline="p") and result["parsing_error"] is None
    http.replies = [json_response(chat_completion("not json"))]
    broken = _model(http).with_structured_output(Joke, include_raw=True).invoke("joke")
    assert broken["parsed"] is None and broken["parsing_error"] is not None


def test_token_counting_is_offline() -> None:
    llm = ChatStackitChutes(model=GPT_OSS)
    assert llm.get_num_tokens("abcdefgh") == 2
    counted = llm.get_num_tokens_from_messages([HumanMessage("hello world")], tools=[magic_function])
    assert counted > 0
    with pytest.raises(NotImplementedError):
        llm.get_token_ids("x")


def test_public_api() -> None:
    import langchain_stackit_chutes as package

    assert package.__all__ == [
        "ChatStackitChutes",
        "StackitChutesCallbackHandler",
        "StackitChutesEmbeddings",
        "__version__",
        "get_stackit_chutes_callback",
    ]
    assert package.__version__ == core.__version__
    assert json.loads(json.dumps(ChatStackitChutes(model=GPT_OSS)._identifying_params))["model"] == GPT_OSS


def test_missing_langchain_core_names_the_extra() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['langchain_core'] = None\n"
        "try:\n    import langchain_stackit_chutes\n"
        "except ImportError as exc:\n    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert "pip install 'stackit-chutes[langchain]'" in out.stdout


def test_invalid_answers_raise_langchain_typed_twins() -> None:
    from langchain_core.exceptions import ModelAPIError

    http = Recorder([json_response({"id": "x", "object": "chat.completion", "choices": "not-a-list"})])
    with pytest.raises(core.InvalidResponseError) as info:
        ChatStackitChutes(model=GPT_OSS, max_retries=0, **http.clients()).invoke("hi")
    assert isinstance(info.value, ModelAPIError)
