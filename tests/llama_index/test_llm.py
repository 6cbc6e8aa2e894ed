"""StackitChutes against recorded provider answers: the eight chat/complete methods, both providers."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
)

from llama_index_stackit_chutes import StackitChutes
from stackit_chutes_core import CapabilityError
from tests.llama_index._helpers import BLUE, CHAT_MODELS, REASONING_MODELS, RED, VISION_MODELS, make_png

pytestmark = pytest.mark.vcr

QUESTION = [
    ChatMessage(role=MessageRole.SYSTEM, content="You are a concise geography assistant."),
    ChatMessage(role=MessageRole.USER, content="What is the capital of France?"),
]


def _check_usage(response: ChatResponse | CompletionResponse) -> None:
    usage = response.raw["usage"]
    assert usage["prompt_tokens"] > 0
    assert usage["completion_tokens"] > 0
    assert response.additional_kwargs["prompt_tokens"] == usage["prompt_tokens"]
    assert response.additional_kwargs["completion_tokens"] == usage["completion_tokens"]


class TestChat:
    def test_chat(self, llm: StackitChutes) -> None:
        response = llm.chat(QUESTION)
        assert isinstance(response, ChatResponse)
        assert response.message.role == MessageRole.ASSISTANT
        assert "Paris" in (response.message.content or "")
        _check_usage(response)
        assert response.additional_kwargs["cost"]["currency"] in ("EUR", "USD")

    async def test_achat(self, llm: StackitChutes) -> None:
        response = await llm.achat(QUESTION)
        assert "Paris" in (response.message.content or "")
        _check_usage(response)

    def test_stream_chat(self, llm: StackitChutes) -> None:
        chunks = list(llm.stream_chat(QUESTION))
        assert len(chunks) > 2
        text = "".join(c.delta or "" for c in chunks)
        assert chunks[-1].message.content == text
        assert "Paris" in text
        # cumulative: every chunk's message extends the previous one
        contents = [c.message.content or "" for c in chunks]
        assert all(b.startswith(a) for a, b in itertools.pairwise(contents))
        _check_usage(chunks[-1])
        assert all("usage" not in (c.raw or {}) for c in chunks[:-1])

    async def test_astream_chat(self, llm: StackitChutes) -> None:
        chunks = [c async for c in await llm.astream_chat(QUESTION)]
        text = "".join(c.delta or "" for c in chunks)
        assert chunks[-1].message.content == text
        assert "Paris" in text
        _check_usage(chunks[-1])

    def test_multi_turn_history(self, llm: StackitChutes) -> None:
        history = [
            ChatMessage(role=MessageRole.USER, content="Hello"),
            ChatMessage(role=MessageRole.ASSISTANT, content="Hello! How can I help you today?"),
            ChatMessage(role=MessageRole.USER, content="What is the capital of Germany?"),
        ]
        assert "Berlin" in (llm.chat(history).message.content or "")


class TestComplete:
    def test_complete(self, llm: StackitChutes) -> None:
        response = llm.complete("What is the capital of Italy?")
        assert isinstance(response, CompletionResponse)
        assert "Rome" in response.text
        _check_usage(response)

    async def test_acomplete(self, llm: StackitChutes) -> None:
        response = await llm.acomplete("What is the capital of Italy?")
        assert "Rome" in response.text
        _check_usage(response)

    def test_stream_complete(self, llm: StackitChutes) -> None:
        chunks = list(llm.stream_complete("Write a haiku"))
        assert chunks[-1].text == "".join(c.delta or "" for c in chunks)
        assert len(chunks[-1].text.splitlines()) == 3
        _check_usage(chunks[-1])

    async def test_astream_complete(self, llm: StackitChutes) -> None:
        chunks = [c async for c in await llm.astream_complete("Write a haiku")]
        assert chunks[-1].text == "".join(c.delta or "" for c in chunks)
        _check_usage(chunks[-1])

    def test_predict_uses_chat(self, llm: StackitChutes) -> None:
        from llama_index.core.prompts import PromptTemplate

        answer = llm.predict(PromptTemplate("What is the capital of {country}?"), country="Spain")
        assert "Madrid" in answer


class TestReasoning:
    """Reasoning arrives as a ThinkingBlock (and as thinking_delta while streaming)."""

    def test_thinking_block(self, provider: str) -> None:
        llm = StackitChutes(model=REASONING_MODELS[provider])
        response = llm.chat(QUESTION)
        blocks = response.message.blocks
        assert isinstance(blocks[0], ThinkingBlock)
        assert blocks[0].content
        assert "Paris" in (response.message.content or "")
        assert "Paris" not in (blocks[0].content or "").split("The user asks")[0]

    async def test_thinking_delta_stream(self, provider: str) -> None:
        llm = StackitChutes(model=REASONING_MODELS[provider])
        chunks = [c async for c in await llm.astream_chat(QUESTION)]
        thinking = "".join(c.additional_kwargs.get("thinking_delta", "") for c in chunks)
        assert thinking
        final = chunks[-1].message.blocks
        assert isinstance(final[0], ThinkingBlock)
        assert final[0].content == thinking
        assert "Paris" in (chunks[-1].message.content or "")

    def test_thinking_switched_on_for_hybrid_model(self) -> None:
        """DeepSeek-V3.2 on Chutes thinks only when asked (thinking=True)."""
        llm = StackitChutes(model=CHAT_MODELS["chutes"], thinking=True)
        response = llm.chat(QUESTION)
        assert isinstance(response.message.blocks[0], ThinkingBlock)


class TestImages:
    """ImageBlocks (bytes, file path, data URL) reach vision models as image_url parts."""

    def test_image_bytes(self, provider: str) -> None:
        llm = StackitChutes(model=VISION_MODELS[provider])
        message = ChatMessage(
            role=MessageRole.USER,
            blocks=[ImageBlock(image=make_png(RED)), TextBlock(text="What colour is this image?")],
        )
        assert "red" in (llm.chat([message]).message.content or "").lower()

    async def test_image_path(self, provider: str, tmp_path: Path) -> None:
        path = tmp_path / "blue.png"
        path.write_bytes(make_png(BLUE))
        llm = StackitChutes(model=VISION_MODELS[provider])
        message = ChatMessage(
            role=MessageRole.USER,
            blocks=[ImageBlock(path=path), TextBlock(text="What colour is this image?")],
        )
        response = await llm.achat([message])
        assert "blue" in (response.message.content or "").lower()

    def test_image_data_url_stream(self, provider: str) -> None:
        import base64

        url = "data:image/png;base64," + base64.b64encode(make_png(RED)).decode()
        llm = StackitChutes(model=VISION_MODELS[provider])
        message = ChatMessage(
            role=MessageRole.USER, blocks=[ImageBlock(url=url), TextBlock(text="What colour is this image?")]
        )
        chunks = list(llm.stream_chat([message]))
        assert "red" in (chunks[-1].message.content or "").lower()

    def test_text_only_model_refuses_images(self, provider: str) -> None:
        llm = StackitChutes(model=CHAT_MODELS[provider])
        message = ChatMessage(role=MessageRole.USER, blocks=[ImageBlock(image=make_png(RED)), TextBlock(text="?")])
        with pytest.raises(CapabilityError, match="does not accept images"):
            llm.chat([message])


class TestEventLoops:
    def test_repeated_asyncio_run(self, llm: StackitChutes) -> None:
        """Pooled async clients are per event loop: a second asyncio.run must not hit a closed loop."""
        first = asyncio.run(llm.achat(QUESTION))
        second = asyncio.run(llm.achat(QUESTION))
        third = asyncio.run(llm.acomplete("What is the capital of Italy?"))
        assert first.message.content == second.message.content
        assert "Rome" in third.text

    def test_repeated_asyncio_run_streaming(self, llm: StackitChutes) -> None:
        async def run() -> str:
            return "".join([c.delta or "" async for c in await llm.astream_chat(QUESTION)])

        assert asyncio.run(run()) == asyncio.run(run())


class TestRouting:
    def test_per_call_model_switch(self) -> None:
        """A STACKIT-configured model can be switched per call; the request goes to Chutes (URI in the cassette)."""
        llm = StackitChutes(model=CHAT_MODELS["stackit"])
        response = llm.chat(QUESTION, model=CHAT_MODELS["chutes"])
        assert "Paris" in (response.message.content or "")
        assert response.raw["model"] == "deepseek-ai/DeepSeek-V3.2-TEE"

    def test_alias_resolves(self) -> None:
        llm = StackitChutes(model="stackit/gpt-oss-120b")
        assert llm.metadata.model_name == CHAT_MODELS["stackit"]
        assert "Paris" in (llm.chat(QUESTION).message.content or "")
