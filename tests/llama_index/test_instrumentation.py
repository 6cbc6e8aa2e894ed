"""Callback handlers, instrumentation events and token counting fire once per call, with the real usage."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.callbacks import CallbackManager, CBEventType, TokenCountingHandler
from llama_index.core.callbacks.base_handler import BaseCallbackHandler
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.events.llm import (
    LLMChatEndEvent,
    LLMChatInProgressEvent,
    LLMChatStartEvent,
    LLMCompletionEndEvent,
    LLMCompletionStartEvent,
)

from llama_index_stackit_chutes import StackitChutes
from tests.llama_index._helpers import CHAT_MODELS, CallbackEvents

pytestmark = pytest.mark.vcr

QUESTION = [ChatMessage(role=MessageRole.USER, content="What is the capital of France?")]


class Recorder(BaseEventHandler):
    """Collects every instrumentation event."""

    events: list[BaseEvent] = []  # noqa: RUF012 - a pydantic field, copied per instance

    @classmethod
    def class_name(cls) -> str:
        return "Recorder"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.events.append(event)

    def of(self, kind: type[BaseEvent]) -> list[BaseEvent]:
        return [e for e in self.events if isinstance(e, kind)]


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    handler = Recorder(events=[])
    dispatcher = get_dispatcher()
    dispatcher.add_event_handler(handler)
    try:
        yield handler
    finally:
        dispatcher.event_handlers.remove(handler)


def _llm_with(handler: BaseCallbackHandler, provider: str) -> StackitChutes:
    return StackitChutes(model=CHAT_MODELS[provider], callback_manager=CallbackManager([handler]))


class TestInstrumentationEvents:
    def test_chat_events(self, provider: str, recorder: Recorder) -> None:
        StackitChutes(model=CHAT_MODELS[provider]).chat(QUESTION)
        assert len(recorder.of(LLMChatStartEvent)) == 1
        assert len(recorder.of(LLMChatEndEvent)) == 1
        start = recorder.of(LLMChatStartEvent)[0]
        assert start.model_dict["model_name"] == CHAT_MODELS[provider]
        assert "api_key" not in str(start.model_dict)

    async def test_stream_events(self, provider: str, recorder: Recorder) -> None:
        llm = StackitChutes(model=CHAT_MODELS[provider])
        chunks = [c async for c in await llm.astream_chat(QUESTION)]
        assert len(recorder.of(LLMChatStartEvent)) == 1
        assert len(recorder.of(LLMChatInProgressEvent)) == len(chunks)
        ends = recorder.of(LLMChatEndEvent)
        assert len(ends) == 1
        assert ends[0].response.message.content == chunks[-1].message.content

    def test_complete_events_not_doubled(self, provider: str, recorder: Recorder) -> None:
        """complete() is built on the private chat, so it fires completion events only, once."""
        StackitChutes(model=CHAT_MODELS[provider]).complete("What is the capital of Italy?")
        assert len(recorder.of(LLMCompletionStartEvent)) == 1
        assert len(recorder.of(LLMCompletionEndEvent)) == 1
        assert recorder.of(LLMChatStartEvent) == []


class TestCallbackHandlers:
    def test_legacy_llm_events(self, provider: str) -> None:
        handler = CallbackEvents()
        _llm_with(handler, provider).chat(QUESTION)
        assert handler.starts.count(CBEventType.LLM) == 1
        assert [kind for kind, _ in handler.ends].count(CBEventType.LLM) == 1


class TestTokenCounting:
    """TokenCountingHandler reads the provider's usage, once per call (not a tokenizer estimate)."""

    def test_chat(self, provider: str) -> None:
        counter = TokenCountingHandler()
        response = _llm_with(counter, provider).chat(QUESTION)
        usage = response.raw["usage"]
        assert len(counter.llm_token_counts) == 1
        assert counter.prompt_llm_token_count == usage["prompt_tokens"]
        assert counter.completion_llm_token_count == usage["completion_tokens"]

    def test_stream_chat(self, provider: str) -> None:
        counter = TokenCountingHandler()
        chunks = list(_llm_with(counter, provider).stream_chat(QUESTION))
        usage = chunks[-1].raw["usage"]
        assert len(counter.llm_token_counts) == 1
        assert counter.prompt_llm_token_count == usage["prompt_tokens"]
        assert counter.completion_llm_token_count == usage["completion_tokens"]

    async def test_acomplete_and_astream_complete(self, provider: str) -> None:
        counter = TokenCountingHandler()
        llm = _llm_with(counter, provider)
        first = await llm.acomplete("What is the capital of Italy?")
        chunks = [c async for c in await llm.astream_complete("What is the capital of Italy?")]
        assert len(counter.llm_token_counts) == 2
        expected = first.raw["usage"]["completion_tokens"] + chunks[-1].raw["usage"]["completion_tokens"]
        assert counter.completion_llm_token_count == expected
