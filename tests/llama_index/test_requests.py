"""What StackitChutes sends and how it reads answers, checked offline against an in-process fake server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx2
import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.tools import FunctionTool

from llama_index_stackit_chutes import StackitChutes
from stackit_chutes_core import InvalidInputError
from tests._http import CHUTES_HOST, STACKIT_HOST, Recorder, chat_completion, chunk, json_response, sse_response
from tests.llama_index._helpers import CHAT_MODELS, RED, make_png

USER = [ChatMessage(role=MessageRole.USER, content="Hi")]


@pytest.fixture(autouse=True)
def _real_provider_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests talk to the fake server only; the default provider URLs must be in effect."""
    for name in ("STACKIT_BASE_URL", "CHUTES_BASE_URL", "CHUTES_EMBEDDINGS_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def lookup(city: str) -> str:
    """Look up a city."""
    return city


def _llm(server: Recorder, model: str = CHAT_MODELS["stackit"], **kwargs: Any) -> StackitChutes:
    return StackitChutes(model=model, **server.clients(llama_index=True), **kwargs)


class TestRequestBody:
    def test_fields_and_provider_renames(self) -> None:
        server = Recorder(json_response(chat_completion()))
        _llm(server, temperature=0.2, max_tokens=64, additional_kwargs={"top_k": 5, "seed": 3}).chat(USER)
        _llm(server, CHAT_MODELS["chutes"], max_tokens=64).chat(USER, top_p=0.5)
        stackit, chutes = server.bodies()
        assert stackit["model"] == "openai/gpt-oss-120b"
        assert stackit["temperature"] == 0.2
        assert stackit["max_completion_tokens"] == 64
        assert stackit["top_k"] == 5
        assert stackit["seed"] == 3
        assert "tools" not in stackit
        assert chutes["model"] == "deepseek-ai/DeepSeek-V3.2-TEE"
        assert chutes["max_tokens"] == 64
        assert chutes["top_p"] == 0.5
        assert [r.url.host for r in server.requests] == [STACKIT_HOST, CHUTES_HOST]

    def test_per_call_kwargs_override_defaults(self) -> None:
        server = Recorder(json_response(chat_completion()))
        _llm(server, temperature=0.2, additional_kwargs={"top_k": 5}).chat(USER, temperature=0.9, top_k=1)
        assert server.bodies()[0]["temperature"] == 0.9
        assert server.bodies()[0]["top_k"] == 1

    def test_reasoning_and_thinking_options(self) -> None:
        server = Recorder(json_response(chat_completion()))
        _llm(server, reasoning_effort="low").chat(USER)
        _llm(server, CHAT_MODELS["chutes"], thinking=True).chat(USER)
        assert server.bodies()[0]["reasoning_effort"] == "low"
        assert server.bodies()[1]["chat_template_kwargs"]["enable_thinking"] is True
        assert server.requests[1].headers["x-enable-thinking"] == "true"

    def test_stream_asks_for_usage(self) -> None:
        server = Recorder(sse_response([chunk({"content": "ok"}, finish_reason="stop")]))
        list(_llm(server).stream_chat(USER))
        assert server.bodies()[0]["stream"] is True
        assert server.bodies()[0]["stream_options"] == {"include_usage": True}

    def test_history_conversion(self) -> None:
        server = Recorder(json_response(chat_completion()))
        history = [
            ChatMessage(role=MessageRole.SYSTEM, content="Be brief."),
            ChatMessage(role=MessageRole.USER, content="Weather in Paris?"),
            ChatMessage(
                role=MessageRole.ASSISTANT,
                blocks=[
                    ThinkingBlock(content="I should look it up."),
                    ToolCallBlock(tool_call_id="call_1", tool_name="lookup", tool_kwargs={"city": "Paris"}),
                ],
            ),
            ChatMessage(role=MessageRole.TOOL, content="Sunny", additional_kwargs={"tool_call_id": "call_1"}),
            ChatMessage(
                role=MessageRole.ASSISTANT,
                content="",
                additional_kwargs={
                    "tool_calls": [{"id": "call_2", "function": {"name": "lookup", "arguments": '{"city": "Rome"}'}}]
                },
            ),
            ChatMessage(role=MessageRole.TOOL, content="Rainy", additional_kwargs={"tool_call_id": "call_2"}),
        ]
        _llm(server).chat(history)
        messages = server.bodies()[0]["messages"]
        assert messages[0] == {"role": "system", "content": "Be brief."}
        assert messages[1] == {"role": "user", "content": "Weather in Paris?"}
        assert messages[2]["content"] is None
        assert messages[2]["tool_calls"] == [
            {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": '{"city": "Paris"}'}}
        ]
        assert "reasoning" not in messages[2]
        assert messages[3] == {"role": "tool", "content": "Sunny", "tool_call_id": "call_1"}
        assert messages[4]["tool_calls"][0]["id"] == "call_2"
        assert messages[4]["tool_calls"][0]["function"]["arguments"] == '{"city": "Rome"}'
        assert messages[5]["tool_call_id"] == "call_2"

    def test_image_blocks(self) -> None:
        server = Recorder(json_response(chat_completion("red")))
        llm = _llm(server, "stackit/Qwen/Qwen3-VL-235B-A22B-Instruct-FP8")
        message = ChatMessage(
            role=MessageRole.USER,
            blocks=[
                TextBlock(text="Compare"),
                ImageBlock(image=make_png(RED), detail="low"),
                ImageBlock(url="https://example.com/cat.png"),
            ],
        )
        llm.chat([message])
        parts = server.bodies()[0]["messages"][0]["content"]
        assert parts[0] == {"type": "text", "text": "Compare"}
        assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,iVBOR")
        assert parts[1]["image_url"]["detail"] == "low"
        assert parts[2] == {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}

    def test_unsupported_block(self) -> None:
        from llama_index.core.base.llms.types import DocumentBlock

        llm = _llm(Recorder(json_response(chat_completion())))
        message = ChatMessage(role=MessageRole.USER, blocks=[DocumentBlock(data=b"%PDF-1.4 hello")])
        with pytest.raises(InvalidInputError, match="DocumentBlock"):
            llm.chat([message])


class TestTools:
    def test_prepare_chat_with_tools(self) -> None:
        server = Recorder(json_response(chat_completion()))
        llm = _llm(server)
        history = [ChatMessage(role=MessageRole.USER, content="Paris?")]
        tool = FunctionTool.from_defaults(lookup)
        llm.chat_with_tools([tool], chat_history=history)
        llm.chat_with_tools([tool], user_msg="x", tool_required=True, allow_parallel_tool_calls=True)
        llm.chat_with_tools([tool], user_msg="x", tool_choice="lookup", strict=True)
        auto, required, named = server.bodies()
        assert auto["tools"][0]["function"]["name"] == "lookup"
        assert auto["tools"][0]["function"]["description"].startswith("lookup(city:")
        assert auto["tools"][0]["function"]["parameters"]["required"] == ["city"]
        assert auto["tool_choice"] == "auto"
        assert auto["parallel_tool_calls"] is False
        assert required["tool_choice"] == "required"
        assert required["parallel_tool_calls"] is True
        assert named["tool_choice"] == {"type": "function", "function": {"name": "lookup"}}
        assert named["tools"][0]["function"]["strict"] is True
        assert named["tools"][0]["function"]["parameters"]["additionalProperties"] is False
        assert len(history) == 1

    def test_no_tools_sends_no_tool_fields(self) -> None:
        server = Recorder(json_response(chat_completion()))
        _llm(server).chat_with_tools([], user_msg="x")
        assert not {"tools", "tool_choice", "parallel_tool_calls"} & set(server.bodies()[0])

    def test_tool_calls_parsed_and_single_call_enforced(self) -> None:
        calls = [
            {"id": "a", "type": "function", "function": {"name": "lookup", "arguments": '{"city": "Paris"}'}},
            {"id": "b", "type": "function", "function": {"name": "lookup", "arguments": '{"city": "Rome"}'}},
        ]
        server = Recorder(json_response(chat_completion(None, tool_calls=calls, finish_reason="tool_calls")))
        llm = _llm(server)
        tool = FunctionTool.from_defaults(lookup)
        both = llm.chat_with_tools([tool], user_msg="x", allow_parallel_tool_calls=True)
        one = llm.chat_with_tools([tool], user_msg="x")
        assert [c.tool_kwargs["city"] for c in llm.get_tool_calls_from_response(both)] == ["Paris", "Rome"]
        assert [c.tool_id for c in llm.get_tool_calls_from_response(one)] == ["a"]
        assert len(one.message.additional_kwargs["tool_calls"]) == 1

    def test_get_tool_calls_tolerates_partial_and_legacy_forms(self) -> None:
        llm = _llm(Recorder(json_response(chat_completion())))
        partial = ChatResponse(
            message=ChatMessage(
                role=MessageRole.ASSISTANT,
                blocks=[ToolCallBlock(tool_call_id="x", tool_name="lookup", tool_kwargs='{"city": "Par')],
            )
        )
        assert set(llm.get_tool_calls_from_response(partial)[0].tool_kwargs) == {"city"}
        broken = ChatResponse(
            message=ChatMessage(
                role=MessageRole.ASSISTANT,
                blocks=[ToolCallBlock(tool_call_id="x", tool_name="lookup", tool_kwargs="[1, 2")],
            )
        )
        assert llm.get_tool_calls_from_response(broken)[0].tool_kwargs == {}
        legacy = ChatResponse(
            message=ChatMessage(
                role=MessageRole.ASSISTANT,
                content="",
                additional_kwargs={"tool_calls": [{"id": "y", "function": {"name": "lookup", "arguments": "{}"}}]},
            )
        )
        assert llm.get_tool_calls_from_response(legacy)[0].tool_id == "y"
        empty = ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content="no"))
        assert llm.get_tool_calls_from_response(empty, error_on_no_tool_call=False) == []
        with pytest.raises(ValueError, match="no"):
            llm.get_tool_calls_from_response(empty)


