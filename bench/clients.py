"""One contender per client: each ``setup`` builds its client once and returns the call to time.

Every contender sends the same request (same model id, same prompt or texts) to the same emulator.
Imports happen inside ``setup``, so a missing or broken adapter becomes an ``n/a`` row, not a crash.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any, Literal

from bench.harness import BASELINE, COMPARATOR, OURS, REFERENCE, AsyncCall, Contender, SyncCall

CHAT_MODEL = "stackit/openai/gpt-oss-120b"
TEXT_EMBED_MODEL = "stackit/intfloat/e5-mistral-7b-instruct"
IMAGE_EMBED_MODEL = "stackit/Qwen/Qwen3-VL-Embedding-8B"
API_KEY = "bench-key"
PROMPT = "What is the capital of France? Answer in one sentence."
TEXTS = [
    f"Document {i}: {topic} is discussed here in a short paragraph about {topic} and its history."
    for i, topic in enumerate(
        [
            "the river Rhine",
            "solar energy",
            "medieval castles",
            "sourdough bread",
            "jazz piano",
            "alpine glaciers",
            "container shipping",
            "honey bees",
            "the printing press",
            "volcanoes",
            "chess openings",
            "coral reefs",
            "railway signalling",
            "tea ceremonies",
            "wind turbines",
            "lighthouses",
        ]
    )
]

Mode = Literal["sync", "stream", "async"]
Closer = Callable[[], Any]
"""Releases a contender's clients (a coroutine function in async scenarios)."""
Prepared = SyncCall | AsyncCall | tuple[SyncCall | AsyncCall, Closer]
"""What a ``setup`` returns: the call to time, optionally with its closer."""


def wire_id(model: str) -> str:
    """The model id as sent on the wire (provider prefix removed)."""
    return model.split("/", 1)[1]


def configure_environment(base_urls: dict[str, str]) -> None:
    """Point this package at the emulator (environment variables, as a user would)."""
    os.environ["STACKIT_BASE_URL"] = base_urls["stackit"]
    os.environ["CHUTES_BASE_URL"] = base_urls["chutes"]
    os.environ["CHUTES_EMBEDDINGS_BASE_URL"] = base_urls["chutes_embeddings"]
    os.environ["STACKIT_API_KEY"] = API_KEY
    os.environ["CHUTES_API_KEY"] = API_KEY
    # The emulator has no per-minute budget; the catalog's (gpt-oss: 30 requests/min) would pace the
    # client benchmarks. The paced scenario sets its budgets explicitly.
    os.environ["STACKIT_CHUTES_RATE_LIMITS"] = "off"


async def close_core_async_clients() -> None:
    """Close the async clients the core pooled for the running loop (bench only: private pool).

    Without this, clients of a finished loop are closed by garbage collection inside a later
    loop, which aborts their sockets (noise on both sides, and connection resets at the emulator).
    """
    import asyncio

    from stackit_chutes_core import _clients as core_clients

    pool = core_clients._async_clients.pop(asyncio.get_running_loop(), None)
    for client in (pool or {}).values():
        await client.close()


def _httpx_baseline(url: str, body: dict[str, Any], mode: Mode) -> Callable[[], Prepared]:
    """Emulator-only floor: a raw ``httpx`` POST of a pre-serialised body, response bytes unparsed."""

    def setup() -> Prepared:
        import httpx

        payload = json.dumps(body).encode()
        headers = {"authorization": f"Bearer {API_KEY}", "content-type": "application/json"}
        if mode == "async":
            aclient = httpx.AsyncClient(timeout=60)

            async def acall() -> None:
                response = await aclient.post(url, content=payload, headers=headers)
                response.raise_for_status()

            return acall, aclient.aclose
        client = httpx.Client(timeout=60)
        if mode == "stream":

            def stream_call() -> None:
                with client.stream("POST", url, content=payload, headers=headers) as response:
                    response.raise_for_status()
                    for _ in response.iter_bytes():
                        pass

            return stream_call, client.close

        def call() -> None:
            client.post(url, content=payload, headers=headers).raise_for_status()

        return call, client.close

    return setup


