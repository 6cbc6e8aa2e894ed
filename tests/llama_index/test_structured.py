"""Structured output: structured_predict (sync/async/streaming) and as_structured_llm, both providers."""

from __future__ import annotations

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.prompts import PromptTemplate
from pydantic import BaseModel, Field

from llama_index_stackit_chutes import StackitChutes

pytestmark = [
    pytest.mark.vcr,
    # llama-index-core's StructuredLLM streams partial objects with pydantic's deprecated .json()
    pytest.mark.filterwarnings("ignore:The `json` method is deprecated:DeprecationWarning"),
]


class City(BaseModel):
    """A city and the country it is in."""

    name: str = Field(description="The city's name")
    country: str = Field(description="The country the city is in")
    population_millions: float = Field(description="Population in millions")


PROMPT = PromptTemplate("Extract the city: {text}")
TEXT = "'Berlin' is the capital of 'Germany' and has about 3.7 million inhabitants."


def _check(city: City) -> None:
    assert isinstance(city, City)
    assert city.name == "Berlin"
    assert city.country == "Germany"
    assert city.population_millions == pytest.approx(3.7)


class TestStructuredPredict:
    def test_structured_predict(self, llm: StackitChutes) -> None:
        _check(llm.structured_predict(City, PROMPT, text=TEXT))

    async def test_astructured_predict(self, llm: StackitChutes) -> None:
        _check(await llm.astructured_predict(City, PROMPT, text=TEXT))

    def test_stream_structured_predict(self, llm: StackitChutes) -> None:
        partials = list(llm.stream_structured_predict(City, PROMPT, text=TEXT))
        assert partials
        final = partials[-1]
        assert final.name == "Berlin"
        assert final.country == "Germany"

    async def test_astream_structured_predict(self, llm: StackitChutes) -> None:
        partials = [p async for p in await llm.astream_structured_predict(City, PROMPT, text=TEXT)]
        assert partials[-1].name == "Berlin"


class TestStructuredLLM:
    def test_as_structured_llm_chat(self, llm: StackitChutes) -> None:
        structured = llm.as_structured_llm(City)
        response = structured.chat([ChatMessage(role=MessageRole.USER, content=f"Extract the city: {TEXT}")])
        _check(response.raw)
        assert City.model_validate_json(response.message.content or "") == response.raw

    async def test_as_structured_llm_achat(self, llm: StackitChutes) -> None:
        structured = llm.as_structured_llm(City)
        response = await structured.achat([ChatMessage(role=MessageRole.USER, content=f"Extract the city: {TEXT}")])
        _check(response.raw)

    def test_as_structured_llm_stream(self, llm: StackitChutes) -> None:
        structured = llm.as_structured_llm(City)
        chunks = list(structured.stream_chat([ChatMessage(role=MessageRole.USER, content=f"Extract the city: {TEXT}")]))
        assert chunks[-1].raw.name == "Berlin"