def _chutes_parallel_stream() -> httpx2.Response:
    """Chutes numbers parallel calls all index 0, sends reasoning_content and a usage-only last chunk."""
    return sse_response(
        [
            chunk({"role": "assistant", "reasoning_content": "Two cities."}),
            chunk({"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "lookup", "arguments": ""}}]}),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]}),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}),
            chunk({"tool_calls": [{"index": 0, "id": "c2", "function": {"name": "lookup", "arguments": ""}}]}),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": "Rome"}'}}]}),
            chunk({}, finish_reason="tool_calls"),
            chunk(choices=False, usage={"prompt_tokens": 13, "completion_tokens": 9, "total_tokens": 22}),
        ]
    )


class TestStreaming:
    def test_parallel_calls_usage_and_thinking(self) -> None:
        counter = TokenCountingHandler()
        server = Recorder(_chutes_parallel_stream())
        llm = _llm(server, CHAT_MODELS["chutes"], callback_manager=CallbackManager([counter]))
        chunks = list(llm.stream_chat_with_tools([FunctionTool.from_defaults(lookup)], user_msg="x"))
        assert chunks[0].additional_kwargs["thinking_delta"] == "Two cities."
        for piece in chunks:
            llm.get_tool_calls_from_response(piece, error_on_no_tool_call=False)
        final = chunks[-1]
        calls = llm.get_tool_calls_from_response(final)
        assert [(c.tool_id, c.tool_kwargs) for c in calls] == [("c1", {"city": "Paris"}), ("c2", {"city": "Rome"})]
        assert [c["id"] for c in final.message.additional_kwargs["tool_calls"]] == ["c1", "c2"]
        assert isinstance(final.message.blocks[0], ThinkingBlock)
        assert final.raw["usage"] == {"prompt_tokens": 13, "completion_tokens": 9, "total_tokens": 22}
        assert (counter.prompt_llm_token_count, counter.completion_llm_token_count) == (13, 9)
        assert len(counter.llm_token_counts) == 1

    def test_stream_without_usage_still_ends_with_full_message(self) -> None:
        server = Recorder(sse_response([chunk({"content": "Hel"}), chunk({"content": "lo"}, finish_reason="stop")]))
        chunks = list(_llm(server).stream_chat(USER))
        assert [c.delta for c in chunks] == ["Hel", "lo"]
        assert chunks[-1].message.content == "Hello"

    def test_think_tags_become_thinking(self) -> None:
        server = Recorder(
            sse_response([chunk({"content": "<think>hmm</think>"}), chunk({"content": "Yes"}, finish_reason="stop")])
        )
        chunks = list(_llm(server, "chutes/deepseek-ai/DeepSeek-R1-0528").stream_chat(USER))
        assert chunks[-1].message.content == "Yes"
        assert chunks[-1].message.blocks[0].content == "hmm"


class TestKeysAndRouting:
    def test_explicit_key_only_goes_to_its_provider(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CHUTES_API_KEY", "chutes-env-key")
        server = Recorder(json_response(chat_completion()))
        llm = _llm(server, api_key="stackit-explicit", api_base="https://stackit.example/v1")
        llm.chat(USER)
        llm.chat(USER, model=CHAT_MODELS["chutes"])
        home, other = server.requests
        assert home.headers["authorization"] == "Bearer stackit-explicit"
        assert str(home.url) == "https://stackit.example/v1/chat/completions"
        assert other.headers["authorization"] == "Bearer chutes-env-key"
        assert other.url.host == CHUTES_HOST
        assert json.loads(other.content)["model"] == "deepseek-ai/DeepSeek-V3.2-TEE"

    def test_openai_variables_never_used(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
        monkeypatch.setenv("OPENAI_BASE_URL", "https://api.openai.com/v1")
        monkeypatch.delenv("STACKIT_API_KEY")
        from stackit_chutes_core import MissingAPIKeyError

        with pytest.raises(MissingAPIKeyError, match="STACKIT_API_KEY"):
            _llm(Recorder(json_response(chat_completion()))).chat(USER)

    def test_default_headers(self) -> None:
        server = Recorder(json_response(chat_completion()))
        _llm(server, default_headers={"X-Team": "rag"}).chat(USER)
        assert server.requests[0].headers["x-team"] == "rag"


class TestAsyncClients:
    def test_repeated_asyncio_run_on_one_instance(self) -> None:
        server = Recorder(json_response(chat_completion("pong")))
        llm = _llm(server)
        assert asyncio.run(llm.achat(USER)).message.content == "pong"
        assert asyncio.run(llm.achat(USER)).message.content == "pong"
        assert asyncio.run(llm.acomplete("x")).text == "pong"
        assert len(server.requests) == 3


class TestOlderCoreWithoutNewBlocks:
    """llama-index-core releases without ThinkingBlock / ToolCallBlock get the legacy additional_kwargs forms."""

    @pytest.fixture(autouse=True)
    def _without_new_blocks(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from llama_index_stackit_chutes import _convert

        monkeypatch.setattr(_convert, "ThinkingBlock", None)
        monkeypatch.setattr(_convert, "ToolCallBlock", None)

    def test_reasoning_and_tool_calls_in_additional_kwargs(self) -> None:
        calls = [
            {"id": "a", "type": "function", "function": {"name": "lookup", "arguments": '{"city": "Paris"}'}},
            {"id": "b", "type": "function", "function": {"name": "lookup", "arguments": '{"city": "Rome"}'}},
        ]
        answer = chat_completion(None, tool_calls=calls, reasoning="Two cities.", finish_reason="tool_calls")
        server = Recorder(json_response(answer))
        llm = _llm(server)
        tool = FunctionTool.from_defaults(lookup)
        response = llm.chat_with_tools([tool], user_msg="x", allow_parallel_tool_calls=True)
        message = response.message
        assert all(isinstance(b, TextBlock) for b in message.blocks)
        assert message.additional_kwargs["reasoning_content"] == "Two cities."
        assert [c.tool_id for c in llm.get_tool_calls_from_response(response)] == ["a", "b"]
        single = llm.chat_with_tools([tool], user_msg="x")
        assert [c.tool_id for c in llm.get_tool_calls_from_response(single)] == ["a"]
        # the legacy form goes back to the provider as tool_calls
        llm.chat(
            [*USER, message, ChatMessage(role=MessageRole.TOOL, content="ok", additional_kwargs={"tool_call_id": "a"})]
        )
        assert [c["id"] for c in server.bodies()[-1]["messages"][1]["tool_calls"]] == ["a", "b"]