def chat_contenders(base_urls: dict[str, str], mode: Mode) -> list[Contender]:
    """The six chat clients plus the emulator-only baseline, for one of the three call modes."""
    base = base_urls["stackit"]
    model = wire_id(CHAT_MODEL)
    messages: list[Any] = [{"role": "user", "content": PROMPT}]
    raw_body: dict[str, Any] = {"model": model, "messages": messages}
    if mode == "stream":
        raw_body.update(stream=True, stream_options={"include_usage": True})

    def openai_sdk() -> Prepared:
        import openai

        if mode == "async":
            aclient = openai.AsyncOpenAI(base_url=base, api_key=API_KEY)

            async def acall() -> object:
                return await aclient.chat.completions.create(model=model, messages=messages)

            return acall, aclient.close
        client = openai.OpenAI(base_url=base, api_key=API_KEY)
        if mode == "stream":

            def stream_call() -> None:
                stream = client.chat.completions.create(
                    model=model, messages=messages, stream=True, stream_options={"include_usage": True}
                )
                for _ in stream:
                    pass

            return stream_call, client.close
        return (lambda: client.chat.completions.create(model=model, messages=messages)), client.close

    def core() -> Prepared:
        from stackit_chutes_core import ChatRequest, Message, achat, chat, resolve_endpoint, stream_chat

        endpoint = resolve_endpoint(CHAT_MODEL)
        if mode == "async":

            async def acall() -> object:
                return await achat(endpoint, ChatRequest(messages=[Message(role="user", content=PROMPT)]))

            return acall, close_core_async_clients
        if mode == "stream":

            def stream_call() -> None:
                for _ in stream_chat(endpoint, ChatRequest(messages=[Message(role="user", content=PROMPT)])):
                    pass

            return stream_call
        return lambda: chat(endpoint, ChatRequest(messages=[Message(role="user", content=PROMPT)]))

    def langchain_model(llm: Any, aclose: Closer) -> Prepared:
        if mode == "async":
            return (lambda: llm.ainvoke(PROMPT)), aclose
        if mode == "stream":

            def stream_call() -> None:
                for _ in llm.stream(PROMPT):
                    pass

            return stream_call
        return lambda: llm.invoke(PROMPT)

    def langchain_ours() -> Prepared:
        from langchain_stackit_chutes import ChatStackitChutes

        return langchain_model(ChatStackitChutes(model=CHAT_MODEL), close_core_async_clients)

    def langchain_openai() -> Prepared:
        from langchain_openai import ChatOpenAI
        from pydantic import SecretStr

        llm = ChatOpenAI(base_url=base, api_key=SecretStr(API_KEY), model=model, stream_usage=True)

        async def keep_open() -> None:
            """langchain-openai caches its async httpx client per base URL, process-wide: closing it
            would break every later ChatOpenAI; the cache keeps it alive, so it never reaches GC."""

        return langchain_model(llm, keep_open)

    def llama_model(llm: Any, aclose: Closer) -> Prepared:
        from llama_index.core.llms import ChatMessage

        def chat_messages() -> list[Any]:
            return [ChatMessage(role="user", content=PROMPT)]

        if mode == "async":
            return (lambda: llm.achat(chat_messages())), aclose
        if mode == "stream":

            def stream_call() -> None:
                for _ in llm.stream_chat(chat_messages()):
                    pass

            return stream_call
        return lambda: llm.chat(chat_messages())

    def llama_ours() -> Prepared:
        from llama_index_stackit_chutes import StackitChutes

        return llama_model(StackitChutes(model=CHAT_MODEL), close_core_async_clients)

    def llama_openai_like() -> Prepared:
        from llama_index.llms.openai_like import OpenAILike

        extra = {"stream_options": {"include_usage": True}} if mode == "stream" else {}
        llm = OpenAILike(model=model, api_base=base, api_key=API_KEY, is_chat_model=True, additional_kwargs=extra)

        async def aclose() -> None:
            if llm._aclient is not None:
                await llm._aclient.close()

        return llama_model(llm, aclose)

    return [
        Contender("emulator only (raw httpx)", BASELINE, _httpx_baseline(f"{base}/chat/completions", raw_body, mode)),
        Contender("openai SDK", REFERENCE, openai_sdk),
        Contender("ours: core", OURS, core, versus="openai SDK"),
        Contender("ours: LangChain ChatStackitChutes", OURS, langchain_ours, versus="langchain-openai ChatOpenAI"),
        Contender("langchain-openai ChatOpenAI", COMPARATOR, langchain_openai),
        Contender("ours: LlamaIndex StackitChutes", OURS, llama_ours, versus="llama-index OpenAILike"),
        Contender("llama-index OpenAILike", COMPARATOR, llama_openai_like),
    ]


