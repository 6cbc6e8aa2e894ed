"""Embedding request bodies, field by field against providers.md §1.1, §1.8, §2, §4.9, Implications 8-9."""

from __future__ import annotations

import asyncio
import base64
import json
import struct
from typing import Any

import httpx2
import pytest

from stackit_chutes_core import (
    BadRequestError,
    CapabilityError,
    EmbeddingItem,
    EmbeddingItemsError,
    InvalidInputError,
    aembed_items,
    aembed_texts,
    embed_items,
    embed_texts,
    resolve_endpoint,
)
from stackit_chutes_core._embeddings import build_messages_body, format_query, uses_chat_template
from tests._http import ConcurrencyGate, Recorder, json_response

E5 = "stackit/intfloat/e5-mistral-7b-instruct"
QWEN_VL = "stackit/Qwen/Qwen3-VL-Embedding-8B"
CHUTES_QWEN = "chutes/Qwen/Qwen3-Embedding-8B"
E5_TASK = "Given a web search query, retrieve relevant passages that answer the query"
DOC_INSTRUCTION = "Represent the user's input."
QUERY_INSTRUCTION = "Retrieve images or text relevant to the user's query."
PNG_URI = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def vector_for(text: str, dimensions: int | None = None) -> list[float]:
    """A deterministic, exactly representable vector for a text (float32-safe).

    Like a real server, it honours a requested ``dimensions`` (the client checks the size).
    """
    vector = [float(len(text)), float(sum(map(ord, text)) % 997), 0.5]
    return vector if dimensions is None else (vector + [0.0] * dimensions)[:dimensions]


def input_answer(request: httpx2.Request, *, reverse: bool = True) -> httpx2.Response:
    """An ``input`` answer, with ``data`` deliberately out of order."""
    body = json.loads(request.content)
    size = body.get("dimensions")
    data = [{"index": i, "object": "embedding", "embedding": vector_for(t, size)} for i, t in enumerate(body["input"])]
    if reverse:
        data.reverse()
    n = len(body["input"])
    return json_response(
        {
            "id": "embd-96d405966aa14e8eb3d7e202a006e2cf",
            "object": "list",
            "created": 1262540,
            "model": body["model"],
            "data": data,
            "usage": {
                "prompt_tokens": 2 * n,
                "total_tokens": 2 * n,
                "completion_tokens": 0,
                "prompt_tokens_details": None,
            },
        }
    )


def messages_text(body: dict[str, Any]) -> str:
    """The user text of a ``messages`` body (plus an image marker), to derive its vector."""
    parts = body["messages"][-2]["content"]
    return "".join(p.get("text", "") if p["type"] == "text" else "[img]" for p in parts)


def messages_answer(request: httpx2.Request) -> httpx2.Response:
    body = json.loads(request.content)
    vector = vector_for(messages_text(body), body.get("dimensions"))
    return json_response(
        {
            "object": "list",
            "model": body["model"],
            "data": [{"index": 0, "object": "embedding", "embedding": vector}],
            "usage": {"prompt_tokens": 5, "total_tokens": 5},
        }
    )


def either_answer(request: httpx2.Request) -> httpx2.Response:
    """Answer an ``input`` or a ``messages`` body, whichever was sent."""
    body = json.loads(request.content)
    return input_answer(request) if "input" in body else messages_answer(request)


def ep(model: str, recorder: Recorder, **kwargs: Any) -> Any:
    return resolve_endpoint(
        model,
        api_key="k",
        purpose="embeddings",
        max_retries=0,
        http_client=recorder.client(),
        http_async_client=recorder.async_client(),
        **kwargs,
    )


# --- text through `input` -----------------------------------------------------------------------


def test_documented_stackit_request_body() -> None:
    # providers.md §1.1: model + input list (plus encoding_format "base64": vLLM, providers.md §0).
    recorder = Recorder(input_answer)
    texts = ["The API is fast and reliable.", "The system reacts just in time and is stable."]
    result = embed_texts(ep(E5, recorder), texts)
    request = recorder.last
    assert str(request.url) == "https://api.openai-compat.model-serving.eu01.onstackit.cloud/v1/embeddings"
    assert request.headers["authorization"] == "Bearer k"
    assert recorder.last_body() == {
        "model": "intfloat/e5-mistral-7b-instruct",
        "input": texts,
        "encoding_format": "base64",
    }
    assert result.vectors == [vector_for(t) for t in texts]
    assert result.model == "intfloat/e5-mistral-7b-instruct"
    assert result.usage is not None
    assert result.usage.input_tokens == 4


