"""Own unit tests of StackitChutesEmbeddings: batching, order, concurrency, instructions, dimensions,
images and mixed inputs, async twins, errors. All offline (httpx2 MockTransport, see _mock.py)."""

from __future__ import annotations

import base64
import sys
import threading
from pathlib import Path
from typing import Any

import httpx2
import pytest
from langchain_core.exceptions import ModelNotFoundError

import stackit_chutes_core as core
from langchain_stackit_chutes import StackitChutesEmbeddings
from tests._http import CHUTES_EMBED_HOST, STACKIT_HOST, InFlight, Recorder, json_response

E5 = "stackit/intfloat/e5-mistral-7b-instruct"
QWEN_VL = "stackit/Qwen/Qwen3-VL-Embedding-8B"
CHUTES = "chutes/Qwen/Qwen3-Embedding-8B"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PNG_URI = "data:image/png;base64," + base64.b64encode(PNG_BYTES).decode()
E5_TASK = "Given a web search query, retrieve relevant passages that answer the query"


def _vector_for(text: str) -> list[float]:
    return [float(len(text)), float(sum(map(ord, text)) % 97)]


def _embeddings_reply(request: httpx2.Request) -> httpx2.Response:
    """Vectors derived from the input, so that order mistakes show."""
    import json

    body = json.loads(request.read())
    size = body.get("dimensions")  # honoured like a real server: the client checks the size

    def vector(text: str) -> list[float]:
        return _vector_for(text) if size is None else (_vector_for(text) + [0.0] * size)[:size]

    if "input" in body:
        data = [{"index": i, "object": "embedding", "embedding": vector(t)} for i, t in enumerate(body["input"])]
        data.reverse()  # the server may answer out of order; data[i].index is what counts
    else:
        text = json.dumps(body["messages"])
        data = [{"index": 0, "object": "embedding", "embedding": vector(text)}]
    return json_response(
        {"object": "list", "data": data, "model": body["model"], "usage": {"prompt_tokens": 1, "total_tokens": 1}}
    )


def _emb(http: Recorder, model: str = E5, **kwargs: Any) -> StackitChutesEmbeddings:
    return StackitChutesEmbeddings(model=model, max_retries=0, **http.clients(), **kwargs)


def test_batches_keep_order() -> None:
    http = Recorder([_embeddings_reply])
    texts = [f"text number {i}" for i in range(5)]
    vectors = _emb(http, chunk_size=2).embed_documents(texts)
    assert vectors == [_vector_for(t) for t in texts]
    assert sorted(len(s["input"]) for s in http.bodies()) == [1, 2, 2]
    assert all(s["encoding_format"] == "float" for s in http.bodies())
    assert {r.url.host for r in http.requests} == {STACKIT_HOST}


def test_batches_run_concurrently_under_the_limit() -> None:
    flight = InFlight()
    barrier = threading.Barrier(2, timeout=30)  # deadlocks (and fails) if batches ran one by one

    def reply(request: httpx2.Request) -> httpx2.Response:
        with flight:
            barrier.wait()
            return _embeddings_reply(request)

    http = Recorder([reply])
    texts = [f"t{i}" for i in range(8)]
    assert _emb(http, chunk_size=2, max_concurrency=2).embed_documents(texts) == [_vector_for(t) for t in texts]
    assert len(http.requests) == 4 and flight.peak == 2


def test_e5_query_instruction_automatic_and_overridable() -> None:
    http = Recorder([_embeddings_reply])
    _emb(http).embed_documents(["a doc"])
    assert http.last_body()["input"] == ["a doc"]  # documents go raw
    _emb(http).embed_query("a question")
    assert http.last_body()["input"] == [f"Instruct: {E5_TASK}\nQuery: a question"]
    _emb(http, query_instruction="Find the answer").embed_query("q")
    assert http.last_body()["input"] == ["Instruct: Find the answer\nQuery: q"]
    _emb(http, query_instruction=False).embed_query("q")
    assert http.last_body()["input"] == ["q"]


def test_chutes_embeds_on_its_own_host_with_its_own_key() -> None:
    http = Recorder([_embeddings_reply])
    _emb(http, CHUTES, dimensions=256).embed_documents(["x"])
    assert (http.last.url.host, http.last.url.path) == (CHUTES_EMBED_HOST, "/v1/embeddings")
    assert http.last.headers["authorization"] == "Bearer replay-chutes-key"
    assert http.last_body() == {
        "model": "Qwen/Qwen3-Embedding-8B",
        "input": ["x"],
        "encoding_format": "float",
        "dimensions": 256,
    }


