"""LangChain: ``StackitChutesEmbeddings.embed_image`` / ``embed_multimodal`` and async twins (issue #6).

* Cassette-backed (``cassettes/multimodal/test_langchain/``): every image source and content-block
  form, sync and async, and a text query that ranks the matching image first.
* Wire-level against a live in-process emulator: bodies, instructions, typed errors for bad blocks
  before any request, the capability gate, partial failures, order and the concurrency limit.
"""

from __future__ import annotations

import asyncio
import base64
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest
from langchain_core.exceptions import ModelInvalidRequestError

import stackit_chutes_core as core
from langchain_stackit_chutes import StackitChutesEmbeddings
from tests._http import InFlight, json_response, mock_clients
from tests.emulator import ProviderEmulator
from tests.multimodal._shared import (
    BAD_IMAGE_URL,
    CHUTES_TEXT,
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


def _emb(**kwargs: Any) -> StackitChutesEmbeddings:
    kwargs.setdefault("dimensions", DIMS)
    return StackitChutesEmbeddings(model=QWEN_VL, **kwargs)


def _b64(colour: str) -> str:
    return base64.b64encode(png(colour)).decode()


# == cassette-backed ===================================================================================


@pytest.mark.vcr
class TestEmbedImage:
    def test_paths_and_data_uris_agree(self, colour_files: dict[str, Path]) -> None:
        emb = _emb()
        vectors = emb.embed_image(uris=[str(colour_files["red"]), data_uri("red"), str(colour_files["blue"])])
        assert len(vectors) == 3 and all(len(v) == DIMS for v in vectors)
        assert vectors[0] == vectors[1] != vectors[2]

    def test_http_url(self) -> None:
        [vector] = _emb().embed_image(uris=["https://images.example.org/cat.png"])
        assert len(vector) == DIMS

    async def test_async_twin(self, colour_files: dict[str, Path]) -> None:
        emb = _emb()
        uris = [str(colour_files[c]) for c in COLOURS]
        assert await emb.aembed_image(uris=uris) == emb.embed_image(uris=uris)

    def test_text_query_ranks_its_image_first(self, colour_files: dict[str, Path]) -> None:
        emb = _emb()
        names = list(COLOURS)
        images = dict(zip(names, emb.embed_image(uris=[str(colour_files[n]) for n in names]), strict=True))
        documents = ["Bananas are yellow fruit.", "Mars is red."]
        texts = dict(zip(documents, emb.embed_documents(documents), strict=True))
        for colour in COLOURS:
            query = emb.embed_query(f"a {colour} picture")
            assert ranking(query, images)[0] == colour
            assert ranking(query, {**images, **texts})[0] == colour  # text and images share one space

    async def test_async_query_matches_sync(self) -> None:
        emb = _emb()
        assert await emb.aembed_query("a red picture") == emb.embed_query("a red picture")


@pytest.mark.vcr
class TestEmbedMultimodal:
    def test_every_block_form(self) -> None:
        emb = _emb()
        [red_image] = emb.embed_image(uris=[data_uri("red")])
        vectors = emb.embed_multimodal(
            [
                "a red picture",  # plain text
                {"type": "text", "text": "a red picture"},  # text block
                {"type": "image", "base64": _b64("red"), "mime_type": "image/png"},  # LangChain v1 base64
                {"type": "image", "url": data_uri("red")},  # LangChain v1 url (a data URI)
                {"type": "image_url", "image_url": {"url": data_uri("red")}},  # OpenAI
                {"type": "image", "source_type": "base64", "data": _b64("red"), "mime_type": "image/png"},  # v0
                [{"type": "image", "base64": _b64("green")}, {"type": "text", "text": "a green field"}],  # one item
                [{"type": "image_url", "image_url": {"url": data_uri("blue")}}, "a blue sky"],
            ]
        )
        assert len(vectors) == 8 and all(len(v) == DIMS for v in vectors)
        assert vectors[0] == vectors[1]  # a string is a text block
        assert vectors[2] == vectors[3] == vectors[4] == vectors[5] == red_image  # every image form, one vector
        assert vectors[6] != emb.embed_image(uris=[data_uri("green")])[0]  # the caption counts

    async def test_async_twin(self) -> None:
        emb = _emb()
        items: list[Any] = ["a red picture", {"type": "image", "url": data_uri("yellow")}, ["a", "caption"]]
        assert await emb.aembed_multimodal(items) == emb.embed_multimodal(items)

    def test_query_role_ranks_images(self) -> None:
        emb = _emb()
        images = dict(
            zip(COLOURS, emb.embed_multimodal([{"type": "image", "base64": _b64(c)} for c in COLOURS]), strict=True)
        )
        [query] = emb.embed_multimodal(["a blue picture"], role="query")
        assert query == emb.embed_query("a blue picture")
        assert ranking(query, images)[0] == "blue"


# == wire level (live emulator) =========================================================================


def _wired(url: str, model: str = QWEN_VL, **kwargs: Any) -> StackitChutesEmbeddings:
    kwargs.setdefault("max_retries", 0)
    if model == QWEN_VL:
        kwargs.setdefault("dimensions", DIMS)
    return StackitChutesEmbeddings(model=model, base_url=url, **kwargs)


class TestRequests:
    def test_embed_image_body(
        self, emulator: ProviderEmulator, stackit_url: str, colour_files: dict[str, Path]
    ) -> None:
        _wired(stackit_url).embed_image(uris=[str(colour_files["red"])])
        [request] = emulator.requests
        body = body_of(request)
        assert request.path == "/v1/embeddings"
        assert set(body) == {
            "model",
            "messages",
            "encoding_format",
            "continue_final_message",
            "add_special_tokens",
            "dimensions",
        }
        assert body["model"] == QWEN_VL_ID and body["dimensions"] == DIMS and body["encoding_format"] == "base64"
        assert body["continue_final_message"] is True and body["add_special_tokens"] is True
        assert body["messages"] == [
            {"role": "system", "content": [{"type": "text", "text": DOCUMENT_INSTRUCTION}]},
            {
                "role": "user",
                "content": [{"type": "image_url", "image_url": {"url": data_uri("red")}}, {"type": "text", "text": ""}],
            },
            {"role": "assistant", "content": [{"type": "text", "text": ""}]},
        ]

    def test_image_and_caption_are_one_item(self, emulator: ProviderEmulator, stackit_url: str) -> None:
        vectors = _wired(stackit_url).embed_multimodal(
            [[{"type": "text", "text": "caption"}, {"type": "image", "url": data_uri("red")}]]
        )
        assert len(vectors) == 1
        assert user_parts(body_of(emulator.requests[0])) == [
            {"type": "image_url", "image_url": {"url": data_uri("red")}},
            {"type": "text", "text": "caption"},
        ]

    def test_http_url_block_passes_as_url(self, emulator: ProviderEmulator, stackit_url: str) -> None:
        _wired(stackit_url).embed_multimodal([{"type": "image", "url": "https://images.example.org/a.png"}])
        assert user_parts(body_of(emulator.requests[0]))[0]["image_url"]["url"] == "https://images.example.org/a.png"

    def test_mislabelled_base64_gets_the_real_mime_type(self, emulator: ProviderEmulator, stackit_url: str) -> None:
        _wired(stackit_url).embed_multimodal([{"type": "image", "base64": _b64("red"), "mime_type": "image/jpeg"}])
        assert user_parts(body_of(emulator.requests[0]))[0]["image_url"]["url"] == data_uri("red")

    @pytest.mark.parametrize(
        ("kwargs", "role", "system"),
        [
            ({}, "document", DOCUMENT_INSTRUCTION),
            ({}, "query", QUERY_INSTRUCTION),
            ({"query_instruction": "Find the photo."}, "query", "Find the photo."),
            ({"document_instruction": "Represent the photo."}, "document", "Represent the photo."),
            ({"query_instruction": False}, "query", None),
            ({"document_instruction": False}, "document", None),
        ],
    )
    def test_instructions(
        self,
        emulator: ProviderEmulator,
        stackit_url: str,
        kwargs: dict[str, Any],
        role: str,
        system: str | None,
    ) -> None:
        items: list[Any] = [["a caption", {"type": "image", "url": data_uri("red")}]]
        _wired(stackit_url, **kwargs).embed_multimodal(items, role=role)  # type: ignore[arg-type]
        messages = body_of(emulator.requests[0])["messages"]
        if system is None:
            assert [m["role"] for m in messages] == ["user", "assistant"]
        else:
            assert messages[0] == {"role": "system", "content": [{"type": "text", "text": system}]}

    def test_embed_image_uses_the_document_instruction(self, emulator: ProviderEmulator, stackit_url: str) -> None:
        _wired(stackit_url, document_instruction="Represent the photo.").embed_image(uris=[data_uri("red")])
        assert body_of(emulator.requests[0])["messages"][0]["content"][0]["text"] == "Represent the photo."


class TestErrorsBeforeAnyRequest:
    @pytest.mark.parametrize(
        ("item", "match"),
        [
            ({"type": "audio", "base64": "AAAA"}, "Unsupported multimodal embedding part 'audio'"),
            ({"type": "image"}, "carries no URL or data"),
            ({"type": "image", "file_id": "file-123"}, "file_id"),
            ({"type": "image_url", "image_url": {}}, "carries no URL or data"),
            ({"type": "image", "base64": base64.b64encode(b"%PDF-1.7").decode()}, "no supported image"),
            ({"type": "image", "base64": "!!not base64!!"}, "not valid base64"),
            (
                [{"type": "image", "url": data_uri("red")}, {"type": "image", "url": data_uri("blue")}],
                "at most one image",
            ),
            ([], "empty"),
            (42, "Unsupported multimodal embedding item of type int"),
            (b"\x89PNG", "Unsupported multimodal embedding item of type bytes"),
            ([None], "Unsupported multimodal embedding part of type NoneType"),
        ],
    )
    def test_bad_blocks_raise_a_typed_error(
        self, emulator: ProviderEmulator, stackit_url: str, item: Any, match: str
    ) -> None:
        emb = _wired(stackit_url)
        with pytest.raises(core.InvalidInputError, match=match) as caught:
            emb.embed_multimodal(["fine", item])
        assert isinstance(caught.value, core.ConfigurationError)  # raised before any request
        with pytest.raises(core.InvalidInputError, match=match):
            asyncio.run(emb.aembed_multimodal(["fine", item]))
        assert emulator.requests == []

    def test_embed_image_checks_every_image_first(
        self, emulator: ProviderEmulator, stackit_url: str, tmp_path: Path, colour_files: dict[str, Path]
    ) -> None:
        notes = tmp_path / "notes.png"
        notes.write_text("not a png")
        emb = _wired(stackit_url)
        with pytest.raises(core.InvalidInputError, match="not a supported image format"):
            emb.embed_image(uris=[str(colour_files["red"]), str(notes)])
        with pytest.raises(core.InvalidInputError, match="cannot be read"):
            asyncio.run(emb.aembed_image(uris=[str(colour_files["red"]), str(tmp_path / "gone.png")]))
        with pytest.raises(core.InvalidInputError, match="list of paths"):
            emb.embed_image(uris=str(colour_files["red"]))  # type: ignore[arg-type]
        assert emulator.requests == []

    def test_max_image_bytes(self, emulator: ProviderEmulator, stackit_url: str, colour_files: dict[str, Path]) -> None:
        emb = _wired(stackit_url, max_image_bytes=60)
        with pytest.raises(core.InvalidInputError, match="limit is 60 bytes"):
            emb.embed_image(uris=[data_uri("red", size=64)])
        with pytest.raises(core.InvalidInputError, match="limit is 60 bytes"):
            emb.embed_multimodal([{"type": "image", "base64": base64.b64encode(png("red", 64)).decode()}])
        assert emulator.requests == []

    @pytest.mark.parametrize("model", [E5, CHUTES_TEXT])
    def test_text_only_models_name_the_image_models(
        self, emulator: ProviderEmulator, stackit_url: str, model: str
    ) -> None:
        emb = StackitChutesEmbeddings(model=model, base_url=stackit_url)
        with pytest.raises(core.CapabilityError, match=QWEN_VL):
            emb.embed_image(uris=[data_uri("red")])
        with pytest.raises(core.CapabilityError, match=QWEN_VL):
            asyncio.run(emb.aembed_multimodal(["text", {"type": "image", "url": data_uri("red")}]))
        assert emulator.requests == []

    def test_unknown_model_is_sent(self, emulator: ProviderEmulator, stackit_url: str) -> None:
        # the catalog knows nothing about the model, so it does not block: the provider decides
        unknown = StackitChutesEmbeddings(model=UNKNOWN, base_url=stackit_url, max_retries=0)
        with pytest.raises(core.NotFoundError):  # sent; this emulator does not serve the model
            unknown.embed_image(uris=[data_uri("red")])
        assert len(emulator.requests) == 1


class TestPartialFailure:
    @pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
    def test_rejected_image_reported_with_its_index(
        self, emulator: ProviderEmulator, stackit_url: str, asynchronous: bool
    ) -> None:
        emb = _wired(stackit_url, max_concurrency=4)
        items: list[Any] = [
            {"type": "image", "url": data_uri("red")},
            "a blue picture",
            {"type": "image", "url": BAD_IMAGE_URL},  # the server rejects it (not http(s)/data)
            [{"type": "image", "url": data_uri("green")}, "caption"],
        ]
        with pytest.raises(core.EmbeddingItemsError) as caught:
            if asynchronous:
                asyncio.run(emb.aembed_multimodal(items))
            else:
                emb.embed_multimodal(items)
        error = caught.value
        assert list(error.failures) == [2]
        cause = error.failures[2]
        assert isinstance(cause, core.BadRequestError) and isinstance(cause, ModelInvalidRequestError)
        assert "Invalid image URL" in str(cause) and cause.status_code == 400
        assert len(emulator.requests) == 4
        kept = emb.embed_multimodal([items[0], items[1], items[3]])
        assert error.partial == [kept[0], kept[1], None, kept[2]]


class _Slow(InFlight):
    """MockTransport handlers: later images answer first; tracks the peak of requests in flight."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def _index(self, request: httpx2.Request) -> int:
        return int(user_parts(body_of(request))[-1]["text"])

    def _reply(self, i: int) -> httpx2.Response:
        data = [{"index": 0, "object": "embedding", "embedding": [float(i), 0.5]}]
        return json_response({"object": "list", "data": data})

    def sync(self, request: httpx2.Request) -> httpx2.Response:
        with self:
            time.sleep((self.n - self._index(request)) * 0.003)
        return self._reply(self._index(request))

    async def asynchronous(self, request: httpx2.Request) -> httpx2.Response:
        with self:
            await asyncio.sleep((self.n - self._index(request)) * 0.003)
        return self._reply(self._index(request))

    def emb(self, **kwargs: Any) -> StackitChutesEmbeddings:
        return StackitChutesEmbeddings(
            model=QWEN_VL, api_key="k", max_retries=0, **mock_clients(self.sync, self.asynchronous), **kwargs
        )


class TestConcurrency:
    @pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
    def test_input_order_and_limit(self, asynchronous: bool) -> None:
        server = _Slow(12)
        emb = server.emb(max_concurrency=3)
        items: list[Any] = [[{"type": "image", "base64": _b64("red")}, str(i)] for i in range(12)]
        vectors = asyncio.run(emb.aembed_multimodal(items)) if asynchronous else emb.embed_multimodal(items)
        assert [v[0] for v in vectors] == [float(i) for i in range(12)]
        assert server.peak == 3

    def test_progress_bar_counts_items(self, capsys: pytest.CaptureFixture[str]) -> None:
        pytest.importorskip("tqdm")
        server = _Slow(5)
        emb = server.emb(max_concurrency=2, show_progress_bar=True)
        emb.embed_multimodal([str(i) for i in range(5)])
        assert "5/5" in capsys.readouterr().err


def test_colour_names_are_what_the_emulator_sees() -> None:
    # Guard for the ranking tests: each generated PNG is named by its dominant colour.
    from tests.emulator.images import inspect_image_url

    assert {c: inspect_image_url(data_uri(c)).colour for c in COLOURS} == {c: c for c in COLOURS}