def test_batches_keep_order_even_when_data_is_out_of_order() -> None:
    recorder = Recorder(input_answer)
    texts = [f"text number {i}" + "x" * i for i in range(7)]
    result = embed_texts(ep(CHUTES_QWEN, recorder), texts, batch_size=3, max_concurrency=2)
    assert result.vectors == [vector_for(t) for t in texts]
    bodies = recorder.bodies()
    assert sorted(len(b["input"]) for b in bodies) == [1, 3, 3]
    assert sorted(t for b in bodies for t in b["input"]) == sorted(texts)
    for body in bodies:
        assert set(body) == {"model", "input", "encoding_format"}
        assert body["encoding_format"] == "float"
        assert body["model"] == "Qwen/Qwen3-Embedding-8B"
    assert {r.url.host for r in recorder.requests} == {"embed.chutes.ai"}
    assert result.usage is not None
    assert result.usage.input_tokens == 14


def test_async_batches_keep_order() -> None:
    recorder = Recorder(input_answer)
    texts = [f"t{i}" * (i + 1) for i in range(5)]
    result = asyncio.run(aembed_texts(ep(E5, recorder), texts, batch_size=2))
    assert result.vectors == [vector_for(t) for t in texts]
    assert len(recorder.requests) == 3


def test_empty_text_list_sends_nothing() -> None:
    recorder = Recorder(input_answer)
    assert embed_texts(ep(E5, recorder), []).vectors == []
    assert recorder.requests == []


def test_invalid_batch_size() -> None:
    with pytest.raises(InvalidInputError):
        embed_texts(ep(E5, Recorder(input_answer)), ["a"], batch_size=0)


def test_base64_answers_are_decoded() -> None:
    floats = [0.0167388916015625, 0.005096435546875, -0.01406097412109375]
    encoded = base64.b64encode(struct.pack("<3f", *floats)).decode()
    recorder = Recorder(
        json_response({"object": "list", "data": [{"index": 0, "object": "embedding", "embedding": encoded}]})
    )
    result = embed_texts(ep(E5, recorder), ["a"])
    assert result.vectors == [floats]
    assert recorder.last_body()["encoding_format"] == "base64"  # STACKIT (vLLM) takes base64


def test_wrong_number_of_vectors_is_an_error() -> None:
    recorder = Recorder(json_response({"object": "list", "data": []}))
    with pytest.raises(Exception, match="expected 1 embeddings"):
        embed_texts(ep(E5, recorder), ["a"])


# --- e5 instructions ------------------------------------------------------------------------------


def test_e5_query_instruction_for_queries_only() -> None:
    recorder = Recorder(input_answer)
    endpoint = ep(E5, recorder)
    embed_texts(endpoint, ["how fast is the API?"], role="query")
    embed_texts(endpoint, ["The API is fast."], role="document")
    query_body, document_body = recorder.bodies()
    assert query_body["input"] == [f"Instruct: {E5_TASK}\nQuery: how fast is the API?"]
    assert document_body["input"] == ["The API is fast."]
    assert "messages" not in query_body


def test_e5_query_instruction_override_and_disable() -> None:
    recorder = Recorder(input_answer)
    endpoint = ep(E5, recorder)
    embed_texts(endpoint, ["q"], role="query", instruction="Find code")
    embed_texts(endpoint, ["q"], role="query", instruction=False)
    assert [b["input"] for b in recorder.bodies()] == [["Instruct: Find code\nQuery: q"], ["q"]]


def test_format_query() -> None:
    assert format_query("q", "task") == "Instruct: task\nQuery: q"
    assert format_query("q", None) == "q"


# --- dimensions ----------------------------------------------------------------------------------


def test_dimensions_refused_for_e5_before_any_request() -> None:
    # providers.md §1.7/§2: dimensions on e5 -> HTTP 400 on STACKIT; refused locally instead.
    recorder = Recorder(input_answer)
    with pytest.raises(CapabilityError) as caught:
        embed_texts(ep(E5, recorder), ["a"], dimensions=256)
    assert "stackit/Qwen/Qwen3-VL-Embedding-8B" in str(caught.value)
    assert recorder.requests == []


def test_dimensions_over_native_size_refused() -> None:
    recorder = Recorder(messages_answer)
    with pytest.raises(CapabilityError, match="4096"):
        embed_texts(ep(QWEN_VL, recorder), ["a"], dimensions=8192)
    with pytest.raises(CapabilityError):
        embed_items(ep(QWEN_VL, recorder), [EmbeddingItem(image_url=PNG_URI)], dimensions=4097)
    assert recorder.requests == []