def test_dimensions_checked_against_the_catalog() -> None:
    with pytest.raises(core.CapabilityError, match="does not accept `dimensions`"):
        StackitChutesEmbeddings(model=E5, dimensions=512)
    with pytest.raises(core.CapabilityError, match="exceeds"):
        StackitChutesEmbeddings(model=QWEN_VL, dimensions=8192)
    assert StackitChutesEmbeddings(model=QWEN_VL, dimensions=1024).dimensions == 1024


def test_chat_models_are_refused() -> None:
    with pytest.raises(core.CapabilityError, match="is a chat model"):
        StackitChutesEmbeddings(model="stackit/openai/gpt-oss-120b")


def test_embed_image_paths_urls_and_data_uris(tmp_path: Path) -> None:
    path = tmp_path / "pic.png"
    path.write_bytes(PNG_BYTES)
    http = Recorder([_embeddings_reply])
    vectors = _emb(http, QWEN_VL).embed_image(uris=[str(path), "https://x.test/cat.jpg", PNG_URI])
    assert len(vectors) == 3 and len(http.requests) == 3
    images = sorted(s["messages"][1]["content"][0]["image_url"]["url"] for s in http.bodies())
    assert images == sorted([PNG_URI, "https://x.test/cat.jpg", PNG_URI])
    body = http.bodies()[0]
    assert body["messages"][0] == {
        "role": "system",
        "content": [{"type": "text", "text": "Represent the user's input."}],
    }
    assert body["continue_final_message"] is True and "normalize" not in body


def test_images_refused_for_text_only_embedding_models() -> None:
    http = Recorder([_embeddings_reply])
    with pytest.raises(core.CapabilityError, match="embeds text only"):
        _emb(http).embed_image(uris=[PNG_URI])
    assert http.requests == []


def test_embed_multimodal_mixed_items_one_vector_each() -> None:
    http = Recorder([_embeddings_reply])
    items: list[Any] = [
        "just text",
        {"type": "image", "base64": base64.b64encode(PNG_BYTES).decode(), "mime_type": "image/png"},
        [{"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}, {"type": "text", "text": "a caption"}],
    ]
    vectors = _emb(http, QWEN_VL).embed_multimodal(items)
    assert len(vectors) == 3 and len(http.requests) == 3
    users = [s["messages"][1]["content"] for s in http.bodies()]
    assert [{"type": "text", "text": "just text"}] in users
    assert [
        {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
        {"type": "text", "text": "a caption"},
    ] in users
    _emb(http, QWEN_VL).embed_multimodal(["find cats"], role="query")
    system = http.last_body()["messages"][0]["content"][0]["text"]
    assert system == "Retrieve images or text relevant to the user's query."
    with pytest.raises(core.InvalidInputError, match="at most one image"):
        _emb(http, QWEN_VL).embed_multimodal(
            [[{"type": "image", "url": "https://a"}, {"type": "image", "url": "https://b"}]]
        )


async def test_async_twins() -> None:
    http = Recorder([_embeddings_reply])
    emb = _emb(http, chunk_size=2)
    texts = ["one", "two", "three"]
    assert await emb.aembed_documents(texts) == [_vector_for(t) for t in texts]
    assert await emb.aembed_query("q") == _vector_for(f"Instruct: {E5_TASK}\nQuery: q")
    vl = _emb(http, QWEN_VL)
    assert len(await vl.aembed_image(uris=[PNG_URI])) == 1
    assert len(await vl.aembed_multimodal(["a", "b"])) == 2


def test_errors_are_langchain_typed() -> None:
    http = Recorder([json_response({"detail": "model not found: x"}, 404)])
    with pytest.raises(ModelNotFoundError) as info:
        _emb(http, CHUTES).embed_documents(["x"])
    assert isinstance(info.value, core.NotFoundError)


def test_progress_bar_needs_tqdm(monkeypatch: pytest.MonkeyPatch) -> None:
    http = Recorder([_embeddings_reply])
    texts = [f"t{i}" for i in range(5)]
    assert _emb(http, chunk_size=1, max_concurrency=2, show_progress_bar=True).embed_documents(texts) == [
        _vector_for(t) for t in texts
    ]
    monkeypatch.setitem(sys.modules, "tqdm", None)
    with pytest.raises(ImportError, match="pip install tqdm"):
        StackitChutesEmbeddings(model=E5, show_progress_bar=True)
