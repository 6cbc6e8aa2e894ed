"""Production safety of the four adapter classes: pickling for worker pools, keys that never cross
providers however the model is switched, validation errors that never echo a key, and one warning for
a model the catalog does not know.
"""

from __future__ import annotations

import logging
import multiprocessing
import pickle
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from pydantic import ValidationError

from langchain_stackit_chutes import ChatStackitChutes, StackitChutesEmbeddings
from llama_index_stackit_chutes import StackitChutes, StackitChutesEmbedding
from stackit_chutes_core import _connection as core_connection
from tests._http import Recorder, chat_completion, json_response
from tests._workers import embed_with
from tests.emulator import ProviderEmulator

GPT_OSS = "stackit/openai/gpt-oss-120b"
DEEPSEEK = "chutes/deepseek-ai/DeepSeek-V3.2-TEE"
E5 = "stackit/intfloat/e5-mistral-7b-instruct"
CHUTES_EMBED = "chutes/Qwen/Qwen3-Embedding-8B"
SECRET = "sk-very-secret-value-123"
TEXTS = [f"document number {i} about {'clouds' if i % 2 else 'models'} and item {i * 7}" for i in range(200)]


@pytest.fixture(scope="module")
def emulator() -> Iterator[ProviderEmulator]:
    with ProviderEmulator(latency_s=0.0, max_lifetime_s=300) as emu:
        yield emu


def _all_classes(emu: ProviderEmulator | None = None) -> list[Any]:
    stackit = {"api_key": "k"} if emu is None else {"api_key": "k", "base_url": emu.base_urls["stackit"]}
    llama = {"api_key": "k"} if emu is None else {"api_key": "k", "api_base": emu.base_urls["stackit"]}
    return [
        ChatStackitChutes(model=GPT_OSS, **stackit),
        StackitChutesEmbeddings(model=E5, **stackit),
        StackitChutes(model=GPT_OSS, **llama),
        StackitChutesEmbedding(model_name=E5, **llama),
    ]


# -- pickling -------------------------------------------------------------------------------------


def test_every_class_pickles_and_the_copy_works(emulator: ProviderEmulator) -> None:
    lc_chat, lc_embed, li_chat, li_embed = (pickle.loads(pickle.dumps(o)) for o in _all_classes(emulator))
    assert lc_chat.invoke("Say hi").content
    assert li_chat.chat([ChatMessage(role=MessageRole.USER, content="Say hi")]).message.content
    assert lc_embed.embed_query("clouds") == li_embed.get_query_embedding("clouds")


def test_pickling_drops_user_owned_http_clients() -> None:
    http = Recorder([json_response(chat_completion())])
    for model in (ChatStackitChutes(model=GPT_OSS, **http.clients()), StackitChutes(model=GPT_OSS, **http.clients())):
        copy = pickle.loads(pickle.dumps(model))
        assert copy.http_client is None
        assert model.http_client is not None  # the original keeps its client


@pytest.mark.parametrize("start_method", ["spawn", "fork"])
def test_process_pool_embeds_like_the_parent(emulator: ProviderEmulator, start_method: str) -> None:
    lc = StackitChutesEmbeddings(model=E5, api_key="k", base_url=emulator.base_urls["stackit"], chunk_size=25)
    li = StackitChutesEmbedding(model_name=E5, api_key="k", api_base=emulator.base_urls["stackit"], embed_batch_size=25)
    expected = lc.embed_documents(TEXTS)
    halves = [TEXTS[:100], TEXTS[100:]]
    context = multiprocessing.get_context(start_method)
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        for model in (lc, li):
            vectors = [v for part in pool.map(embed_with, [model, model], halves, timeout=120) for v in part]
            assert vectors == expected


# -- keys never cross providers ------------------------------------------------------------------


def _chat_once(model: Any) -> Any:
    if isinstance(model, ChatStackitChutes):
        return model.invoke([HumanMessage("hi")])
    return model.chat([ChatMessage(role=MessageRole.USER, content="hi")])


@pytest.mark.parametrize("cls", [ChatStackitChutes, StackitChutes])
@pytest.mark.parametrize("switch", ["assign", "model_copy"])
def test_switched_chat_model_uses_the_other_providers_own_key(cls: Any, switch: str) -> None:
    http = Recorder([json_response(chat_completion())])
    llm = cls(model=GPT_OSS, api_key=SECRET, **http.clients())
    if switch == "assign":
        llm.model = DEEPSEEK
    else:
        llm = llm.model_copy(update={"model": DEEPSEEK})
    _chat_once(llm)
    assert http.last.url.host == "llm.chutes.ai"
    assert http.last.headers["authorization"] == "Bearer replay-chutes-key"


def test_switched_embedding_uses_the_other_providers_own_key_or_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    data = {"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}], "model": "m"}
    http = Recorder([json_response(data)])
    emb = StackitChutesEmbedding(model_name=E5, api_key=SECRET, **http.clients())
    emb.model_name = CHUTES_EMBED
    emb.get_query_embedding("q")
    assert (http.last.url.host, http.last.headers["authorization"]) == ("embed.chutes.ai", "Bearer replay-chutes-key")
    monkeypatch.delenv("CHUTES_API_KEY")
    from stackit_chutes_core import MissingAPIKeyError

    with pytest.raises(MissingAPIKeyError, match="CHUTES_API_KEY"):
        emb.get_query_embedding("q")
    assert all(
        SECRET not in seen.headers.get("authorization", "")
        for seen in http.requests
        if seen.url.host != "api.openai-compat.model-serving.eu01.onstackit.cloud"
    )


# -- validation errors never echo inputs -----------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: ChatStackitChutes(api_key=SECRET),
        lambda: StackitChutesEmbeddings(api_key=SECRET),
        lambda: StackitChutes(api_key=SECRET),
        lambda: ChatStackitChutes(model=GPT_OSS, api_key=SECRET, temperature="hot"),
        lambda: StackitChutes(model=GPT_OSS, api_key=SECRET, temperature="hot"),
        lambda: StackitChutesEmbedding(model_name=E5, api_key=SECRET, dimensions="big"),
    ],
)
def test_validation_errors_hide_the_key(build: Any) -> None:
    with pytest.raises((ValidationError, ValueError, TypeError)) as info:
        build()
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)


# -- unknown models --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda m: ChatStackitChutes(model=m),
        lambda m: StackitChutes(model=m),
        lambda m: StackitChutesEmbeddings(model=m),
        lambda m: StackitChutesEmbedding(model_name=m),
    ],
)
def test_unknown_model_works_and_is_logged_once(build: Any, caplog: pytest.LogCaptureFixture) -> None:
    model = "chutes/acme/brand-new-model-x"
    core_connection._warned_unknown.discard(model)
    with caplog.at_level(logging.WARNING, logger="stackit_chutes"):
        build(model)
        build(model)
    messages = [r.getMessage() for r in caplog.records if model in r.getMessage()]
    assert len(messages) == 1
    assert "not in the stackit-chutes catalog" in messages[0]
