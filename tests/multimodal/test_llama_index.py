"""LlamaIndex: ``StackitChutesEmbedding`` as a ``MultiModalEmbedding`` (issue #6, "LlamaIndex").

* Cassette-backed (``cassettes/multimodal/test_llama_index/``): image embeddings from every source,
  sync and async, and ``MultiModalVectorStoreIndex`` over generated red/green/blue/yellow PNG files
  plus text documents, where a text query such as "a red picture" retrieves the red image first.
* Wire-level, against a live in-process emulator: request bodies, checks before any request,
  capability gate, partial failures with indices, and ONE overall concurrency limit for the batch
  methods (LlamaIndex's base ``aget_image_embedding_batch`` gathers every batch unbounded).
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import httpx2
import pytest
from llama_index.core.callbacks import CallbackManager
from llama_index.core.callbacks.schema import CBEventType, EventPayload
from llama_index.core.embeddings import MultiModalEmbedding
from llama_index.core.indices import MultiModalVectorStoreIndex
from llama_index.core.schema import Document, ImageDocument, ImageNode, TextNode

from llama_index_stackit_chutes import StackitChutesEmbedding
from stackit_chutes_core import (
    CapabilityError,
    EmbeddingItemsError,
    InternalServerError,
    InvalidInputError,
    NotFoundError,
)
from tests._http import InFlight, json_response, mock_clients
from tests.emulator import ProviderEmulator
from tests.llama_index._helpers import CallbackEvents
from tests.multimodal._shared import (
    DIMS,
    DOCUMENT_INSTRUCTION,
    E5,
    QUERY_INSTRUCTION,
    QWEN_VL,
    QWEN_VL_ID,
    UNKNOWN,
    body_of,
    data_uri,
    png,
    ranking,
    user_parts,
)
from tests.pngs import COLOURS

TEXTS = ["Bananas are rich in potassium.", "The red planet is Mars."]


def _model(**kwargs: Any) -> StackitChutesEmbedding:
    kwargs.setdefault("dimensions", DIMS)
    return StackitChutesEmbedding(model_name=QWEN_VL, **kwargs)


def _documents(files: dict[str, Path]) -> list[Document]:
    images = [ImageDocument(image_path=str(path), metadata={"colour": name}) for name, path in files.items()]
    return [*images, *(Document(text=t) for t in TEXTS)]


# == cassette-backed ===================================================================================


@pytest.mark.vcr
class TestImageEmbeddings:
    def test_is_a_multimodal_embedding(self) -> None:
        assert isinstance(_model(), MultiModalEmbedding)

    def test_every_source_gives_the_same_vector(self, colour_files: dict[str, Path]) -> None:
        model = _model()
        red = png("red")
        sources: list[Any] = [str(colour_files["red"]), colour_files["red"], red, io.BytesIO(red), data_uri("red")]
        vectors = [model.get_image_embedding(source) for source in sources]
        assert len(vectors[0]) == DIMS
        assert all(v == vectors[0] for v in vectors)

    def test_batch_keeps_input_order(self, colour_files: dict[str, Path]) -> None:
        model = _model(embed_batch_size=2, num_workers=3)
        names = ["yellow", "red", "blue", "green", "red"]
        batch = model.get_image_embedding_batch([str(colour_files[n]) for n in names])
        singles = {n: model.get_image_embedding(str(colour_files[n])) for n in set(names)}
        assert batch == [singles[n] for n in names]

    async def test_async_twins(self, colour_files: dict[str, Path]) -> None:
        model = _model(embed_batch_size=2, num_workers=3)
        names = list(COLOURS)
        sync = model.get_image_embedding_batch([colour_files[n] for n in names])
        assert await model.aget_image_embedding(colour_files["blue"]) == sync[names.index("blue")]
        assert await model.aget_image_embedding_batch([io.BytesIO(png(n)) for n in names]) == sync
        assert await model.aget_query_embedding("a red picture") == model.get_query_embedding("a red picture")

    def test_text_query_ranks_its_image_first(self, colour_files: dict[str, Path]) -> None:
        model = _model()
        names = list(COLOURS)
        images = dict(zip(names, model.get_image_embedding_batch([colour_files[n] for n in names]), strict=True))
        texts = dict(zip(TEXTS, model.get_text_embedding_batch(TEXTS), strict=True))
        for colour in COLOURS:
            query = model.get_query_embedding(f"a {colour} picture")
            assert ranking(query, images)[0] == colour
            assert ranking(query, {**images, **texts})[0] == colour  # one space for text and images


@pytest.mark.vcr
class TestMultiModalVectorStoreIndex:
    def test_text_to_image_retrieval(self, colour_files: dict[str, Path]) -> None:
        model = _model()
        index = MultiModalVectorStoreIndex.from_documents(
            _documents(colour_files), embed_model=model, image_embed_model=model
        )
        retriever = index.as_retriever(similarity_top_k=1, image_similarity_top_k=2)
        for colour in COLOURS:
            hits = retriever.text_to_image_retrieve(f"a {colour} picture")
            assert [type(h.node) for h in hits] == [ImageNode, ImageNode]
            assert hits[0].node.metadata["colour"] == colour
            assert Path(hits[0].node.image_path).name == f"{colour}.png"
            assert hits[0].score > hits[1].score

    def test_retrieve_returns_texts_and_images(self, colour_files: dict[str, Path]) -> None:
        model = _model()
        index = MultiModalVectorStoreIndex.from_documents(
            _documents(colour_files), embed_model=model, image_embed_model=model
        )
        hits = index.as_retriever(similarity_top_k=1, image_similarity_top_k=1).retrieve("a red picture")
        texts = [h for h in hits if not isinstance(h.node, ImageNode)]
        images = [h for h in hits if isinstance(h.node, ImageNode)]
        assert [h.node.get_content() for h in texts] == ["The red planet is Mars."]
        assert [h.node.metadata["colour"] for h in images] == ["red"]

    def test_image_to_image_retrieval(self, colour_files: dict[str, Path]) -> None:
        model = _model()
        index = MultiModalVectorStoreIndex.from_documents(
            _documents(colour_files), embed_model=model, image_embed_model=model
        )
        hits = index.as_retriever(image_similarity_top_k=1).image_to_image_retrieve(str(colour_files["blue"]))
        assert hits[0].node.metadata["colour"] == "blue"

    def test_image_nodes_passed_as_nodes(self, colour_files: dict[str, Path]) -> None:
        model = _model()
        nodes = [ImageNode(image_path=str(p), metadata={"colour": n}) for n, p in colour_files.items()]
        index = MultiModalVectorStoreIndex(
            nodes=[*nodes, TextNode(text=TEXTS[0])], embed_model=model, image_embed_model=model
        )
        hits = index.as_retriever(image_similarity_top_k=1).text_to_image_retrieve("a green picture")
        assert hits[0].node.metadata["colour"] == "green"

    async def test_async_index_and_retrieval(self, colour_files: dict[str, Path]) -> None:
        model = _model(num_workers=2)
        index = MultiModalVectorStoreIndex.from_documents(
            _documents(colour_files), embed_model=model, image_embed_model=model, use_async=True
        )
        retriever = index.as_retriever(similarity_top_k=1, image_similarity_top_k=1)
        hits = await retriever.atext_to_image_retrieve("a yellow picture")
        assert hits[0].node.metadata["colour"] == "yellow"
        both = await retriever.aretrieve("a red picture")
        assert {h.node.metadata.get("colour") for h in both if isinstance(h.node, ImageNode)} == {"red"}


# == wire level (live emulator) =========================================================================


def _wired(url: str, **kwargs: Any) -> StackitChutesEmbedding:
    kwargs.setdefault("max_retries", 0)
    return _model(api_base=url, **kwargs)


class TestRequests:
    def test_image_body(self, emulator: ProviderEmulator, stackit_url: str) -> None:
        _wired(stackit_url).get_image_embedding(png("red"))
        body = body_of(emulator.requests[0])
        assert body["model"] == QWEN_VL_ID and body["dimensions"] == DIMS
        assert body["messages"][0] == {"role": "system", "content": [{"type": "text", "text": DOCUMENT_INSTRUCTION}]}
        assert user_parts(body) == [
            {"type": "image_url", "image_url": {"url": data_uri("red")}},
            {"type": "text", "text": ""},
        ]
        assert body["messages"][2] == {"role": "assistant", "content": [{"type": "text", "text": ""}]}
        assert body["continue_final_message"] is True and body["add_special_tokens"] is True
        assert body["encoding_format"] == "base64" and "normalize" not in body and "input" not in body

    @pytest.mark.parametrize(
        ("query_instruction", "system"),
        [(None, QUERY_INSTRUCTION), ("Find the matching photo.", "Find the matching photo."), ("", None)],
    )
    def test_query_instruction_puts_queries_in_the_image_space(
        self, emulator: ProviderEmulator, stackit_url: str, query_instruction: str | None, system: str | None
    ) -> None:
        model = _wired(stackit_url, query_instruction=query_instruction)
        model.get_query_embedding("a red picture")
        asyncio.run(model.aget_query_embedding("a red picture"))
        model.get_text_embedding("a document")
        query, aquery, document = (body_of(r) for r in emulator.requests)
        assert query == aquery
        assert "input" not in query  # messages form, like the images
        assert user_parts(query) == [{"type": "text", "text": "a red picture"}]
        if system is None:
            assert [m["role"] for m in query["messages"]] == ["user", "assistant"]
        else:
            assert query["messages"][0]["content"][0]["text"] == system
        # Documents are batched through `input` like any text model (one request per batch).
        assert document["input"] == ["a document"] and "messages" not in document

    def test_http_url_passed_as_url(self, emulator: ProviderEmulator, stackit_url: str) -> None:
        _wired(stackit_url).get_image_embedding("https://images.example.org/cat.png")
        assert user_parts(body_of(emulator.requests[0]))[0]["image_url"]["url"] == "https://images.example.org/cat.png"

    def test_bytesio_is_rewound(self, stackit_url: str) -> None:
        # LlamaIndex hands ImageNode images over as BytesIO; reading must not leave them consumed.
        stream = io.BytesIO(png("red"))
        model = _wired(stackit_url)
        first = model.get_image_embedding(stream)
        assert stream.tell() == 0
        assert model.get_image_embedding(stream) == first

    def test_pil_image(self, emulator: ProviderEmulator, stackit_url: str) -> None:
        image_module = pytest.importorskip("PIL.Image")
        model = _wired(stackit_url)
        from_pil = model.get_image_embedding(image_module.new("RGB", (8, 8), COLOURS["red"]))
        assert from_pil == model.get_image_embedding(png("red"))


class TestChecksBeforeAnyRequest:
    @pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
    def test_unsupported_image_in_a_batch(
        self, emulator: ProviderEmulator, stackit_url: str, tmp_path: Path, asynchronous: bool
    ) -> None:
        notes = tmp_path / "notes.txt"
        notes.write_text("hello")
        images: list[Any] = [png("red"), png("blue"), str(notes)]
        model = _wired(stackit_url)
        with pytest.raises(InvalidInputError, match="not a supported image format"):
            if asynchronous:
                asyncio.run(model.aget_image_embedding_batch(images))
            else:
                model.get_image_embedding_batch(images)
        assert emulator.requests == []

    def test_oversize_image(self, emulator: ProviderEmulator, stackit_url: str) -> None:
        model = _wired(stackit_url, max_image_bytes=60)
        with pytest.raises(InvalidInputError, match="limit is 60 bytes"):
            model.get_image_embedding_batch([png("red"), png("red", size=64)])
        assert emulator.requests == []

    def test_missing_file(self, emulator: ProviderEmulator, stackit_url: str, tmp_path: Path) -> None:
        with pytest.raises(InvalidInputError, match="cannot be read"):
            _wired(stackit_url).get_image_embedding(str(tmp_path / "gone.png"))
        assert emulator.requests == []

    def test_text_only_model_names_the_image_models(self, emulator: ProviderEmulator, stackit_url: str) -> None:
        model = StackitChutesEmbedding(model_name=E5, api_base=stackit_url)
        with pytest.raises(CapabilityError) as caught:
            model.get_image_embedding(png("red"))
        assert QWEN_VL in str(caught.value)
        with pytest.raises(CapabilityError, match=QWEN_VL):
            asyncio.run(model.aget_image_embedding_batch([png("red")]))
        assert emulator.requests == []

    def test_unknown_model_is_sent(self, emulator: ProviderEmulator, stackit_url: str) -> None:
        # the catalog knows nothing about the model, so it does not block: the provider decides
        unknown = StackitChutesEmbedding(model_name=UNKNOWN, api_base=stackit_url, max_retries=0)
        with pytest.raises(NotFoundError):  # sent; this emulator does not serve the model
            unknown.get_image_embedding(png("red"))
        assert len(emulator.requests) == 1


class TestPartialFailure:
    @pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
    def test_server_error_on_one_image(self, emulator: ProviderEmulator, stackit_url: str, asynchronous: bool) -> None:
        # The emulator fails the first request carrying this header (HTTP 500); one worker makes
        # "first" deterministic: image 0.
        model = _wired(stackit_url, num_workers=1, default_headers={"X-Emulator-Scenario": "server_error:1"})
        images = [png(c) for c in COLOURS]
        with pytest.raises(EmbeddingItemsError) as caught:
            if asynchronous:
                asyncio.run(model.aget_image_embedding_batch(images))
            else:
                model.get_image_embedding_batch(images)
        error = caught.value
        assert list(error.failures) == [0]
        assert isinstance(error.failures[0], InternalServerError)
        kept = _wired(stackit_url).get_image_embedding_batch(images[1:])
        assert error.partial == [None, *kept]

    @pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
    def test_index_is_global_across_batches(self, asynchronous: bool) -> None:
        # embed_batch_size=2: the yellow image (index 3) is in the second batch; its index is
        # reported in the caller's list, and all other vectors are kept.
        yellow = data_uri("yellow")

        def answer(request: httpx2.Request) -> httpx2.Response:
            url = user_parts(body_of(request))[0]["image_url"]["url"]
            if url == yellow:
                return json_response({"error": {"message": "bad image", "type": "BadRequestError"}}, 400)
            value = float(list(COLOURS).index(next(c for c in COLOURS if data_uri(c) == url)))
            data = [{"index": 0, "object": "embedding", "embedding": [value, 1.0]}]
            return json_response({"object": "list", "data": data})

        model = _model(
            api_key="k",
            dimensions=None,  # the mock answers 2-d vectors; a requested size would be checked
            embed_batch_size=2,
            num_workers=2,
            max_retries=0,
            **mock_clients(answer, llama_index=True),
        )
        images = [png(c) for c in ("red", "green", "blue", "yellow", "red")]
        with pytest.raises(EmbeddingItemsError) as caught:
            if asynchronous:
                asyncio.run(model.aget_image_embedding_batch(images))
            else:
                model.get_image_embedding_batch(images)
        assert list(caught.value.failures) == [3]
        assert caught.value.partial == [[0.0, 1.0], [1.0, 1.0], [2.0, 1.0], None, [0.0, 1.0]]


class _Peak(InFlight):
    """Async MockTransport handler counting requests in flight."""

    async def __call__(self, request: httpx2.Request) -> httpx2.Response:
        body = body_of(request)
        with self:
            await asyncio.sleep(0.005)
        count = len(body["input"]) if "input" in body else 1
        data = [{"index": i, "object": "embedding", "embedding": [1.0, float(i)]} for i in range(count)]
        return json_response({"object": "list", "data": data})

    def model(self, name: str = QWEN_VL, **kwargs: Any) -> StackitChutesEmbedding:
        return StackitChutesEmbedding(
            model_name=name, api_key="k", max_retries=0, **mock_clients(self, llama_index=True), **kwargs
        )


class TestOneConcurrencyLimit:
    def test_async_image_batches_share_one_limit(self) -> None:
        # The base class would gather all 6 batches at once (up to 12 requests in flight).
        server = _Peak()
        model = server.model(embed_batch_size=2, num_workers=3)
        vectors = asyncio.run(model.aget_image_embedding_batch([png("red")] * 12))
        assert len(vectors) == 12 and server.total == 12
        assert server.peak == 3

    def test_async_text_batches_of_a_chat_template_model_share_one_limit(self) -> None:
        # 16 documents in batches of 4 (through `input`): 4 requests, never more than 3 in flight.
        server = _Peak()
        model = server.model(embed_batch_size=4, num_workers=3)
        vectors = asyncio.run(model.aget_text_embedding_batch([f"text {i}" for i in range(16)]))
        assert len(vectors) == 16 and server.total == 4
        assert server.peak == 3

    def test_async_text_batches_without_num_workers_are_bounded(self) -> None:
        # num_workers=None: the base class gathers every batch at once; the adapter still allows one.
        server = _Peak()
        model = server.model(E5, embed_batch_size=2, num_workers=None)
        vectors = asyncio.run(model.aget_text_embedding_batch([f"text {i}" for i in range(10)]))
        assert len(vectors) == 10 and server.total == 5
        assert server.peak == 1

    def test_limiter_does_not_leak_between_calls(self) -> None:
        server = _Peak()
        model = server.model(embed_batch_size=2, num_workers=2)

        async def main() -> None:
            await model.aget_text_embedding_batch(["a", "b", "c"])
            await asyncio.gather(*(model.aget_image_embedding(png("red")) for _ in range(4)))

        asyncio.run(main())
        assert server.peak == 4  # single-image calls are independent of the finished batch call


class TestCallbacksAndProgress:
    @pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
    def test_one_event_per_embed_batch_size(self, stackit_url: str, asynchronous: bool) -> None:
        events = CallbackEvents()
        model = _wired(stackit_url, embed_batch_size=2, callback_manager=CallbackManager([events]))
        images = [png(c) for c in ("red", "green", "blue", "yellow", "red")]
        if asynchronous:
            vectors = asyncio.run(model.aget_image_embedding_batch(images))
        else:
            vectors = model.get_image_embedding_batch(images)
        ends = events.payloads(CBEventType.EMBEDDING)
        assert [len(e[EventPayload.CHUNKS]) for e in ends] == [2, 2, 1]
        assert [v for e in ends for v in e[EventPayload.EMBEDDINGS]] == vectors

    def test_failed_batch_ends_its_events_with_the_exception(self, stackit_url: str) -> None:
        events = CallbackEvents()
        model = _wired(
            stackit_url,
            embed_batch_size=2,
            num_workers=1,
            default_headers={"X-Emulator-Scenario": "server_error:1"},
            callback_manager=CallbackManager([events]),
        )
        with pytest.raises(EmbeddingItemsError):
            model.get_image_embedding_batch([png("red"), png("green"), png("blue")])
        ends = events.payloads(CBEventType.EMBEDDING)
        assert len(ends) == 2
        assert all(isinstance(e[EventPayload.EXCEPTION], EmbeddingItemsError) for e in ends)

    def test_progress_bar(self, stackit_url: str, capsys: pytest.CaptureFixture[str]) -> None:
        _wired(stackit_url).get_image_embedding_batch([png("red")] * 3, show_progress=True)
        assert "Generating image embeddings" in capsys.readouterr().err
        asyncio.run(_wired(stackit_url, show_progress=True).aget_image_embedding_batch([png("red")] * 2))
        assert "2/2" in capsys.readouterr().err
