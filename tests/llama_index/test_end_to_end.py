"""End to end in LlamaIndex: index + query engine, streaming query engine, agents, structured output, Settings."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.agent.workflow import (
    AgentStream,
    AgentWorkflow,
    FunctionAgent,
    ToolCall,
    ToolCallResult,
)
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.prompts import PromptTemplate
from llama_index.core.schema import BaseNode
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel, Field

from llama_index_stackit_chutes import StackitChutes, StackitChutesEmbedding
from tests.llama_index._helpers import CHAT_MODELS, EMBED_MODELS

pytestmark = [
    pytest.mark.vcr,
    # llama-index-workflows inspects agent instances with inspect.getmembers (pydantic v1 attributes)
    pytest.mark.filterwarnings("ignore::DeprecationWarning:inspect"),
    pytest.mark.filterwarnings("ignore:The `json` method is deprecated:DeprecationWarning"),
]

FACTS = {
    "paris": "Paris is the capital of France. The Eiffel Tower stands in Paris.",
    "rhine": "The Rhine river flows through Switzerland, Germany and the Netherlands.",
    "photosynthesis": "Photosynthesis lets green plants turn sunlight into chemical energy.",
    "everest": "Mount Everest is the highest mountain on Earth, in the Himalayas.",
    "python": "Python is a programming language created by Guido van Rossum.",
}
QUESTION = "Which river flows through Switzerland?"


def _documents() -> list[Document]:
    return [Document(text=text, id_=key) for key, text in FACTS.items()]


def _node_id(i: int, doc: BaseNode) -> str:
    """Deterministic node ids: equal scores are then ordered the same in every run (stable prompts)."""
    return f"{doc.id_}-{i}"


SPLITTER = SentenceSplitter(chunk_size=256, chunk_overlap=0, id_func=_node_id)


def _index(provider: str, **kwargs: Any) -> VectorStoreIndex:
    embed = StackitChutesEmbedding(model_name=EMBED_MODELS[provider])
    return VectorStoreIndex.from_documents(_documents(), embed_model=embed, transformations=[SPLITTER], **kwargs)


def multiply(a: int, b: int) -> int:
    """Multiply two integers and return the product."""
    return a * b


class TestQueryEngine:
    def test_index_and_query_engine(self, provider: str) -> None:
        engine = _index(provider).as_query_engine(llm=StackitChutes(model=CHAT_MODELS[provider]), similarity_top_k=2)
        response = engine.query(QUESTION)
        assert response.source_nodes[0].node.ref_doc_id == "rhine"
        assert "Rhine" in str(response)

    async def test_async_index_and_query_engine(self, provider: str) -> None:
        index = _index(provider, use_async=True)
        engine = index.as_query_engine(llm=StackitChutes(model=CHAT_MODELS[provider]), similarity_top_k=2)
        response = await engine.aquery(QUESTION)
        assert response.source_nodes[0].node.ref_doc_id == "rhine"
        assert "Rhine" in str(response)

    def test_streaming_query_engine(self, provider: str) -> None:
        engine = _index(provider).as_query_engine(
            llm=StackitChutes(model=CHAT_MODELS[provider]), similarity_top_k=2, streaming=True
        )
        response = engine.query(QUESTION)
        pieces = list(response.response_gen)
        assert len(pieces) > 1
        assert "Rhine" in "".join(pieces)
        assert response.source_nodes[0].node.ref_doc_id == "rhine"

    def test_retriever_ranking(self, provider: str) -> None:
        nodes = _index(provider).as_retriever(similarity_top_k=3).retrieve("What is the highest mountain on Earth?")
        assert nodes[0].node.ref_doc_id == "everest"


class TestSettings:
    def test_settings_llm_and_embed_model(self, provider: str, clean_settings: None) -> None:
        Settings.llm = StackitChutes(model=CHAT_MODELS[provider])
        Settings.embed_model = StackitChutesEmbedding(model_name=EMBED_MODELS[provider])
        index = VectorStoreIndex.from_documents(_documents(), transformations=[SPLITTER])
        response = index.as_query_engine(similarity_top_k=2).query(QUESTION)
        assert response.source_nodes[0].node.ref_doc_id == "rhine"
        assert "Rhine" in str(response)
        assert isinstance(Settings.llm, StackitChutes)
        assert Settings.llm.metadata.context_window > 3900


class TestAgents:
    async def test_function_agent_uses_tool(self, provider: str) -> None:
        agent = FunctionAgent(
            tools=[FunctionTool.from_defaults(multiply)],
            llm=StackitChutes(model=CHAT_MODELS[provider]),
            system_prompt="You are a calculator. Use the tools.",
        )
        handler = agent.run(user_msg="What is 6 times 7?")
        calls, results, deltas = [], [], []
        async for event in handler.stream_events():
            if isinstance(event, ToolCallResult):
                results.append(event)
            elif isinstance(event, ToolCall):
                calls.append(event)
            elif isinstance(event, AgentStream):
                deltas.append(event.delta)
        response = await handler
        assert [r.tool_name for r in results] == ["multiply"]
        assert results[0].tool_kwargs == {"a": 6, "b": 7}
        assert results[0].tool_output.content == "42"
        assert "42" in str(response)
        assert "42" in "".join(deltas)

    async def test_function_agent_not_streaming(self, provider: str) -> None:
        agent = FunctionAgent(
            tools=[FunctionTool.from_defaults(multiply)],
            llm=StackitChutes(model=CHAT_MODELS[provider]),
            streaming=False,
        )
        response = await agent.run(user_msg="What is 6 times 7?")
        assert "42" in str(response)
        assert response.tool_calls[0].tool_output.content == "42"

    async def test_agent_workflow_picks_function_agent(self, provider: str) -> None:
        workflow = AgentWorkflow.from_tools_or_functions([multiply], llm=StackitChutes(model=CHAT_MODELS[provider]))
        assert isinstance(workflow.agents[next(iter(workflow.agents))], FunctionAgent)
        response = await workflow.run(user_msg="What is 6 times 7?")
        assert "42" in str(response)


class Capital(BaseModel):
    """A country's capital city."""

    country: str = Field(description="The country")
    capital: str = Field(description="Its capital city")


class TestStructured:
    def test_structured_predict_into_pydantic(self, provider: str, clean_settings: None) -> None:
        Settings.llm = StackitChutes(model=CHAT_MODELS[provider])
        result = Settings.llm.structured_predict(
            Capital, PromptTemplate("Extract: {text}"), text="The capital of 'France' is 'Paris'."
        )
        assert result == Capital(country="France", capital="Paris")
