"""The catalog advises, the provider decides: both frameworks and the core, against the emulator.

* A request is refused before sending only on a documented, dated catalog fact.
* A model the packaged catalog has as text-only without evidence (Chutes' Nemotron-3-Nano-Omni: its
  listing entry carries no modalities) still gets its images sent, and the emulated model answers.
* A provider's "capability missing" answer (vLLM's 400 ``"auto" tool choice requires
  --enable-auto-tool-choice ...``, ``The model does not support Embeddings API``) arrives as
  :class:`ProviderCapabilityError`: a ``CapabilityError`` naming capability, model and alternatives,
  and a ``BadRequestError`` with the provider's 400.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from stackit_chutes_core import catalog
from stackit_chutes_core._capability import refuses_images
from stackit_chutes_core._chat import chat
from stackit_chutes_core._embeddings import embed_texts
from stackit_chutes_core.errors import (
    BadRequestError,
    CapabilityError,
    ProviderCapabilityError,
    StackitChutesError,
    missing_capability,
)
from stackit_chutes_core.routing import resolve_endpoint
from stackit_chutes_core.types import ChatRequest, ImagePart, Message, TextPart, ToolSpec
from tests.emulator import ProviderEmulator
from tests.multimodal._shared import data_uri as png_data_uri

TOOL_TEXT = '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'
OMNI = "chutes/Nemotron-3-Nano-Omni-30B-TEE"
TOOLLESS = "stackit/google/gemma-3-27b-it"
WEATHER: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[ProviderEmulator]:
    with ProviderEmulator(latency_s=0.0, max_lifetime_s=300) as emu:
        yield emu


def _url(emulator: ProviderEmulator, model: str) -> str:
    return emulator.base_urls[model.split("/", 1)[0]]


def _image_request() -> ChatRequest:
    return ChatRequest(
        messages=[Message(role="user", content=[TextPart("What colour is this?"), ImagePart(png_data_uri("red"))])]
    )


# --- the catalog facts the policy rests on --------------------------------------------------------


def test_omni_is_text_only_in_the_catalog_but_not_documented() -> None:
    info = catalog.lookup("chutes", "Nemotron-3-Nano-Omni-30B-TEE")
    assert info is not None and not info.capabilities.image_input
    assert not info.documents("input_modalities") and not refuses_images(info)
    # a documented, dated text-only row does refuse
    assert refuses_images(catalog.lookup("chutes", "deepseek-ai/DeepSeek-V3.2-TEE"))


def test_missing_capability_reads_the_provider_texts() -> None:
    assert missing_capability(TOOL_TEXT) == "tools"
    assert missing_capability("The model does not support Embeddings API") == "embeddings"
    assert missing_capability("DeepSeek-V4-Flash-0731 is not a multimodal model") == "image_input"
    assert missing_capability("This model's maximum context length is 4096 tokens.") is None


# --- core -----------------------------------------------------------------------------------------


def test_core_sends_images_to_an_undocumented_text_only_model(emulator: ProviderEmulator) -> None:
    emulator.clear_requests()
    endpoint = resolve_endpoint(OMNI, api_key="k", base_url=_url(emulator, OMNI), max_retries=0)
    result = chat(endpoint, _image_request())
    assert result.text
    sent = emulator.requests_for("chutes")[-1].body
    assert sent["messages"][0]["content"][1]["type"] == "image_url"


@pytest.mark.parametrize("model", [TOOLLESS, "stackit/neuralmagic/Mistral-Nemo-Instruct-2407-FP8"])
def test_core_tool_rejection_becomes_capability_error(emulator: ProviderEmulator, model: str) -> None:
    endpoint = resolve_endpoint(model, api_key="k", base_url=_url(emulator, model), max_retries=0)
    request = ChatRequest(
        messages=[Message(role="user", content="Weather in Berlin?")],
        tools=[ToolSpec(name="get_weather", description="Weather of a city", parameters=WEATHER)],
    )
    with pytest.raises(ProviderCapabilityError) as caught:
        chat(endpoint, request)
    error = caught.value
    assert isinstance(error, CapabilityError) and isinstance(error, BadRequestError)
    assert error.status_code == 400 and error.capability == "tools" and error.model == model.split("/", 1)[1]
    assert TOOL_TEXT in str(error) and model in str(error)
    assert "stackit/openai/gpt-oss-120b" in error.alternatives
    assert all(name.startswith("stackit/") for name in error.alternatives)


def test_core_embeddings_rejection_becomes_capability_error(emulator: ProviderEmulator) -> None:
    model = "stackit/openai/gpt-oss-120b"
    endpoint = resolve_endpoint(model, api_key="k", base_url=_url(emulator, model), purpose="embeddings", max_retries=0)
    with pytest.raises(ProviderCapabilityError) as caught:
        embed_texts(endpoint, ["hello"])
    assert caught.value.capability == "embeddings"
    assert "The model does not support Embeddings API" in str(caught.value)
    assert "stackit/intfloat/e5-mistral-7b-instruct" in caught.value.alternatives


# --- both frameworks behave the same --------------------------------------------------------------


def _langchain_chat(model: str, url: str) -> Any:
    from langchain_stackit_chutes import ChatStackitChutes

    return ChatStackitChutes(model=model, api_key="k", base_url=url, max_retries=0)


def _llama_llm(model: str, url: str) -> Any:
    from llama_index_stackit_chutes import StackitChutes

    return StackitChutes(model=model, api_key="k", api_base=url, max_retries=0)


def test_langchain_sends_images_to_an_undocumented_text_only_model(emulator: ProviderEmulator) -> None:
    from langchain_core.messages import HumanMessage

    emulator.clear_requests()
    llm = _langchain_chat(OMNI, _url(emulator, OMNI))
    message = HumanMessage(
        content=[
            {"type": "text", "text": "What colour is this?"},
            {"type": "image_url", "image_url": {"url": png_data_uri("red")}},
        ]
    )
    answer = llm.invoke([message])
    assert answer.content
    assert emulator.requests_for("chutes")[-1].body["messages"][0]["content"][1]["type"] == "image_url"


def test_llama_index_sends_images_to_an_undocumented_text_only_model(emulator: ProviderEmulator) -> None:
    from llama_index.core.base.llms.types import ChatMessage, ImageBlock, TextBlock

    emulator.clear_requests()
    llm = _llama_llm(OMNI, _url(emulator, OMNI))
    message = ChatMessage(
        role="user", blocks=[TextBlock(text="What colour is this?"), ImageBlock(url=png_data_uri("red"))]
    )
    answer = llm.chat([message])
    assert answer.message.content
    assert emulator.requests_for("chutes")[-1].body["messages"][0]["content"][1]["type"] == "image_url"


def _assert_tool_capability_error(error: BaseException) -> None:
    assert isinstance(error, ProviderCapabilityError), type(error)
    assert isinstance(error, StackitChutesError) and error.status_code == 400
    assert error.capability == "tools" and TOOL_TEXT in str(error) and TOOLLESS in str(error)
    assert "stackit/openai/gpt-oss-120b" in error.alternatives


def test_langchain_tool_rejection_is_a_capability_error(emulator: ProviderEmulator) -> None:
    from langchain_core.tools import tool

    @tool
    def get_weather(city: str) -> str:
        """Weather of a city."""
        return "sunny"

    llm = _langchain_chat(TOOLLESS, _url(emulator, TOOLLESS)).bind_tools([get_weather])
    with pytest.raises(CapabilityError) as caught:
        llm.invoke("Weather in Berlin?")
    _assert_tool_capability_error(caught.value)


def test_llama_index_tool_rejection_is_a_capability_error(emulator: ProviderEmulator) -> None:
    from llama_index.core.base.llms.types import ChatMessage
    from llama_index.core.tools import FunctionTool

    def get_weather(city: str) -> str:
        """Weather of a city."""
        return "sunny"

    llm = _llama_llm(TOOLLESS, _url(emulator, TOOLLESS))
    with pytest.raises(CapabilityError) as caught:
        llm.chat_with_tools(
            [FunctionTool.from_defaults(fn=get_weather)],
            chat_history=[ChatMessage(role="user", content="Weather in Berlin?")],
        )
    _assert_tool_capability_error(caught.value)
