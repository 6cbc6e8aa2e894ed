"""Cost and usage tracking through real LangChain chains and LlamaIndex indexes, against the emulator."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.vectorstores import InMemoryVectorStore
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.callbacks import CallbackManager
from llama_index.core.llms import ChatMessage

from langchain_stackit_chutes import (
    ChatStackitChutes,
    StackitChutesEmbeddings,
    get_stackit_chutes_callback,
)
from llama_index_stackit_chutes import StackitChutes, StackitChutesCostHandler, StackitChutesEmbedding
from stackit_chutes_core import Usage, UsageLedger, catalog, estimate_cost
from tests.emulator import ProviderEmulator

STACKIT_CHAT = "stackit/openai/gpt-oss-120b"
CHUTES_CHAT = "chutes/deepseek-ai/DeepSeek-V3.2-TEE"
EMBED = "stackit/intfloat/e5-mistral-7b-instruct"
DOCS = ["STACKIT bills in euro.", "Chutes bills in US dollars.", "Paris is the capital of France."]


@pytest.fixture(scope="module")
def emulator() -> Iterator[ProviderEmulator]:
    with ProviderEmulator(max_lifetime_s=600) as emu:
        yield emu


@pytest.fixture(autouse=True)
def _providers(emulator: ProviderEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("STACKIT_BASE_URL", emulator.base_urls["stackit"])
    monkeypatch.setenv("CHUTES_BASE_URL", emulator.base_urls["chutes"])
    monkeypatch.setenv("CHUTES_EMBEDDINGS_BASE_URL", emulator.base_urls["chutes_embeddings"])
    saved = (Settings._llm, Settings._embed_model, Settings._callback_manager)
    yield
    Settings._llm, Settings._embed_model, Settings._callback_manager = saved


def _price(model: str, usage: Usage) -> Decimal:
    provider, _, model_id = model.partition("/")
    cost = estimate_cost(catalog.lookup(provider, model_id), usage)
    assert cost is not None
    return cost.total


# -- the core ledger --------------------------------------------------------------------------


@pytest.fixture
def eur_priced_model() -> Iterator[str]:
    """A STACKIT model declared with a EUR price (the packaged STACKIT prices are models.dev's USD)."""
    row = catalog.ModelInfo(
        provider="stackit",
        id="example/eur-priced",
        kind="chat",
        price=catalog.Price(Decimal("0.45"), Decimal("0.65"), "EUR", source="test"),
    )
    catalog.register_model(row)
    yield row.qualified_name
    catalog.unregister_model(row.provider, row.id)


def test_ledger_keeps_currencies_apart_and_counts_reasoning(eur_priced_model: str) -> None:
    ledger = UsageLedger()
    ledger.record(STACKIT_CHAT, Usage(input_tokens=1000, output_tokens=500, total_tokens=1500, reasoning_tokens=200))
    ledger.record(CHUTES_CHAT, Usage(input_tokens=2000, output_tokens=100, total_tokens=2100))
    ledger.record(eur_priced_model, Usage(input_tokens=10, output_tokens=10, total_tokens=20))
    ledger.record("chutes/some/unknown-model", Usage(input_tokens=7, output_tokens=3, total_tokens=10))
    assert ledger.total_cost == {
        "EUR": _price(eur_priced_model, Usage(input_tokens=10, output_tokens=10)),
        "USD": _price(STACKIT_CHAT, Usage(input_tokens=1000, output_tokens=500))
        + _price(CHUTES_CHAT, Usage(input_tokens=2000, output_tokens=100)),
    }
    assert (ledger.prompt_tokens, ledger.completion_tokens, ledger.reasoning_tokens) == (3017, 613, 200)
    assert ledger.total_tokens == 3630 and ledger.successful_requests == 4
    assert ledger.unpriced_models == ["chutes/some/unknown-model"]
    assert "EUR" in ledger.summary() and "USD" in ledger.summary()


def test_ledger_is_thread_safe() -> None:
    ledger = UsageLedger()
    usage = Usage(input_tokens=3, output_tokens=2, total_tokens=5)

    def hammer() -> None:
        for _ in range(500):
            ledger.record(STACKIT_CHAT, usage)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert ledger.successful_requests == 4000 and ledger.total_tokens == 20_000
    assert ledger.total_cost["USD"] == 4000 * _price(STACKIT_CHAT, usage)


# -- LangChain --------------------------------------------------------------------------------


def test_langchain_rag_chain_counts_embeddings_and_both_providers() -> None:
    embeddings = StackitChutesEmbeddings(model=EMBED)
    prompt = ChatPromptTemplate.from_messages([("system", "Context:\n{context}"), ("human", "{question}")])
    stackit, chutes = ChatStackitChutes(model=STACKIT_CHAT), ChatStackitChutes(model=CHUTES_CHAT)
    with get_stackit_chutes_callback() as cb:
        store = InMemoryVectorStore.from_texts(DOCS, embeddings)
        hits = store.similarity_search("Which currency does STACKIT bill in?", k=1)
        first = (prompt | stackit).invoke({"context": hits[0].page_content, "question": "Currency?"})
        second = chutes.invoke("What is the capital of France?")
    chat_usage = {STACKIT_CHAT: first.usage_metadata, CHUTES_CHAT: second.usage_metadata}
    assert set(cb.by_model) == {EMBED, STACKIT_CHAT, CHUTES_CHAT}
    for model, usage in chat_usage.items():
        row = cb.by_model[model]
        assert usage is not None
        assert (row.kind, row.requests, row.prompt_tokens, row.completion_tokens) == (
            "chat",
            1,
            usage["input_tokens"],
            usage["output_tokens"],
        )
    embed_row = cb.by_model[EMBED]
    assert embed_row.kind == "embedding" and embed_row.requests == 2  # the documents, then the query
    assert embed_row.prompt_tokens > 0 and embed_row.completion_tokens == 0
    assert cb.successful_requests == 4
    # every packaged price here is stated in USD (STACKIT's from models.dev), so one currency sums
    usd = cb.by_model[STACKIT_CHAT].cost + embed_row.cost + cb.by_model[CHUTES_CHAT].cost  # type: ignore[operator]
    assert cb.total_cost == {"USD": usd}
    assert cb.total_tokens == cb.prompt_tokens + cb.completion_tokens


def test_langchain_stream_is_counted_once() -> None:
    llm = ChatStackitChutes(model=STACKIT_CHAT)
    with get_stackit_chutes_callback() as cb:
        chunks = list((llm | StrOutputParser()).stream("What is the capital of France?"))
        streamed = None
        for chunk in llm.stream("What is the capital of France?"):
            streamed = chunk if streamed is None else streamed + chunk
    assert "".join(chunks) == "The capital of France is Paris."
    assert streamed is not None and streamed.usage_metadata is not None
    assert cb.successful_requests == 2
    assert cb.prompt_tokens == 2 * streamed.usage_metadata["input_tokens"]
    assert cb.completion_tokens == 2 * streamed.usage_metadata["output_tokens"]


def test_langchain_batch_threads_and_asyncio_tasks_are_all_counted() -> None:
    llm = ChatStackitChutes(model=STACKIT_CHAT)
    prompts = [f"Question number {i}?" for i in range(6)]
    with get_stackit_chutes_callback() as cb:
        answers = llm.batch(prompts, config={"max_concurrency": 3})

        async def gather() -> list:
            return await asyncio.gather(*(llm.ainvoke(p) for p in prompts))

        async_answers = asyncio.run(gather())
    expected = sum(a.usage_metadata["total_tokens"] for a in answers + async_answers)  # type: ignore[index]
    assert cb.successful_requests == 12 and cb.total_tokens == expected


def test_langchain_nested_blocks_and_nothing_counted_outside() -> None:
    llm = ChatStackitChutes(model=STACKIT_CHAT)
    embeddings = StackitChutesEmbeddings(model=EMBED)
    with get_stackit_chutes_callback() as outer:
        llm.invoke("Hi")
        with get_stackit_chutes_callback() as inner:
            llm.invoke("Hi")
            embeddings.embed_query("Hi")
    llm.invoke("Hi")
    embeddings.embed_query("Hi")
    assert inner.successful_requests == 2 and inner.by_model[EMBED].requests == 1
    assert outer.successful_requests == 3 and outer.by_model[STACKIT_CHAT].requests == 2


# -- LlamaIndex -------------------------------------------------------------------------------


def test_llama_index_index_and_query_engine_count_embeddings_and_chat() -> None:
    handler = StackitChutesCostHandler()
    Settings.callback_manager = CallbackManager([handler])
    Settings.embed_model = StackitChutesEmbedding(model_name=EMBED)
    Settings.llm = StackitChutes(model=STACKIT_CHAT)
    index = VectorStoreIndex.from_documents([Document(text=text) for text in DOCS])
    assert handler.by_model[EMBED].requests >= 1 and handler.completion_tokens == 0
    embedded_documents = handler.total_embedding_token_count
    assert embedded_documents > 0
    answer = index.as_query_engine(similarity_top_k=1).query("Which currency does STACKIT bill in?")
    assert str(answer)
    assert set(handler.by_model) == {EMBED, STACKIT_CHAT}
    chat_row = handler.by_model[STACKIT_CHAT]
    assert chat_row.requests >= 1 and chat_row.completion_tokens > 0
    assert handler.total_embedding_token_count > embedded_documents  # the query was embedded too
    assert handler.total_llm_token_count == chat_row.prompt_tokens + chat_row.completion_tokens
    assert handler.total_cost == {"USD": chat_row.cost + handler.by_model[EMBED].cost}  # type: ignore[operator]


def test_llama_index_streams_counted_once_and_match_langchain_numbers() -> None:
    handler = StackitChutesCostHandler()
    llm = StackitChutes(model=CHUTES_CHAT, callback_manager=CallbackManager([handler]))
    deltas = [r.delta for r in llm.stream_chat([ChatMessage(role="user", content="What is the capital of France?")])]
    assert "".join(d or "" for d in deltas) == "The capital of France is Paris."
    list(llm.stream_complete("What is the capital of France?"))
    llm.complete("What is the capital of France?")
    with get_stackit_chutes_callback() as cb:
        ChatStackitChutes(model=CHUTES_CHAT).invoke("What is the capital of France?")
    assert handler.successful_requests == 3
    assert handler.by_model[CHUTES_CHAT].completion_tokens == 3 * cb.completion_tokens
    assert handler.total_cost == {"USD": 3 * cb.total_cost["USD"]}


def test_llama_index_async_embeddings_in_parallel_are_counted() -> None:
    handler = StackitChutesCostHandler()
    embed = StackitChutesEmbedding(model_name=EMBED, embed_batch_size=1, callback_manager=CallbackManager([handler]))
    vectors = asyncio.run(embed.aget_text_embedding_batch(DOCS))
    assert len(vectors) == 3
    assert handler.by_model[EMBED].requests == 3 and handler.successful_requests == 3
    embed.get_text_embedding("outside any handler? no: the embed model carries it")
    assert handler.by_model[EMBED].requests == 4
    StackitChutesEmbedding(model_name=EMBED).get_text_embedding("a model without the handler")
    assert handler.by_model[EMBED].requests == 4


# -- fallbacks: the model that answered is the one counted ----------------------------------------


def test_langchain_fallback_answer_is_counted_for_the_model_that_answered() -> None:
    failing_first = {"X-Emulator-Scenario": "server_error:1:lc-fallback"}
    llm = ChatStackitChutes(
        model=STACKIT_CHAT, fallback_models=[CHUTES_CHAT], max_retries=0, default_headers=failing_first
    )
    with get_stackit_chutes_callback() as cb:
        answer = llm.invoke("What is the capital of France?")
    assert answer.response_metadata["model_name"] == CHUTES_CHAT
    assert set(cb.by_model) == {CHUTES_CHAT} and cb.successful_requests == 1
    assert set(cb.total_cost) == {"USD"}


def test_llama_index_fallback_answer_is_counted_for_the_model_that_answered() -> None:
    handler = StackitChutesCostHandler()
    llm = StackitChutes(
        model=STACKIT_CHAT,
        fallback_models=[CHUTES_CHAT],
        max_retries=0,
        default_headers={"X-Emulator-Scenario": "server_error:1:li-fallback"},
        callback_manager=CallbackManager([handler]),
    )
    llm.chat([ChatMessage(role="user", content="What is the capital of France?")])
    assert set(handler.by_model) == {CHUTES_CHAT} and handler.successful_requests == 1
    assert set(handler.total_cost) == {"USD"}