def embedding_contenders(base_urls: dict[str, str]) -> list[Contender]:
    """Sixteen texts in one request: raw SDK, our three layers, and the two framework comparators."""
    base = base_urls["stackit"]
    model = wire_id(TEXT_EMBED_MODEL)
    texts = list(TEXTS)

    def openai_sdk(encoding: Literal["float", "base64"] | None) -> Callable[[], Prepared]:
        def setup() -> Prepared:
            import openai

            client = openai.OpenAI(base_url=base, api_key=API_KEY)
            if encoding is None:
                return lambda: client.embeddings.create(model=model, input=texts)
            return lambda: client.embeddings.create(model=model, input=texts, encoding_format=encoding)

        return setup

    def core() -> SyncCall:
        from stackit_chutes_core import embed_texts, resolve_endpoint

        endpoint = resolve_endpoint(TEXT_EMBED_MODEL, purpose="embeddings")
        return lambda: embed_texts(endpoint, texts)

    def langchain_ours() -> SyncCall:
        from langchain_stackit_chutes import StackitChutesEmbeddings

        embeddings = StackitChutesEmbeddings(model=TEXT_EMBED_MODEL)
        return lambda: embeddings.embed_documents(texts)

    def langchain_openai() -> SyncCall:
        from langchain_openai import OpenAIEmbeddings
        from pydantic import SecretStr

        embeddings = OpenAIEmbeddings(
            model=model,
            base_url=base,
            api_key=SecretStr(API_KEY),
            check_embedding_ctx_length=False,
        )
        return lambda: embeddings.embed_documents(texts)

    def llama_ours() -> SyncCall:
        from llama_index_stackit_chutes import StackitChutesEmbedding

        embedding = StackitChutesEmbedding(model_name=TEXT_EMBED_MODEL)
        return lambda: embedding.get_text_embedding_batch(texts)

    def llama_openai_like() -> SyncCall:
        from llama_index.embeddings.openai_like import OpenAILikeEmbedding

        embedding = OpenAILikeEmbedding(model_name=model, api_base=base, api_key=API_KEY, embed_batch_size=len(texts))
        return lambda: embedding.get_text_embedding_batch(texts)

    float_body = {"model": model, "input": texts, "encoding_format": "float"}
    base64_body = {"model": model, "input": texts, "encoding_format": "base64"}
    sdk_default = "SDK default: base64 on the wire, decoded with numpy"
    return [
        Contender(
            "emulator only (raw httpx, float)", BASELINE, _httpx_baseline(f"{base}/embeddings", float_body, "sync")
        ),
        Contender(
            "emulator only (raw httpx, base64)", BASELINE, _httpx_baseline(f"{base}/embeddings", base64_body, "sync")
        ),
        Contender("openai SDK (float)", REFERENCE, openai_sdk("float")),
        Contender("openai SDK (base64)", COMPARATOR, openai_sdk(None), note=sdk_default),
        Contender("ours: core embed_texts", OURS, core, versus="openai SDK (base64)", note="base64 on STACKIT"),
        Contender("ours: LangChain embed_documents", OURS, langchain_ours, versus="langchain-openai OpenAIEmbeddings"),
        Contender("langchain-openai OpenAIEmbeddings", COMPARATOR, langchain_openai, note=sdk_default),
        Contender(
            "ours: LlamaIndex get_text_embedding_batch", OURS, llama_ours, versus="llama-index OpenAILikeEmbedding"
        ),
        Contender("llama-index OpenAILikeEmbedding", COMPARATOR, llama_openai_like, note=sdk_default),
    ]
