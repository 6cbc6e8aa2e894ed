"""Streamed chat: SSE -> normalised deltas and an aggregated result.

providers.md §1.10 (SSE error events, reasoning fields), §4.5 (reasoning, ``<think>``), §4.6 (Chutes
tool-call indices), §4.8 (raw non-SSE ``{"error": ...}`` then EOF), §4.10 (verbatim first chunk,
extra fields), Implications 5, 7, 11.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import pytest

from stackit_chutes_core import (
    ChatDelta,
    ChatRequest,
    ChatResult,
    ChatStreamState,
    Message,
    RateLimitError,
    StreamError,
    ToolCall,
    ToolCallDelta,
    astream_chat,
    resolve_endpoint,
    stream_chat,
)
from tests._http import Recorder, chunk, endpoint, json_response, sse_response

HELLO = ChatRequest(messages=[Message(role="user", content="hi")])
USAGE = {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19}

# providers.md §4.10, verbatim first stream chunk of llm.chutes.ai (Qwen/Qwen3-32B).
CHUTES_FIRST_CHUNK = (
    '{"id":"0ff9d21adf1d458e9b24575c5b1b8115","object":"chat.completion.chunk","created":1771352259,'
    '"model":"Qwen/Qwen3-32B","choices":[{"index":0,"delta":{"role":"assistant","content":"",'
    '"reasoning_content":null,"tool_calls":null},"logprobs":null,"finish_reason":null,"matched_stop":null}],'
    '"usage":null,"chutes_verification":"2b2b847d04afca72b5e532ce3b05feb2"}'
)
VERIFY = {"chutes_verification": "2b2b847d04afca72b5e532ce3b05feb2"}


def run_stream(
    model: str, chunks: Sequence[dict[str, Any] | str], *, done: bool = True, raw_tail: str | None = None
) -> tuple[list[ChatDelta], ChatResult, Recorder]:
    recorder = Recorder(sse_response(chunks, done=done, raw_tail=raw_tail))
    ep = endpoint(model, recorder)
    state = ChatStreamState(ep)
    deltas = list(stream_chat(ep, HELLO, state))
    return deltas, state.result(), recorder


def feed(chunks: Sequence[dict[str, Any]], model: str = "chutes/x/y") -> tuple[list[ChatDelta], ChatResult]:
    """Drive ChatStreamState directly (no HTTP)."""
    state = ChatStreamState(resolve_endpoint(model, api_key="k"))
    deltas = [d for d in (state.process(c) for c in chunks) if d is not None]
    final = state.finish()
    if final is not None:
        deltas.append(final)
    return deltas, state.result()


def text_of(deltas: Sequence[ChatDelta]) -> str:
    return "".join(d.text for d in deltas)


def reasoning_of(deltas: Sequence[ChatDelta]) -> str:
    return "".join(d.reasoning for d in deltas)


# --- text, usage, finish, extras ------------------------------------------------------------------


def test_chutes_stream_with_verbatim_first_chunk() -> None:
    chunks = [
        CHUTES_FIRST_CHUNK,
        chunk({"content": "Hel", "reasoning_content": None, "tool_calls": None}, **VERIFY),
        chunk({"content": "lo!", "tool_calls": None}, **VERIFY),
        {
            **chunk({}, finish_reason="stop", **VERIFY),
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop", "matched_stop": 151645}],
        },
        chunk(choices=False, usage=USAGE, **VERIFY),
    ]
    deltas, result, recorder = run_stream("chutes/Qwen/Qwen3-32B-TEE", chunks)
    assert deltas[0].id == "0ff9d21adf1d458e9b24575c5b1b8115"  # no chatcmpl- prefix, kept as is
    assert deltas[0].model == "Qwen/Qwen3-32B"
    assert text_of(deltas) == "Hello!"
    assert reasoning_of(deltas) == ""
    assert all(d.tool_calls == [] for d in deltas)
    assert result.text == "Hello!"
    assert result.reasoning is None
    assert result.tool_calls == []
    assert result.finish_reason == "stop"
    assert result.id == "0ff9d21adf1d458e9b24575c5b1b8115"
    assert result.model == "Qwen/Qwen3-32B"
    assert result.provider == "chutes"
    body = recorder.last_body()
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert recorder.last.headers["accept"] != ""


def test_usage_emitted_once_at_the_end() -> None:
    chunks = [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "a"}),
        chunk({"content": "b"}, finish_reason="stop"),
        chunk(choices=False, usage=USAGE),
    ]
    deltas, result, _ = run_stream("stackit/openai/gpt-oss-120b", chunks)
    with_usage = [i for i, d in enumerate(deltas) if d.usage is not None]
    assert with_usage == [len(deltas) - 1]
    usage = deltas[-1].usage
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (12, 7, 19)
    assert result.usage == usage
    assert [d.finish_reason for d in deltas if d.finish_reason] == ["stop"]


def test_continuous_usage_stats_still_emit_usage_once() -> None:
    # vLLM stream_options.continuous_usage_stats: usage on every chunk; the last one counts.
    chunks = [
        chunk({"content": "a"}, usage={"prompt_tokens": 12, "completion_tokens": 1, "total_tokens": 13}),
        chunk({"content": "b"}, usage={"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14}),
        chunk({}, finish_reason="length", usage={"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14}),
    ]
    deltas, result = feed(chunks)
    assert [d.usage for d in deltas if d.usage is not None] == [result.usage]
    assert deltas[-1].usage is not None
    assert deltas[-1].usage.output_tokens == 2
    assert result.finish_reason == "length"


def test_stream_without_usage_chunk() -> None:
    deltas, result = feed([chunk({"content": "a"}, finish_reason="stop")])
    assert all(d.usage is None for d in deltas)
    assert result.usage is None


def test_unknown_fields_tolerated() -> None:
    chunks = [
        {
            **chunk({"content": "x", "reasoning_content": None}, **VERIFY),
            "prompt_sha256": "ab" * 32,
            "template_sha256": "cd" * 32,
            "metadata": {"weight_version": "default"},
            "kv_transfer_params": None,
            "prompt_logprobs": None,
        },
        {
            **chunk({}, finish_reason="stop"),
            "choices": [
                {
                    "index": 0,
                    "delta": {},
                    "finish_reason": "stop",
                    "matched_stop": None,
                    "logprobs": None,
                    "token_ids": None,
                }
            ],
        },
    ]
    _, result = feed(chunks)
    assert result.text == "x"
    assert result.finish_reason == "stop"


def test_stream_is_normalised_without_a_provider_model_field() -> None:
    _, result = feed([{"choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": "stop"}]}])
    assert result.model == "x/y"  # the routed id


# --- reasoning ---------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["reasoning", "reasoning_content"])
def test_reasoning_fields_in_deltas(field: str) -> None:
    chunks = [
        chunk({field: "Let me "}),
        chunk({field: "think."}),
        chunk({"content": "42", field: None}),
        chunk({}, finish_reason="stop"),
    ]
    deltas, result = feed(chunks)
    assert reasoning_of(deltas) == "Let me think."
    assert text_of(deltas) == "42"
    assert (result.text, result.reasoning) == ("42", "Let me think.")


def test_think_tags_in_one_chunk() -> None:
    deltas, result = feed([chunk({"content": "<think>plan</think>\n\nanswer"}), chunk({}, finish_reason="stop")])
    assert (result.text, result.reasoning) == ("answer", "plan")
    assert "<think>" not in text_of(deltas)


@pytest.mark.parametrize(
    "pieces",
    [
        ["<th", "ink>pl", "an</th", "ink>", "\n\nans", "wer"],
        ["<", "t", "h", "i", "n", "k", ">", "plan", "<", "/", "think", ">", "answer"],
        ["\n<think>", "plan</", "think>answer"],
        ["<think>plan</think", ">answer"],
    ],
)
def test_think_tags_split_across_chunks(pieces: list[str]) -> None:
    chunks = [chunk({"content": p}) for p in pieces] + [chunk({}, finish_reason="stop")]
    deltas, result = feed(chunks)
    assert text_of(deltas) == "answer"
    assert reasoning_of(deltas).strip() == "plan"
    assert (result.text, result.reasoning) == ("answer", "plan")


def test_unterminated_think_in_stream_is_reasoning() -> None:
    deltas, result = feed(
        [chunk({"content": "<think>never"}), chunk({"content": " closed"}), chunk({}, finish_reason="length")]
    )
    assert text_of(deltas) == ""
    assert result.reasoning == "never closed"


def test_text_that_merely_starts_with_angle_bracket() -> None:
    _, result = feed([chunk({"content": "<"}), chunk({"content": "b>bold</b>"}), chunk({}, finish_reason="stop")])
    assert result.text == "<b>bold</b>"
    assert result.reasoning is None


def test_held_back_prefix_is_flushed_at_the_end() -> None:
    _, result = feed([chunk({"content": "<thi"}), chunk({}, finish_reason="stop")])
    assert result.text == "<thi"


def test_bare_closing_think_tag_in_stream() -> None:
    chunks = [
        chunk({"content": "Let me "}),
        chunk({"content": "add.</th"}),
        chunk({"content": "ink>\n\nThe answer is 4."}),
        chunk({}, finish_reason="stop"),
    ]
    deltas, result = feed(chunks, "chutes/deepseek-ai/DeepSeek-R1-0528")
    assert "</think>" not in text_of(deltas)
    assert (result.text, result.reasoning) == ("The answer is 4.", "Let me add.")


def test_reasoning_model_without_tags_releases_its_answer_at_the_end() -> None:
    # A reasoning model that did not think this time: nothing is lost, the text arrives at the end.
    chunks = [chunk({"content": "Just "}), chunk({"content": "4."}), chunk({}, finish_reason="stop")]
    deltas, result = feed(chunks, "chutes/deepseek-ai/DeepSeek-R1-0528")
    assert (text_of(deltas), result.text, result.reasoning) == ("Just 4.", "Just 4.", None)


def test_reasoning_field_releases_held_content_as_text() -> None:
    chunks = [
        chunk({"content": "Sure: "}),
        chunk({"reasoning_content": "thinking"}),
        chunk({"content": "4."}),
        chunk({}, finish_reason="stop"),
    ]
    deltas, result = feed(chunks, "chutes/deepseek-ai/DeepSeek-R1-0528")
    assert (result.text, result.reasoning) == ("Sure: 4.", "thinking")
    assert text_of(deltas) == "Sure: 4."


def test_models_not_known_to_reason_stream_text_immediately() -> None:
    deltas, _ = feed(
        [chunk({"content": "Hello"}), chunk({}, finish_reason="stop")],
        "stackit/cortecs/Llama-3.3-70B-Instruct-FP8-Dynamic",
    )
    assert deltas[0].text == "Hello"  # not held back


# --- tool calls -----------------------------------------------------------------------------------


def _calls(result: ChatResult) -> list[tuple[str, str, str]]:
    return [(c.id, c.name, c.arguments) for c in result.tool_calls]


def test_tool_call_fragments_are_merged() -> None:
    chunks = [
        chunk(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": ""},
                    }
                ],
            }
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"location": '}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Berlin"}'}}]}),
        chunk({}, finish_reason="tool_calls"),
    ]
    deltas, result = feed(chunks)
    assert _calls(result) == [("call_1", "get_weather", '{"location": "Berlin"}')]
    assert result.tool_calls[0].parsed_arguments() == {"location": "Berlin"}
    flat = [tc for d in deltas for tc in d.tool_calls]
    assert flat[0] == ToolCallDelta(index=0, id="call_1", name="get_weather", arguments="")
    assert all(tc.index == 0 for tc in flat)
    assert [tc.id for tc in flat[1:]] == [None, None]  # id and name announced once
    assert [tc.name for tc in flat[1:]] == [None, None]
    assert result.finish_reason == "tool_calls"


def test_chutes_parallel_calls_all_index_zero_in_stream() -> None:
    chunks = [
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_a",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": ""},
                    }
                ]
            }
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"location": "San Francisco"}'}}]}),
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_b",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": ""},
                    }
                ]
            }
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"location": "New York"}'}}]}),
        chunk({"tool_calls": None}, finish_reason="tool_calls"),
    ]
    deltas, result = feed(chunks)
    assert _calls(result) == [
        ("call_a", "get_weather", '{"location": "San Francisco"}'),
        ("call_b", "get_weather", '{"location": "New York"}'),
    ]
    assert [tc.index for d in deltas for tc in d.tool_calls] == [0, 0, 1, 1]


def test_sglang_style_ids_repeated_on_every_fragment() -> None:
    # SGLang: id "0"/"1" on every fragment, index always 0 (lmdeploy/lmdeploy#3412 comparison).
    chunks = [
        chunk(
            {"tool_calls": [{"index": 0, "id": "0", "type": "function", "function": {"name": "f", "arguments": ""}}]}
        ),
        chunk(
            {"tool_calls": [{"index": 0, "id": "0", "type": "function", "function": {"name": None, "arguments": "{}"}}]}
        ),
        chunk(
            {"tool_calls": [{"index": 0, "id": "1", "type": "function", "function": {"name": "g", "arguments": ""}}]}
        ),
        chunk(
            {
                "tool_calls": [
                    {"index": 0, "id": "1", "type": "function", "function": {"name": None, "arguments": '{"a": 1}'}}
                ]
            }
        ),
        chunk({}, finish_reason="tool_calls"),
    ]
    _, result = feed(chunks)
    assert _calls(result) == [("0", "f", "{}"), ("1", "g", '{"a": 1}')]


def test_vllm_empty_string_id_on_continuations() -> None:
    chunks = [
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "chatcmpl-tool-1",
                        "type": "function",
                        "function": {"name": "f", "arguments": ""},
                    }
                ]
            }
        ),
        chunk(
            {
                "tool_calls": [
                    {"index": 0, "id": "", "type": "function", "function": {"arguments": '{"x": 1}', "name": None}}
                ]
            }
        ),
        chunk({}, finish_reason="tool_calls"),
    ]
    _, result = feed(chunks)
    assert _calls(result) == [("chatcmpl-tool-1", "f", '{"x": 1}')]


def test_sparse_and_string_indices_are_normalised() -> None:
    chunks = [
        chunk({"tool_calls": [{"index": "3", "id": "call_x", "function": {"name": "f", "arguments": '{"a"'}}]}),
        chunk({"tool_calls": [{"index": 7, "id": "call_y", "function": {"name": "g", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 3, "function": {"arguments": ": 1}"}}]}),
        chunk({"tool_calls": [{"index": "7", "function": {"arguments": "{}"}}]}),
        chunk({}, finish_reason="tool_calls"),
    ]
    deltas, result = feed(chunks)
    assert _calls(result) == [("call_x", "f", '{"a": 1}'), ("call_y", "g", "{}")]
    assert [tc.index for d in deltas for tc in d.tool_calls] == [0, 1, 0, 1]


def test_missing_indices() -> None:
    chunks = [
        chunk({"tool_calls": [{"id": "call_1", "function": {"name": "f", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": None, "function": {"arguments": '{"q": '}}]}),
        chunk({"tool_calls": [{"function": {"arguments": '"x"}'}}]}),
        chunk({"tool_calls": [{"id": "call_2", "function": {"name": "g", "arguments": "{}"}}]}),
        chunk({}, finish_reason="tool_calls"),
    ]
    _, result = feed(chunks)
    assert _calls(result) == [("call_1", "f", '{"q": "x"}'), ("call_2", "g", "{}")]


def test_two_same_index_fragments_in_one_delta() -> None:
    # vLLM speculative decoding: one delta holds several fragments of the same call (openai-python #3203).
    chunks = [
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"loc'},
                    },
                    {"index": 0, "function": {"arguments": 'ation": "Ber'}},
                ]
            }
        ),
        chunk(
            {
                "tool_calls": [
                    {"index": 0, "function": {"arguments": 'lin"}'}},
                    {
                        "index": 1,
                        "id": "call_2",
                        "type": "function",
                        "function": {"name": "get_time", "arguments": "{}"},
                    },
                ]
            }
        ),
        chunk({}, finish_reason="tool_calls"),
    ]
    deltas, result = feed(chunks)
    assert _calls(result) == [("call_1", "get_weather", '{"location": "Berlin"}'), ("call_2", "get_time", "{}")]
    first, second = (d.tool_calls for d in deltas if d.tool_calls)
    assert first == [ToolCallDelta(index=0, id="call_1", name="get_weather", arguments='{"location": "Ber')]
    assert second == [
        ToolCallDelta(index=0, id=None, name=None, arguments='lin"}'),
        ToolCallDelta(index=1, id="call_2", name="get_time", arguments="{}"),
    ]


def test_dict_arguments_in_stream() -> None:
    _, result = feed(
        [
            chunk({"tool_calls": [{"index": 0, "id": "c", "function": {"name": "f", "arguments": {"a": 1}}}]}),
            chunk({}, finish_reason="tool_calls"),
        ]
    )
    assert result.tool_calls == [ToolCall(id="c", name="f", arguments='{"a": 1}')]


def test_tool_calls_without_any_id_get_deterministic_ids() -> None:
    chunks = [
        chunk({"tool_calls": [{"index": 0, "function": {"name": "f", "arguments": "{}"}}]}),
        chunk({}, finish_reason="tool_calls"),
    ]
    _, first = feed(chunks)
    _, second = feed(chunks)
    assert first.tool_calls[0].id.startswith("call_")
    assert first.tool_calls[0].id == second.tool_calls[0].id


def test_tool_calls_null_deltas_everywhere() -> None:
    chunks = [
        chunk({"role": "assistant", "content": "", "reasoning_content": None, "tool_calls": None}),
        chunk({"content": "ok", "tool_calls": None}),
        chunk({"tool_calls": []}),
        chunk({"tool_calls": None}, finish_reason="stop"),
    ]
    deltas, result = feed(chunks)
    assert result.text == "ok"
    assert result.tool_calls == []
    assert all(d.tool_calls == [] for d in deltas)


# --- broken streams -----------------------------------------------------------------------------


def test_chutes_raw_error_line_then_eof_is_a_stream_error() -> None:
    # §4.8: after streaming started, Chutes writes a raw (non-SSE) {"error": ...} line and closes.
    chunks = [CHUTES_FIRST_CHUNK, chunk({"content": "partial"}, **VERIFY)]
    tail = json.dumps({"error": "Unhandled exception during response stream: CUDA out of memory"}) + "\n"
    recorder = Recorder(sse_response(chunks, done=False, raw_tail=tail))
    ep = endpoint("chutes/Qwen/Qwen3-32B-TEE", recorder)
    received: list[ChatDelta] = []
    with pytest.raises(StreamError) as caught:
        for delta in stream_chat(ep, HELLO):
            received.append(delta)
    assert text_of(received) == "partial"
    assert caught.value.provider == "chutes"
    assert "CUDA out of memory" in str(caught.value)  # the provider's own message, not just "ended early"


def test_stream_ending_without_finish_reason_is_a_stream_error() -> None:
    with pytest.raises(StreamError):
        run_stream("stackit/openai/gpt-oss-120b", [chunk({"content": "cut"})], done=False)
    with pytest.raises(StreamError):  # [DONE] without any finish_reason is still truncated
        run_stream("stackit/openai/gpt-oss-120b", [chunk({"content": "cut"})], done=True)


def test_sse_error_event_is_a_stream_error() -> None:
    # §1.10: "Streaming errors arrive as an SSE data: {"error": {...}} line."
    error = {"error": {"message": "Engine died", "type": "InternalServerError", "param": None, "code": 500}}
    with pytest.raises(StreamError) as caught:
        run_stream("stackit/openai/gpt-oss-120b", [chunk({"content": "a"}), error])
    assert "Engine died" in str(caught.value)
    assert caught.value.provider == "stackit"
    assert caught.value.body == error["error"]


def test_sse_string_error_event_is_a_stream_error() -> None:
    with pytest.raises(StreamError):
        run_stream("chutes/x/y", [{"error": "infra_overload", "detail": "Infrastructure is at maximum capacity"}])


def test_invalid_json_event_is_a_stream_error() -> None:
    with pytest.raises(StreamError):
        run_stream("chutes/x/y", [chunk({"content": "a"}), "{not json"])


def test_http_error_before_the_stream_is_typed() -> None:
    # §4.7: the gateway waits for the first chunk, so capacity errors are a proper 429.
    recorder = Recorder(json_response({"detail": "Infrastructure is at maximum capacity, try again later"}, 429))
    with pytest.raises(RateLimitError) as caught:
        list(stream_chat(endpoint("chutes/x/y", recorder), HELLO))
    assert caught.value.message == "Infrastructure is at maximum capacity, try again later"


# --- async ----------------------------------------------------------------------------------------


def test_async_stream_matches_sync() -> None:
    chunks = [
        CHUTES_FIRST_CHUNK,
        chunk({"reasoning_content": "hmm"}),
        chunk({"content": "<think>"}),  # reasoning field and tags never both in practice; still parsed
        chunk({"content": "x</think>y"}),
        chunk({"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "f", "arguments": "{}"}}]}),
        chunk({}, finish_reason="tool_calls"),
        chunk(choices=False, usage=USAGE),
    ]
    sync_deltas, sync_result, _ = run_stream("chutes/x/y", chunks)
    recorder = Recorder(sse_response(chunks))
    ep = endpoint("chutes/x/y", recorder)

    async def collect() -> tuple[list[ChatDelta], ChatResult]:
        state = ChatStreamState(ep)
        deltas = [d async for d in astream_chat(ep, HELLO, state)]
        return deltas, state.result()

    async_deltas, async_result = asyncio.run(collect())
    assert async_deltas == sync_deltas
    assert async_result == sync_result
    assert async_result.usage is not None
    assert async_deltas[-1].usage == async_result.usage


def test_async_stream_errors() -> None:
    recorder = Recorder(sse_response([chunk({"content": "a"})], done=False, raw_tail='{"error": "boom"}\n'))
    ep = endpoint("chutes/x/y", recorder)

    async def consume() -> None:
        async for _ in astream_chat(ep, HELLO):
            pass

    with pytest.raises(StreamError):
        asyncio.run(consume())


def test_require_finish_can_be_disabled() -> None:
    state = ChatStreamState(resolve_endpoint("chutes/x/y", api_key="k"), require_finish=False)
    state.process(chunk({"content": "a"}))
    assert state.finish() is None
    assert state.result().text == "a"


def test_stream_request_error_is_raised_before_deltas() -> None:
    recorder = Recorder(json_response({"detail": "model not found: x/y"}, 404))
    gen = stream_chat(endpoint("chutes/x/y", recorder), HELLO)
    with pytest.raises(Exception, match="model not found"):
        next(gen)