@pytest.mark.parametrize("bad", [0, -1, True, 2.5])
def test_dimensions_must_be_positive_int(bad: Any) -> None:
    with pytest.raises(InvalidInputError):
        embed_texts(ep(CHUTES_QWEN, Recorder(input_answer)), ["a"], dimensions=bad)


def test_dimensions_sent_for_mrl_models() -> None:
    recorder = Recorder(input_answer)
    embed_texts(ep(CHUTES_QWEN, recorder), ["a"], dimensions=1024)
    assert recorder.last_body() == {
        "model": "Qwen/Qwen3-Embedding-8B",
        "input": ["a"],
        "encoding_format": "float",
        "dimensions": 1024,
    }


def test_dimensions_unchecked_for_unknown_models() -> None:
    recorder = Recorder(input_answer)
    embed_texts(ep("stackit/new/embedder", recorder), ["a"], dimensions=99999)
    assert recorder.last_body()["dimensions"] == 99999


# --- multimodal `messages` body (providers.md §1.8) -----------------------------------------------


def test_messages_body_exactly_as_providers_md() -> None:
    recorder = Recorder(messages_answer)
    item = EmbeddingItem(text="optional caption", image_url=PNG_URI)
    result = embed_items(ep(QWEN_VL, recorder), [item], dimensions=1024)
    assert recorder.last_body() == {
        "model": "Qwen/Qwen3-VL-Embedding-8B",
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": "Represent the user's input."}]},
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": PNG_URI}},
                    {"type": "text", "text": "optional caption"},
                ],
            },
            {"role": "assistant", "content": [{"type": "text", "text": ""}]},
        ],
        "encoding_format": "base64",
        "continue_final_message": True,
        "add_special_tokens": True,
        "dimensions": 1024,
    }
    assert str(recorder.last.url) == "https://api.openai-compat.model-serving.eu01.onstackit.cloud/v1/embeddings"
    assert result.vectors == [vector_for("[img]optional caption", 1024)]


def test_image_only_item_matches_vllm_example() -> None:
    # The vLLM run_qwen3_vl example: image part, then an empty text part; no dimensions key.
    recorder = Recorder(messages_answer)
    embed_items(ep(QWEN_VL, recorder), [EmbeddingItem(image_url="https://example.org/cat.jpg")])
    body = recorder.last_body()
    assert body == {
        "model": "Qwen/Qwen3-VL-Embedding-8B",
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": DOC_INSTRUCTION}]},
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": "https://example.org/cat.jpg"}},
                    {"type": "text", "text": ""},
                ],
            },
            {"role": "assistant", "content": [{"type": "text", "text": ""}]},
        ],
        "encoding_format": "base64",
        "continue_final_message": True,
        "add_special_tokens": True,
    }


def test_never_normalize_or_input_or_generation_prompt() -> None:
    recorder = Recorder(messages_answer)
    endpoint = ep(QWEN_VL, recorder)
    embed_items(endpoint, [EmbeddingItem(text="a", image_url=PNG_URI)], dimensions=64)
    embed_texts(endpoint, ["b"], role="query")
    asyncio.run(aembed_items(endpoint, [EmbeddingItem(image_url=PNG_URI)]))
    for body in recorder.bodies():
        assert "normalize" not in body
        assert "input" not in body
        assert "add_generation_prompt" not in body  # cannot be combined with continue_final_message


def test_query_items_use_the_query_instruction() -> None:
    recorder = Recorder(messages_answer)
    embed_items(ep(QWEN_VL, recorder), [EmbeddingItem(text="a red car")], role="query")
    messages = recorder.last_body()["messages"]
    assert messages[0] == {"role": "system", "content": [{"type": "text", "text": QUERY_INSTRUCTION}]}
    assert messages[1] == {"role": "user", "content": [{"type": "text", "text": "a red car"}]}


def test_instruction_override_and_disable_for_items() -> None:
    recorder = Recorder(messages_answer)
    endpoint = ep(QWEN_VL, recorder)
    embed_items(endpoint, [EmbeddingItem(text="x")], instruction="Custom task.")
    embed_items(endpoint, [EmbeddingItem(text="x")], instruction=False)
    with_custom, without = recorder.bodies()
    assert with_custom["messages"][0]["content"][0]["text"] == "Custom task."
    assert [m["role"] for m in without["messages"]] == ["user", "assistant"]


