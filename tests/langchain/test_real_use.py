"""Real use: an LCEL RAG chain, a tool-calling agent (langchain's ``create_agent``) and run-time
provider switching. Replayed from ``cassettes/langchain/test_real_use/`` (URIs matched, so each
request provably went to the right host); the key check runs against the local provider emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.documents import Document
from langchain_core.exceptions import ContextOverflowError
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import ConfigurableField, RunnablePassthrough
from langchain_core.tools import tool
from langchain_core.vectorstores import InMemoryVectorStore
from pydantic import BaseModel

from langchain_stackit_chutes import ChatStackitChutes, StackitChutesEmbeddings
from stackit_chutes_core import ContextLengthExceededError, clear_client_cache

STACKIT_CHAT = "stackit/openai/gpt-oss-120b"
CHUTES_CHAT = "chutes/Qwen/Qwen3-235B-A22B-Thinking-2507-TEE"
STACKIT_EMBED = "stackit/intfloat/e5-mistral-7b-instruct"
CHUTES_EMBED = "chutes/Qwen/Qwen3-Embedding-8B"

DOCS = [
    "The Brandenburg lighthouse keeper is named Ottilie Weber and she paints seagulls.",
    "The Rhine ferry departs every forty minutes from the Koblenz pier.",
    "Quantum gardening uses blue moss grown under violet lamps in Leipzig.",
]


def _format(docs: list[Document]) -> str:
    return "\n".join(doc.page_content for doc in docs)


@pytest.mark.vcr
@pytest.mark.parametrize(("embed_model", "chat_model"), [(STACKIT_EMBED, STACKIT_CHAT), (CHUTES_EMBED, CHUTES_CHAT)])
def test_rag_chain_answers_from_the_right_document(embed_model: str, chat_model: str) -> None:
    store = InMemoryVectorStore.from_texts(DOCS, embedding=StackitChutesEmbeddings(model=embed_model))
    retriever = store.as_retriever(search_kwargs={"k": 2})
    question = "How often does the Rhine ferry depart from Koblenz?"
    assert retriever.invoke(question)[0].page_content == DOCS[1]  # the right document ranks first
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "Answer using only the context below.\n\nContext:\n{context}"),
            ("human", "Question: {question}"),
        ]
    )
    chain = (
        {"context": retriever | _format, "question": RunnablePassthrough()}
        | prompt
        | ChatStackitChutes(model=chat_model, temperature=0)
        | StrOutputParser()
    )
    answer = chain.invoke(question)
    assert "forty minutes" in answer
    assert "Ottilie" not in answer and "moss" not in answer


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"It is 21 degrees and sunny in {city}."


@pytest.mark.vcr
@pytest.mark.parametrize("chat_model", [STACKIT_CHAT, CHUTES_CHAT])
def test_agent_calls_the_tool_and_uses_its_result(chat_model: str) -> None:
    agent = create_agent(ChatStackitChutes(model=chat_model, temperature=0), tools=[get_weather])
    result = agent.invoke({"messages": [HumanMessage("What is the weather in Berlin?")]})
    messages = result["messages"]
    calls = [m for m in messages if isinstance(m, AIMessage) and m.tool_calls]
    assert calls and calls[0].tool_calls[0]["name"] == "get_weather"
    assert calls[0].tool_calls[0]["args"] == {"city": "Berlin"}
    assert any(isinstance(m, ToolMessage) and "21 degrees" in m.text for m in messages)
    final = messages[-1]
    assert isinstance(final, AIMessage) and not final.tool_calls
    assert "21 degrees" in final.text


class WeatherReport(BaseModel):
    """A weather report."""

    city: str
    summary: str


@pytest.mark.vcr
def test_agent_structured_response_uses_the_profile() -> None:
    # gpt-oss-120b's catalog profile says structured_output, so create_agent uses the provider's
    # json_schema response_format (ProviderStrategy) rather than an extra tool.
    llm = ChatStackitChutes(model=STACKIT_CHAT, temperature=0)
    assert llm.profile is not None and llm.profile["structured_output"] is True
    agent = create_agent(llm, tools=[get_weather], response_format=WeatherReport)
    result = agent.invoke({"messages": [HumanMessage("What is the weather in Berlin?")]})
    assert any(isinstance(m, ToolMessage) for m in result["messages"])
    report = result["structured_response"]
    assert isinstance(report, WeatherReport) and report.city == "Berlin"


@pytest.mark.vcr
def test_runtime_switching_between_providers() -> None:
    llm = ChatStackitChutes(model=STACKIT_CHAT, temperature=0).configurable_fields(
        model=ConfigurableField(id="model", name="Model")
    )
    chain = ChatPromptTemplate.from_messages([("human", "{question}")]) | llm
    first = chain.invoke({"question": "What is the capital of France?"})
    second = chain.invoke(
        {"question": "What is the capital of France?"}, config={"configurable": {"model": CHUTES_CHAT}}
    )
    assert first.response_metadata["model_provider"] == "stackit"
    assert first.response_metadata["model_name"] == STACKIT_CHAT
    assert second.response_metadata["model_provider"] == "chutes"
    assert second.response_metadata["model_name"] == CHUTES_CHAT
    assert "Paris" in first.text and "Paris" in second.text
    third = ChatStackitChutes(model=CHUTES_CHAT, temperature=0).invoke("Hello", model=STACKIT_CHAT)
    assert third.response_metadata["model_name"] == STACKIT_CHAT


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The provider emulator on 127.0.0.1, with both providers' base URLs pointing at it."""
    from tests.emulator import ProviderEmulator

    with ProviderEmulator(latency_s=0.0, max_lifetime_s=300) as emu:
        urls = emu.base_urls
        monkeypatch.setenv("STACKIT_BASE_URL", urls["stackit"])
        monkeypatch.setenv("CHUTES_BASE_URL", urls["chutes"])
        monkeypatch.setenv("CHUTES_EMBEDDINGS_BASE_URL", urls["chutes_embeddings"])
        monkeypatch.setenv("STACKIT_API_KEY", "stackit-key-from-env")
        monkeypatch.setenv("CHUTES_API_KEY", "chutes-key-from-env")
        yield emu
    clear_client_cache()


