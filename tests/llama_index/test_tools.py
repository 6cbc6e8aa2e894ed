"""Tool calling: chat_with_tools (all four forms), tool-call parsing, predict_and_call, forced and parallel calls."""

from __future__ import annotations

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.tools import FunctionTool

from llama_index_stackit_chutes import StackitChutes

pytestmark = pytest.mark.vcr


def multiply(a: int, b: int) -> int:
    """Multiply two integers and return the product."""
    return a * b


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny, 21 degrees in {city}"


MULTIPLY = FunctionTool.from_defaults(multiply)
WEATHER = FunctionTool.from_defaults(get_weather)
ASK_MULTIPLY = "What is 6 times 7? Use the multiply tool."
ASK_WEATHER = "What is the weather in 'Paris' and 'London'?"


def _assert_multiply_call(llm: StackitChutes, response: object) -> str:
    calls = llm.get_tool_calls_from_response(response)  # type: ignore[arg-type]
    assert len(calls) == 1
    assert calls[0].tool_name == "multiply"
    assert calls[0].tool_kwargs == {"a": 6, "b": 7}
    assert calls[0].tool_id
    return calls[0].tool_id


class TestChatWithTools:
    def test_chat_with_tools(self, llm: StackitChutes) -> None:
        response = llm.chat_with_tools([MULTIPLY], user_msg=ASK_MULTIPLY)
        call_id = _assert_multiply_call(llm, response)
        blocks = [b for b in response.message.blocks if isinstance(b, ToolCallBlock)]
        assert blocks[0].tool_call_id == call_id
        assert response.message.additional_kwargs["tool_calls"][0]["id"] == call_id

    async def test_achat_with_tools(self, llm: StackitChutes) -> None:
        response = await llm.achat_with_tools([MULTIPLY], user_msg=ASK_MULTIPLY)
        _assert_multiply_call(llm, response)

    def test_stream_chat_with_tools(self, llm: StackitChutes) -> None:
        chunks = list(llm.stream_chat_with_tools([MULTIPLY], user_msg=ASK_MULTIPLY))
        for chunk in chunks:  # partial arguments never raise
            llm.get_tool_calls_from_response(chunk, error_on_no_tool_call=False)
        _assert_multiply_call(llm, chunks[-1])
        assert isinstance(chunks[-1].message.additional_kwargs["tool_calls"], list)

    async def test_astream_chat_with_tools(self, llm: StackitChutes) -> None:
        chunks = [c async for c in await llm.astream_chat_with_tools([MULTIPLY], user_msg=ASK_MULTIPLY)]
        _assert_multiply_call(llm, chunks[-1])

    def test_tool_result_round_trip(self, llm: StackitChutes) -> None:
        """The assistant's tool call and the tool's answer go back; the model uses the result."""
        history = [ChatMessage(role=MessageRole.USER, content=ASK_MULTIPLY)]
        response = llm.chat_with_tools([MULTIPLY], chat_history=history)
        call = llm.get_tool_calls_from_response(response)[0]
        output = MULTIPLY.call(**call.tool_kwargs)
        history += [
            response.message,
            ChatMessage(role=MessageRole.TOOL, content=str(output), additional_kwargs={"tool_call_id": call.tool_id}),
        ]
        final = llm.chat_with_tools([MULTIPLY], chat_history=history)
        assert "42" in (final.message.content or "")
        assert llm.get_tool_calls_from_response(final, error_on_no_tool_call=False) == []
        assert len(history) == 3  # the caller's list was not mutated by chat_with_tools

    def test_no_tool_call_raises_only_when_asked(self, llm: StackitChutes) -> None:
        response = llm.chat_with_tools([MULTIPLY], user_msg="Hello")
        assert llm.get_tool_calls_from_response(response, error_on_no_tool_call=False) == []
        with pytest.raises(ValueError, match="tool call"):
            llm.get_tool_calls_from_response(response)


class TestToolChoice:
    def test_tool_required(self, llm: StackitChutes) -> None:
        """tool_required=True forces a call even for a prompt that needs no tool."""
        response = llm.chat_with_tools([WEATHER], user_msg="Hello there, how are you?", tool_required=True)
        calls = llm.get_tool_calls_from_response(response)
        assert [c.tool_name for c in calls] == ["get_weather"]

    def test_named_tool_choice(self, llm: StackitChutes) -> None:
        response = llm.chat_with_tools(
            [MULTIPLY, WEATHER], user_msg="What is the weather in Paris?", tool_choice="multiply"
        )
        assert [c.tool_name for c in llm.get_tool_calls_from_response(response)] == ["multiply"]


class TestParallelCalls:
    def test_parallel_calls(self, llm: StackitChutes) -> None:
        response = llm.chat_with_tools([WEATHER], user_msg=ASK_WEATHER, allow_parallel_tool_calls=True)
        calls = llm.get_tool_calls_from_response(response)
        assert [c.tool_kwargs["city"] for c in calls] == ["Paris", "London"]
        assert len({c.tool_id for c in calls}) == 2

    async def test_parallel_calls_streamed(self, llm: StackitChutes) -> None:
        gen = await llm.astream_chat_with_tools([WEATHER], user_msg=ASK_WEATHER, allow_parallel_tool_calls=True)
        chunks = [c async for c in gen]
        calls = llm.get_tool_calls_from_response(chunks[-1])
        assert [c.tool_kwargs["city"] for c in calls] == ["Paris", "London"]

    def test_single_call_when_not_parallel(self, llm: StackitChutes) -> None:
        response = llm.chat_with_tools([WEATHER], user_msg=ASK_WEATHER, allow_parallel_tool_calls=False)
        calls = llm.get_tool_calls_from_response(response)
        assert len(calls) == 1
        assert len(response.message.additional_kwargs["tool_calls"]) == 1


class TestPredictAndCall:
    def test_predict_and_call(self, llm: StackitChutes) -> None:
        response = llm.predict_and_call([MULTIPLY], user_msg=ASK_MULTIPLY)
        assert response.response == "42"
        assert response.sources[0].tool_name == "multiply"

    async def test_apredict_and_call(self, llm: StackitChutes) -> None:
        response = await llm.apredict_and_call([MULTIPLY], user_msg=ASK_MULTIPLY)
        assert response.response == "42"

    def test_predict_and_call_parallel(self, llm: StackitChutes) -> None:
        response = llm.predict_and_call([WEATHER], user_msg=ASK_WEATHER, allow_parallel_tool_calls=True)
        assert "Paris" in response.response
        assert "London" in response.response
        assert len(response.sources) == 2