def test_qwen3_vl_documents_are_batched_through_input_and_queries_use_messages() -> None:
    # Documents: batched `input`, like any text model (STACKIT: "can be used just like text-only
    # embedding models"). Queries: the messages form with the query instruction as the system turn,
    # so that a text query lands in the space of the images it should find.
    recorder = Recorder(either_answer)
    endpoint = ep(QWEN_VL, recorder)
    assert uses_chat_template(endpoint.route.info)
    docs = embed_texts(endpoint, ["doc one", "doc two"])
    query = embed_texts(endpoint, ["find cats"], role="query")
    doc_body, query_body = recorder.bodies()
    assert doc_body == {
        "model": "Qwen/Qwen3-VL-Embedding-8B",
        "input": ["doc one", "doc two"],
        "encoding_format": "base64",
    }
    assert "input" not in query_body
    assert query_body["continue_final_message"] is True
    assert query_body["add_special_tokens"] is True
    assert query_body["encoding_format"] == "base64"
    assert query_body["messages"][0] == {"role": "system", "content": [{"type": "text", "text": QUERY_INSTRUCTION}]}
    # The query instruction is the system message, not an e5-style "Instruct:" prefix.
    assert query_body["messages"][1] == {"role": "user", "content": [{"type": "text", "text": "find cats"}]}
    assert query_body["messages"][-1] == {"role": "assistant", "content": [{"type": "text", "text": ""}]}
    assert docs.vectors == [vector_for("doc one"), vector_for("doc two")]
    assert query.vectors == [vector_for("find cats")]


def test_qwen3_vl_explicit_document_instruction_uses_messages() -> None:
    recorder = Recorder(either_answer)
    embed_texts(ep(QWEN_VL, recorder), ["doc one", "doc two"], instruction=DOC_INSTRUCTION)
    bodies = recorder.bodies()
    assert len(bodies) == 2  # one request per text: an instruction needs the system turn
    for body in bodies:
        assert "input" not in body
        assert body["messages"][0]["content"][0]["text"] == DOC_INSTRUCTION


def test_qwen3_vl_text_dimensions_pass_through_both_forms() -> None:
    recorder = Recorder(either_answer)
    endpoint = ep(QWEN_VL, recorder)
    embed_texts(endpoint, ["a"], dimensions=256)
    embed_texts(endpoint, ["b"], role="query", dimensions=256)
    assert [body["dimensions"] for body in recorder.bodies()] == [256, 256]


def test_build_messages_body_without_instruction() -> None:
    endpoint = resolve_endpoint(QWEN_VL, api_key="k", purpose="embeddings")
    body = build_messages_body(endpoint, EmbeddingItem(text="t"), None)
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "t"}]},
        {"role": "assistant", "content": [{"type": "text", "text": ""}]},
    ]


# --- capability checks ---------------------------------------------------------------------------


@pytest.mark.parametrize("model", [E5, CHUTES_QWEN])
def test_images_to_text_only_embedding_models_are_refused(model: str) -> None:
    recorder = Recorder(messages_answer)
    with pytest.raises(CapabilityError) as caught:
        embed_items(ep(model, recorder), [EmbeddingItem(text="a"), EmbeddingItem(image_url=PNG_URI)])
    assert "stackit/Qwen/Qwen3-VL-Embedding-8B" in str(caught.value)
    assert model in str(caught.value)
    assert recorder.requests == []


def test_images_to_unknown_models_are_sent() -> None:
    # The catalog knows nothing about this model, so it does not block: the provider decides.
    recorder = Recorder(messages_answer)
    endpoint = ep("stackit/someone/new-vl-embedder", recorder)
    result = embed_items(endpoint, [EmbeddingItem(image_url=PNG_URI)])
    assert result.vectors == [vector_for("[img]")]
    body = recorder.last_body()
    assert body["model"] == "someone/new-vl-embedder"
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"]  # no instruction known


def test_allow_unverified_images_overrides_a_documented_text_only_row() -> None:
    # e5 is documented text-only: refused by default; the user's explicit flag wins over the catalog.
    with pytest.raises(CapabilityError, match="allow_unverified_images"):
        embed_items(ep(E5, Recorder(messages_answer)), [EmbeddingItem(image_url=PNG_URI)])
    recorder = Recorder(messages_answer)
    embed_items(ep(E5, recorder), [EmbeddingItem(image_url=PNG_URI)], allow_unverified_images=True)
    assert recorder.last_body()["model"] == "intfloat/e5-mistral-7b-instruct"


def test_async_capability_checks() -> None:
    recorder = Recorder(messages_answer)
    with pytest.raises(CapabilityError):
        asyncio.run(aembed_items(ep(E5, recorder), [EmbeddingItem(image_url=PNG_URI)]))
    with pytest.raises(CapabilityError):
        asyncio.run(aembed_texts(ep(E5, recorder), ["a"], dimensions=128))
    assert recorder.requests == []