def test_switching_sends_each_providers_key_to_its_host(emulator: Any) -> None:
    llm = ChatStackitChutes(model=STACKIT_CHAT, api_key="explicit-stackit-key")
    switchable = llm.configurable_fields(model=ConfigurableField(id="model"))
    switchable.invoke("Hello")
    switchable.invoke("Hello", config={"configurable": {"model": CHUTES_CHAT}})
    llm.invoke("Hello", model=CHUTES_CHAT)
    StackitChutesEmbeddings(model=CHUTES_EMBED).embed_query("hello")
    seen = [(r.provider, r.headers.get("authorization")) for r in emulator.requests]
    assert seen == [
        ("stackit", "Bearer explicit-stackit-key"),
        ("chutes", "Bearer chutes-key-from-env"),
        ("chutes", "Bearer chutes-key-from-env"),
        ("chutes_embeddings", "Bearer chutes-key-from-env"),
    ]
    assert not any(k.startswith("openai-") for r in emulator.requests for k in r.headers)


@pytest.mark.vcr
@pytest.mark.parametrize("chat_model", [STACKIT_CHAT, CHUTES_CHAT])
def test_context_overflow_is_what_langchain_middleware_catches(chat_model: str) -> None:
    # Prompt + requested completion beyond the context window: vLLM / SGLang answer 400 with
    # "maximum context length"; SummarizationMiddleware reacts to ContextOverflowError.
    llm = ChatStackitChutes(model=chat_model, max_tokens=2_000_000)
    with pytest.raises(ContextOverflowError) as info:
        llm.invoke("Summarise the history of the Rhine ferry.")
    assert isinstance(info.value, ContextLengthExceededError)
    assert info.value.status_code == 400
    assert "maximum context length" in str(info.value)
