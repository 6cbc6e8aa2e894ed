"""Chat request bodies and non-stream response parsing (providers.md §1.1, §1.7, §1.9, §1.10, §4.5-4.10).

Bodies are checked as captured by a MockTransport, i.e. exactly what the provider would receive.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from stackit_chutes_core import (
    APIError,
    CapabilityError,
    ChatRequest,
    ImagePart,
    Message,
    TextPart,
    ToolCall,
    ToolSpec,
    achat,
    chat,
    resolve_endpoint,
)
from stackit_chutes_core._chat import build_chat_body, parse_chat_response
from tests._http import Recorder, chat_completion, endpoint, json_response

HELLO = [Message(role="user", content="hi")]
WEATHER = ToolSpec(
    name="get_weather",
    description="Current weather for a city",
    parameters={"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
)
PNG_URL = "data:image/png;base64,iVBORw0KGgo="


def send(model: str, request: ChatRequest, answer: dict[str, Any] | None = None) -> tuple[Recorder, Any]:
    recorder = Recorder(json_response(answer or chat_completion()))
    result = chat(endpoint(model, recorder), request)
    return recorder, result


# --- request bodies -----------------------------------------------------------------------------


def test_stackit_body_matches_documented_request() -> None:
    # providers.md §1.1, the documented curl: model, messages, max_completion_tokens, temperature.
    messages = [
        Message(role="system", content="[system-prompt]"),
        Message(role="user", content="[user-message]"),
        Message(role="assistant", content="[assistant-message]"),
        Message(role="user", content="[user-message]"),
    ]
    recorder, _ = send(
        "stackit/cortecs/Llama-3.3-70B-Instruct-FP8-Dynamic",
        ChatRequest(messages=messages, max_tokens=512, temperature=0.1),
    )
    request = recorder.last
    assert request.method == "POST"
    assert str(request.url) == "https://api.openai-compat.model-serving.eu01.onstackit.cloud/v1/chat/completions"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["authorization"] == "Bearer test-key"
    assert recorder.last_body() == {
        "model": "cortecs/Llama-3.3-70B-Instruct-FP8-Dynamic",
        "messages": [
            {"role": "system", "content": "[system-prompt]"},
            {"role": "user", "content": "[user-message]"},
            {"role": "assistant", "content": "[assistant-message]"},
            {"role": "user", "content": "[user-message]"},
        ],
        "max_completion_tokens": 512,
        "temperature": 0.1,
    }


def test_chutes_sends_max_tokens_not_max_completion_tokens() -> None:
    # providers.md Implications 6 / §4.13: Chutes wants max_tokens.
    recorder, _ = send("chutes/zai-org/GLM-4.5-Air", ChatRequest(messages=HELLO, max_tokens=256))
    body = recorder.last_body()
    assert body["max_tokens"] == 256
    assert "max_completion_tokens" not in body
    assert recorder.last.url.host == "llm.chutes.ai"


def test_unset_fields_are_not_sent() -> None:
    recorder, _ = send("stackit/openai/gpt-oss-120b", ChatRequest(messages=HELLO))
    assert recorder.last_body() == {"model": "openai/gpt-oss-120b", "messages": [{"role": "user", "content": "hi"}]}


def test_optional_sampling_fields_pass_through() -> None:
    request = ChatRequest(
        messages=HELLO,
        temperature=0.0,
        top_p=0.1,
        seed=7,
        frequency_penalty=0.5,
        presence_penalty=-0.5,
        n=1,
        stop=["\n\n", "END"],
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
    )
    recorder, _ = send("stackit/openai/gpt-oss-120b", request)
    body = recorder.last_body()
    assert body["temperature"] == 0.0
    assert body["top_p"] == 0.1
    assert body["seed"] == 7
    assert body["frequency_penalty"] == 0.5
    assert body["presence_penalty"] == -0.5
    assert body["n"] == 1
    assert body["stop"] == ["\n\n", "END"]
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "x", "schema": {"type": "object"}},
    }
    # No legacy guided_* fields (silently ignored on vLLM >= 0.12, §1.9).
    assert not any(key.startswith("guided_") for key in body)


@pytest.mark.parametrize("tool_choice", [None, "auto", "none"])
def test_empty_tools_are_omitted(tool_choice: str | None) -> None:
    # STACKIT FAQ (§1.7): "do not send the tools parameter with an empty list".
    recorder, _ = send(
        "stackit/cortecs/Llama-3.3-70B-Instruct-FP8-Dynamic",
        ChatRequest(messages=HELLO, tools=[], tool_choice=tool_choice),
    )
    body = recorder.last_body()
    assert "tools" not in body
    assert "tool_choice" not in body
    assert "parallel_tool_calls" not in body


def test_tool_choice_without_tools_is_refused_before_sending() -> None:
    recorder = Recorder(json_response(chat_completion()))
    ep = endpoint("stackit/openai/gpt-oss-120b", recorder)
    with pytest.raises(CapabilityError):
        chat(ep, ChatRequest(messages=HELLO, tool_choice="required"))
    assert recorder.requests == []


def test_tools_body() -> None:
    request = ChatRequest(
        messages=HELLO,
        tools=[WEATHER, ToolSpec(name="noop", strict=True)],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        parallel_tool_calls=False,
    )
    recorder, _ = send("stackit/openai/gpt-oss-120b", request)
    body = recorder.last_body()
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {
                    "type": "object",
                    "properties": {"location": {"type": "string"}},
                    "required": ["location"],
                },
                "description": "Current weather for a city",
            },
        },
        {
            "type": "function",
            "function": {"name": "noop", "parameters": {"type": "object", "properties": {}}, "strict": True},
        },
    ]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert body["parallel_tool_calls"] is False


def test_tool_round_trip_messages() -> None:
    call = ToolCall(id="call_1", name="get_weather", arguments='{"location": "Berlin"}')
    messages = [
        Message(role="user", content="Weather in Berlin?"),
        Message(role="assistant", content=None, tool_calls=[call], reasoning="I should call the tool."),
        Message(role="tool", content='{"temp": 21}', tool_call_id="call_1", name="get_weather"),
    ]
    recorder, _ = send("stackit/openai/gpt-oss-120b", ChatRequest(messages=messages, tools=[WEATHER]))
    wire = recorder.last_body()["messages"]
    assert wire[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"location": "Berlin"}'},
            }
        ],
    }
    assert wire[2] == {"role": "tool", "content": '{"temp": 21}', "tool_call_id": "call_1"}


def test_stream_body_asks_for_usage() -> None:
    ep = resolve_endpoint("stackit/openai/gpt-oss-120b", api_key="k")
    body, _ = build_chat_body(ep, ChatRequest(messages=HELLO), stream=True)
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    body, _ = build_chat_body(ep, ChatRequest(messages=HELLO, include_usage=False), stream=True)
    assert "stream_options" not in body
    body, _ = build_chat_body(ep, ChatRequest(messages=HELLO))
    assert "stream" not in body
    assert "stream_options" not in body


def test_extra_body_passthrough() -> None:
    extra = {
        "top_k": 20,
        "min_p": 0.05,
        "repetition_penalty": 1.1,
        "structured_outputs": {"choice": ["yes", "no"]},
        "chat_template_kwargs": {"enable_thinking": False},
    }
    recorder, _ = send("stackit/Qwen/Qwen3.8-27B", ChatRequest(messages=HELLO, extra_body=extra))
    body = recorder.last_body()
    for key, value in extra.items():
        assert body[key] == value


def test_extra_body_chat_template_kwargs_merge_with_thinking() -> None:
    request = ChatRequest(
        messages=HELLO,
        thinking=True,
        extra_body={"chat_template_kwargs": {"custom_flag": 1, "thinking": False}},
    )
    recorder, _ = send("stackit/Qwen/Qwen3.8-27B", request)
    # Merged, and the caller's explicit extra_body wins on conflicts.
    assert recorder.last_body()["chat_template_kwargs"] == {
        "enable_thinking": True,
        "thinking": False,
        "custom_flag": 1,
    }


def test_chutes_thinking_header_and_template_kwargs() -> None:
    # providers.md §4.5: header X-Enable-Thinking: true -> chat_template_kwargs thinking/enable_thinking.
    recorder, _ = send("chutes/deepseek-ai/DeepSeek-V3.1", ChatRequest(messages=HELLO, thinking=True))
    assert recorder.last.headers["x-enable-thinking"] == "true"
    assert recorder.last_body()["chat_template_kwargs"] == {"enable_thinking": True, "thinking": True}


def test_chutes_thinking_off_sends_no_header() -> None:
    recorder, _ = send("chutes/deepseek-ai/DeepSeek-V3.1", ChatRequest(messages=HELLO, thinking=False))
    assert "x-enable-thinking" not in recorder.last.headers
    assert recorder.last_body()["chat_template_kwargs"] == {"enable_thinking": False, "thinking": False}


def test_stackit_never_sends_the_chutes_thinking_header() -> None:
    recorder, _ = send("stackit/Qwen/Qwen3.8-27B", ChatRequest(messages=HELLO, thinking=True))
    assert "x-enable-thinking" not in recorder.last.headers
    assert recorder.last_body()["chat_template_kwargs"]["enable_thinking"] is True


def test_no_thinking_no_template_kwargs() -> None:
    recorder, _ = send("chutes/deepseek-ai/DeepSeek-V3.1", ChatRequest(messages=HELLO))
    assert "chat_template_kwargs" not in recorder.last_body()
    assert "x-enable-thinking" not in recorder.last.headers


def test_extra_headers_are_sent() -> None:
    recorder, _ = send("chutes/x/y", ChatRequest(messages=HELLO, extra_headers={"X-Trace": "abc"}))
    assert recorder.last.headers["x-trace"] == "abc"


def test_images_are_sent_as_image_url_parts_to_vision_models() -> None:
    content = [TextPart("What is this?"), ImagePart(PNG_URL, detail="low"), ImagePart("https://example.org/a.jpg")]
    recorder, _ = send(
        "stackit/Qwen/Qwen3-VL-235B-A22B-Instruct-FP8", ChatRequest(messages=[Message(role="user", content=content)])
    )
    assert recorder.last_body()["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": PNG_URL, "detail": "low"}},
                {"type": "image_url", "image_url": {"url": "https://example.org/a.jpg"}},
            ],
        }
    ]


def test_text_only_parts_are_flattened_for_non_user_roles() -> None:
    messages = [
        Message(role="system", content=[TextPart("a"), TextPart("b")]),
        Message(role="user", content=[TextPart("q")]),
    ]
    recorder, _ = send("stackit/openai/gpt-oss-120b", ChatRequest(messages=messages))
    assert recorder.last_body()["messages"] == [{"role": "system", "content": "ab"}, {"role": "user", "content": "q"}]


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        ("stackit/cortecs/Llama-3.3-70B-Instruct-FP8-Dynamic", "stackit"),
        ("chutes/deepseek-ai/DeepSeek-V3.2-TEE", "chutes"),
    ],
)
def test_images_refused_for_documented_text_only_models(model: str, provider: str) -> None:
    recorder = Recorder(json_response(chat_completion()))
    ep = endpoint(model, recorder)
    request = ChatRequest(messages=[Message(role="user", content=[TextPart("see"), ImagePart(PNG_URL)])])
    with pytest.raises(CapabilityError) as caught:
        chat(ep, request)
    assert recorder.requests == []
    message = str(caught.value)
    assert model in message
    if provider == "stackit":
        for vision in ("stackit/Qwen/Qwen3-VL-235B-A22B-Instruct-FP8", "stackit/google/gemma-3-27b-it"):
            assert vision in message
        assert "stackit/intfloat/e5-mistral-7b-instruct" not in message  # chat models only
    else:
        assert "chutes/Qwen/Qwen3.6-27B-TEE" in message
        assert "stackit/" not in message


@pytest.mark.parametrize(
    "model",
    # text-only in the catalog, but undocumented: an undated Mastra crawl, a listing entry without modalities
    [
        "chutes/zai-org/GLM-4.5-Air",
        "chutes/Nemotron-3-Nano-Omni-30B-TEE",
        "chutes/unsloth/Mistral-Nemo-Instruct-2407-TEE",
    ],
)
def test_images_sent_when_text_only_is_not_documented(model: str) -> None:
    request = ChatRequest(messages=[Message(role="user", content=[TextPart("see"), ImagePart(PNG_URL)])])
    recorder, _ = send(model, request)
    assert recorder.last_body()["messages"][0]["content"][1]["type"] == "image_url"


def test_images_to_unknown_models_are_not_blocked() -> None:
    request = ChatRequest(messages=[Message(role="user", content=[ImagePart(PNG_URL)])])
    recorder, _ = send("chutes/new-org/brand-new-vlm", request)
    assert recorder.last_body()["messages"][0]["content"][0]["type"] == "image_url"


def test_reasoning_effort_validated_against_catalog() -> None:
    recorder = Recorder(json_response(chat_completion()))
    ep = endpoint("stackit/openai/gpt-oss-120b", recorder)
    with pytest.raises(CapabilityError) as caught:
        chat(ep, ChatRequest(messages=HELLO, reasoning_effort="extreme"))
    assert "low" in str(caught.value)
    assert "high" in str(caught.value)
    assert recorder.requests == []
    chat(ep, ChatRequest(messages=HELLO, reasoning_effort="high"))
    assert recorder.last_body()["reasoning_effort"] == "high"


def test_reasoning_effort_unchecked_for_models_without_effort_metadata() -> None:
    recorder, _ = send("chutes/unknown/model", ChatRequest(messages=HELLO, reasoning_effort="minimal"))
    assert recorder.last_body()["reasoning_effort"] == "minimal"


def test_async_chat_sends_the_same_body() -> None:
    recorder = Recorder(json_response(chat_completion()))
    ep = endpoint("chutes/zai-org/GLM-4.5-Air", recorder)
    request = ChatRequest(messages=HELLO, max_tokens=9, thinking=True, tools=[WEATHER])
    chat(ep, request)
    result = asyncio.run(achat(ep, request))
    sync_req, async_req = recorder.requests
    assert json.loads(sync_req.content) == json.loads(async_req.content)
    assert async_req.headers["x-enable-thinking"] == "true"
    assert result.text == "ok"


# --- response parsing -------------------------------------------------------------------------

# providers.md §4.6, verbatim (Chutes, zai-org/GLM-4.5-Air): parallel calls both carry "index": 0.
CHUTES_PARALLEL_TOOL_CALLS = {
    "choices": [
        {
            "message": {
                "role": "assistant",
                "content": "I'll get the current weather for both San Francisco and New York for you.",
                "reasoning_content": "The user is asking for weather information for two cities...",
                "tool_calls": [
                    {
                        "id": "call_e638cc8718a54adab8b955d3",
                        "index": 0,
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"location": "San Francisco"}'},
                    },
                    {
                        "id": "call_adbde2ffe5dd4cf9801eb583",
                        "index": 0,
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"location": "New York"}'},
                    },
                ],
            },
            "finish_reason": "tool_calls",
        }
    ]
}


def test_chutes_duplicate_index_zero_tool_calls_are_distinct() -> None:
    _, result = send(
        "chutes/zai-org/GLM-4.5-Air", ChatRequest(messages=HELLO, tools=[WEATHER]), CHUTES_PARALLEL_TOOL_CALLS
    )
    assert result.text == "I'll get the current weather for both San Francisco and New York for you."
    assert result.reasoning == "The user is asking for weather information for two cities..."
    assert result.finish_reason == "tool_calls"
    assert result.tool_calls == [
        ToolCall(id="call_e638cc8718a54adab8b955d3", name="get_weather", arguments='{"location": "San Francisco"}'),
        ToolCall(id="call_adbde2ffe5dd4cf9801eb583", name="get_weather", arguments='{"location": "New York"}'),
    ]
    assert [c.parsed_arguments() for c in result.tool_calls] == [
        {"location": "San Francisco"},
        {"location": "New York"},
    ]
    assert result.provider == "chutes"
    assert result.usage is None
    assert result.model == "zai-org/GLM-4.5-Air"  # no "model" in the abridged sample: the routed id


def test_chutes_extra_fields_are_tolerated() -> None:
    # §4.6/§4.10: chutes_verification, metadata.weight_version, prompt_sha256, template_sha256, matched_stop.
    raw = {
        "id": "0ff9d21adf1d458e9b24575c5b1b8115",
        "object": "chat.completion",
        "created": 1771352259,
        "model": "Qwen/Qwen3-32B",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello!", "reasoning_content": None, "tool_calls": None},
                "logprobs": None,
                "finish_reason": "stop",
                "matched_stop": 151645,
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13, "prompt_tokens_details": None},
        "chutes_verification": "2b2b847d04afca72b5e532ce3b05feb2",
        "prompt_sha256": "ab" * 32,
        "template_sha256": "cd" * 32,
        "metadata": {"weight_version": "default"},
    }
    _, result = send("chutes/Qwen/Qwen3-32B-TEE", ChatRequest(messages=HELLO), raw)
    assert result.text == "Hello!"
    assert result.reasoning is None
    assert result.tool_calls == []
    assert result.finish_reason == "stop"
    assert result.id == "0ff9d21adf1d458e9b24575c5b1b8115"
    assert result.model == "Qwen/Qwen3-32B"
    assert result.usage is not None
    assert (result.usage.input_tokens, result.usage.output_tokens, result.usage.total_tokens) == (10, 3, 13)
    assert result.raw == raw


def test_vllm_reply_with_null_reasoning_and_kv_transfer_params() -> None:
    # providers.md §1.10, verbatim message/usage/extras of a vLLM (Aug 2025) reply.
    raw = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "openai/gpt-oss-120b",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "reasoning_content": None,
                    "content": "Hello, PyCon Korea 2025! 🎉 ...",
                    "tool_calls": [],
                },
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 23, "total_tokens": 52, "completion_tokens": 29, "prompt_tokens_details": None},
        "prompt_logprobs": None,
        "kv_transfer_params": None,
    }
    _, result = send("stackit/openai/gpt-oss-120b", ChatRequest(messages=HELLO), raw)
    assert result.text == "Hello, PyCon Korea 2025! 🎉 ..."
    assert result.reasoning is None
    assert result.tool_calls == []
    assert result.usage is not None
    assert (result.usage.input_tokens, result.usage.output_tokens, result.usage.total_tokens) == (23, 29, 52)
    assert result.usage.cached_input_tokens is None


def _parse(message: dict[str, Any], model: str = "stackit/openai/gpt-oss-120b", **extra: Any) -> Any:
    ep = resolve_endpoint(model, api_key="k")
    raw = {"id": "r1", "model": "m", "choices": [{"index": 0, "message": message, "finish_reason": "stop"}], **extra}
    return parse_chat_response(raw, ep)


def test_reasoning_field_vllm_new() -> None:
    result = _parse({"role": "assistant", "content": "4", "reasoning": "2+2"})
    assert (result.text, result.reasoning) == ("4", "2+2")


def test_reasoning_content_field_vllm_old_and_sglang() -> None:
    result = _parse({"role": "assistant", "content": "4", "reasoning_content": "2+2"}, "chutes/x/y")
    assert (result.text, result.reasoning) == ("4", "2+2")


def test_reasoning_prefers_reasoning_over_reasoning_content() -> None:
    # Implications 5: read "reasoning" first, then "reasoning_content".
    result = _parse({"role": "assistant", "content": "4", "reasoning": "new", "reasoning_content": "old"})
    assert result.reasoning == "new"


def test_reasoning_from_think_tags() -> None:
    result = _parse(
        {"role": "assistant", "content": "<think>\nLet me add.\n</think>\n\nThe answer is 4."}, "chutes/x/y"
    )
    assert result.text == "The answer is 4."
    assert result.reasoning == "Let me add."


def test_reasoning_from_bare_closing_think_tag() -> None:
    # The chat template opened <think> in the prompt: content starts inside the reasoning.
    result = _parse({"role": "assistant", "content": "Let me add.\n</think>\n\nThe answer is 4."}, "chutes/x/y")
    assert result.text == "The answer is 4."
    assert result.reasoning == "Let me add."


def test_unterminated_think_is_all_reasoning() -> None:
    result = _parse(
        {"role": "assistant", "content": "<think>cut off mid-thought"},
        "chutes/x/y",
    )
    assert result.text == ""
    assert result.reasoning == "cut off mid-thought"


def test_reasoning_field_wins_over_think_tags() -> None:
    # With a reasoning field present, content is left as the model wrote it.
    result = _parse({"role": "assistant", "content": "plain answer", "reasoning_content": "thought"}, "chutes/x/y")
    assert (result.text, result.reasoning) == ("plain answer", "thought")


def test_content_without_reasoning() -> None:
    result = _parse({"role": "assistant", "content": "a < b and c > d"})
    assert (result.text, result.reasoning) == ("a < b and c > d", None)


def test_null_and_list_content() -> None:
    assert _parse({"role": "assistant", "content": None}).text == ""
    assert (
        _parse({"role": "assistant", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}).text
        == "ab"
    )


def test_tool_calls_without_ids_get_deterministic_ids() -> None:
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"type": "function", "function": {"name": "f", "arguments": {"x": 1}}},
            {"id": "", "type": "function", "function": {"name": "g", "arguments": None}},
        ],
    }
    first = _parse(message)
    second = _parse(message)
    assert [c.name for c in first.tool_calls] == ["f", "g"]
    assert first.tool_calls[0].arguments == '{"x": 1}'  # dict arguments -> JSON string
    assert first.tool_calls[1].arguments == ""
    assert all(c.id.startswith("call_") for c in first.tool_calls)
    assert first.tool_calls[0].id != first.tool_calls[1].id
    assert [c.id for c in first.tool_calls] == [c.id for c in second.tool_calls]


def test_usage_details() -> None:
    usage = {
        "prompt_tokens": 100,
        "completion_tokens": 50,
        "total_tokens": 150,
        "prompt_tokens_details": {"cached_tokens": 40},
        "completion_tokens_details": {"reasoning_tokens": 30},
    }
    result = _parse({"role": "assistant", "content": "x"}, usage=usage)
    assert result.usage is not None
    assert result.usage.cached_input_tokens == 40
    assert result.usage.reasoning_tokens == 30
    assert result.finish_reason == "stop"
    assert result.model == "m"
    assert result.id == "r1"


def test_answer_without_choices_is_an_api_error() -> None:
    recorder = Recorder(json_response({"id": "x", "choices": []}))
    with pytest.raises(APIError, match="no choices"):
        chat(endpoint("stackit/openai/gpt-oss-120b", recorder), ChatRequest(messages=HELLO))


def test_non_object_answer_is_an_api_error() -> None:
    recorder = Recorder(json_response(["not", "an", "object"]))
    with pytest.raises(APIError, match="JSON object"):
        chat(endpoint("stackit/openai/gpt-oss-120b", recorder), ChatRequest(messages=HELLO))