# --- fan-out: one request per item, concurrency limit, order, partial failure --------------------


def _items(n: int) -> list[EmbeddingItem]:
    return [EmbeddingItem(text=f"item-{i}" + "#" * i, image_url=PNG_URI if i % 2 else None) for i in range(n)]


def _expected(items: list[EmbeddingItem]) -> list[list[float]]:
    return [vector_for(("[img]" if it.image_url else "") + (it.text or "")) for it in items]


@pytest.mark.parametrize("limit", [1, 3])
def test_sync_fan_out_respects_max_concurrency(limit: int) -> None:
    items = _items(8)
    gate = ConcurrencyGate(limit, len(items), messages_answer)
    recorder = Recorder(gate.sync_handler)
    result = embed_items(ep(QWEN_VL, recorder), items, max_concurrency=limit)
    assert len(recorder.requests) == len(items)  # one request per item
    assert gate.peak == limit  # reached, never exceeded
    assert result.vectors == _expected(items)
    assert result.usage is not None
    assert result.usage.input_tokens == 5 * len(items)


@pytest.mark.parametrize("limit", [1, 3])
def test_async_fan_out_respects_max_concurrency(limit: int) -> None:
    items = _items(8)
    gate = ConcurrencyGate(limit, len(items), messages_answer)
    recorder = Recorder(gate.async_handler)  # type: ignore[arg-type]
    result = asyncio.run(aembed_items(ep(QWEN_VL, recorder), items, max_concurrency=limit))
    assert len(recorder.requests) == len(items)
    assert gate.peak == limit
    assert result.vectors == _expected(items)


def test_async_text_batches_respect_max_concurrency() -> None:
    texts = [f"t{i}" for i in range(10)]
    gate = ConcurrencyGate(2, 5, input_answer)
    recorder = Recorder(gate.async_handler)  # type: ignore[arg-type]
    result = asyncio.run(aembed_texts(ep(E5, recorder), texts, batch_size=2, max_concurrency=2))
    assert gate.peak == 2
    assert result.vectors == [vector_for(t) for t in texts]


def test_sync_text_batches_respect_max_concurrency() -> None:
    texts = [f"t{i}" for i in range(10)]
    gate = ConcurrencyGate(2, 5, input_answer)
    recorder = Recorder(gate.sync_handler)
    result = embed_texts(ep(E5, recorder), texts, batch_size=2, max_concurrency=2)
    assert gate.peak == 2
    assert result.vectors == [vector_for(t) for t in texts]


def _failing(indices: set[int]) -> Any:
    def answer(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        text = messages_text(body)
        if any(text.endswith(f"item-{i}" + "#" * i) for i in indices):
            return json_response(
                {
                    "error": {
                        "message": "image could not be decoded",
                        "type": "BadRequestError",
                        "param": None,
                        "code": 400,
                    }
                },
                400,
            )
        return messages_answer(request)

    return answer


@pytest.mark.parametrize("asynchronous", [False, True])
def test_partial_failure_reports_indices_and_keeps_vectors(asynchronous: bool) -> None:
    items = _items(5)
    recorder = Recorder(_failing({1, 3}))
    endpoint = ep(QWEN_VL, recorder)
    with pytest.raises(EmbeddingItemsError) as caught:
        if asynchronous:
            asyncio.run(aembed_items(endpoint, items, max_concurrency=2))
        else:
            embed_items(endpoint, items, max_concurrency=2)
    error = caught.value
    assert sorted(error.failures) == [1, 3]
    assert all(isinstance(e, BadRequestError) for e in error.failures.values())
    expected = _expected(items)
    assert error.partial == [expected[0], None, expected[2], None, expected[4]]
    assert error.provider == "stackit"
    assert "2 of 5" in str(error)
    assert len(recorder.requests) == 5  # every item was tried


def test_total_failure_with_one_cause_is_raised_as_is() -> None:
    recorder = Recorder(json_response({"error": {"message": "bad", "type": "BadRequestError", "code": 400}}, 400))
    with pytest.raises(BadRequestError):
        embed_items(ep(QWEN_VL, recorder), _items(3))


def test_empty_items() -> None:
    recorder = Recorder(messages_answer)
    assert embed_items(ep(QWEN_VL, recorder), []).vectors == []
    assert asyncio.run(aembed_items(ep(QWEN_VL, recorder), [])).vectors == []
    assert recorder.requests == []
