"""The core's multimodal embeddings on the wire (issue #6, "Core"), against a live in-process emulator.

Every body is checked field by field against providers.md section 1.8 (the vLLM ``EmbeddingChatRequest``
that Qwen3-VL-Embedding needs): system instruction, user parts (image first, then text), an empty
assistant turn, ``continue_final_message``, ``add_special_tokens``, ``encoding_format``, optional
``dimensions``, and never ``normalize`` (newest vLLM rejects it; so does the emulator).
"""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest

from stackit_chutes_core import (
    BadRequestError,
    CapabilityError,
    EmbeddingItem,
    EmbeddingItemsError,
    InvalidInputError,
    NotFoundError,
    ProviderCapabilityError,
    aembed_items,
    aembed_texts,
    embed_items,
    embed_texts,
    resolve_endpoint,
    to_image_url,
)
from stackit_chutes_core.routing import Endpoint
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

EXPECTED_KEYS = {"model", "messages", "encoding_format", "continue_final_message", "add_special_tokens"}
EMPTY_ASSISTANT = {"role": "assistant", "content": [{"type": "text", "text": ""}]}


def _ep(url: str, model: str = QWEN_VL, **kwargs: Any) -> Endpoint:
    return resolve_endpoint(model, base_url=url, purpose="embeddings", max_retries=0, **kwargs)


def _system(text: str) -> dict[str, Any]:
    return {"role": "system", "content": [{"type": "text", "text": text}]}


# -- request bodies (providers.md 1.8) ------------------------------------------------------------


def test_image_item_body_field_by_field(emulator: ProviderEmulator, stackit_url: str) -> None:
    image = data_uri("red")
    result = embed_items(_ep(stackit_url), [EmbeddingItem(image_url=image)], dimensions=DIMS)
    assert len(result.vectors) == 1 and len(result.vectors[0]) == DIMS
    [request] = emulator.requests
    assert (request.provider, request.method, request.path) == ("stackit", "POST", "/v1/embeddings")
    body = body_of(request)
    assert set(body) == EXPECTED_KEYS | {"dimensions"}
    assert body["model"] == QWEN_VL_ID
    assert body["encoding_format"] == "base64"
    assert body["continue_final_message"] is True
    assert body["add_special_tokens"] is True
    assert body["dimensions"] == DIMS
    assert body["messages"] == [
        _system(DOCUMENT_INSTRUCTION),
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": image}}, {"type": "text", "text": ""}]},
        EMPTY_ASSISTANT,
    ]
    assert result.usage is not None and result.usage.input_tokens > 0


def test_text_item_body(emulator: ProviderEmulator, stackit_url: str) -> None:
    embed_items(_ep(stackit_url), [EmbeddingItem(text="a red picture")])
    body = body_of(emulator.requests[0])
    assert set(body) == EXPECTED_KEYS  # no dimensions key unless asked
    assert body["messages"] == [
        _system(DOCUMENT_INSTRUCTION),
        {"role": "user", "content": [{"type": "text", "text": "a red picture"}]},
        EMPTY_ASSISTANT,
    ]


def test_image_and_text_item_body_image_first(emulator: ProviderEmulator, stackit_url: str) -> None:
    image = data_uri("blue")
    vectors = embed_items(_ep(stackit_url), [EmbeddingItem(text="a caption", image_url=image)], dimensions=64).vectors
    assert len(vectors) == 1 and len(vectors[0]) == 64
    body = body_of(emulator.requests[0])
    assert user_parts(body) == [
        {"type": "image_url", "image_url": {"url": image}},
        {"type": "text", "text": "a caption"},
    ]
    assert body["messages"][0] == _system(DOCUMENT_INSTRUCTION)
    assert body["messages"][-1] == EMPTY_ASSISTANT


def test_native_size_without_dimensions(emulator: ProviderEmulator, stackit_url: str) -> None:
    [vector] = embed_items(_ep(stackit_url), [EmbeddingItem(image_url=data_uri("green"))]).vectors
    assert len(vector) == 4096
    assert "dimensions" not in body_of(emulator.requests[0])


@pytest.mark.parametrize(
    ("kwargs", "system"),
    [
        ({}, DOCUMENT_INSTRUCTION),
        ({"role": "document"}, DOCUMENT_INSTRUCTION),
        ({"role": "query"}, QUERY_INSTRUCTION),
        (
            {"role": "query", "instruction": "Find the photo that matches the colour."},
            "Find the photo that matches the colour.",
        ),
        ({"role": "document", "instruction": "Represent the photo."}, "Represent the photo."),
        ({"role": "query", "instruction": False}, None),
        ({"instruction": False}, None),
    ],
)
def test_document_and_query_instructions(
    emulator: ProviderEmulator, stackit_url: str, kwargs: dict[str, Any], system: str | None
) -> None:
    embed_items(_ep(stackit_url), [EmbeddingItem(text="a red picture", image_url=data_uri("red"))], **kwargs)
    messages = body_of(emulator.requests[0])["messages"]
    if system is None:
        assert [m["role"] for m in messages] == ["user", "assistant"]
    else:
        assert messages[0] == _system(system)
        assert [m["role"] for m in messages] == ["system", "user", "assistant"]


def test_never_normalize_in_any_body(emulator: ProviderEmulator, stackit_url: str) -> None:
    endpoint = _ep(stackit_url)
    items = [EmbeddingItem(image_url=data_uri("red")), EmbeddingItem(text="x"), EmbeddingItem("y", data_uri("blue"))]
    embed_items(endpoint, items, dimensions=DIMS)
    asyncio.run(aembed_items(endpoint, items, role="query"))
    embed_texts(endpoint, ["a", "b"], role="query", dimensions=DIMS)
    asyncio.run(aembed_texts(endpoint, ["c"]))
    bodies = [body_of(r) for r in emulator.requests]
    # One messages request per item and per query text; the document texts go as one `input` batch.
    messages_bodies = [b for b in bodies if "messages" in b]
    input_bodies = [b for b in bodies if "input" in b]
    assert len(messages_bodies) == 8 and input_bodies == [
        {"model": QWEN_VL_ID, "input": ["c"], "encoding_format": "base64"}
    ]
    for body in bodies:
        assert "normalize" not in body
        assert "add_generation_prompt" not in body
    for body in messages_bodies:
        assert "input" not in body
        assert body["continue_final_message"] is True and body["add_special_tokens"] is True


def test_qwen_vl_texts_share_the_image_space(emulator: ProviderEmulator, stackit_url: str) -> None:
    # Texts to Qwen3-VL-Embedding go through the same messages form as images, so a text query
    # ("a red picture", with the query instruction) lands next to the red image.
    endpoint = _ep(stackit_url)
    images = embed_items(endpoint, [EmbeddingItem(image_url=data_uri(c)) for c in ("red", "green", "blue", "yellow")])
    [query] = embed_texts(endpoint, ["a red picture"], role="query").vectors
    assert body_of(emulator.requests[-1])["messages"][0] == _system(QUERY_INSTRUCTION)
    order = ranking(query, dict(zip(("red", "green", "blue", "yellow"), images.vectors, strict=True)))
    assert order[0] == "red"


# -- image sources ----------------------------------------------------------------------------------


def test_every_image_source_reaches_the_server(
    emulator: ProviderEmulator, stackit_url: str, colour_files: dict[str, Path]
) -> None:
    red = png("red")
    sources: list[Any] = [
        str(colour_files["red"]),
        colour_files["red"],
        red,
        bytearray(red),
        io.BytesIO(red),
        data_uri("red"),
        "https://images.example.org/red.png",
    ]
    urls = [to_image_url(s) for s in sources]
    vectors = embed_items(_ep(stackit_url), [EmbeddingItem(image_url=u) for u in urls], dimensions=DIMS).vectors
    assert urls[:6] == [data_uri("red")] * 6  # MIME type from the bytes, one canonical data URI
    assert urls[6] == "https://images.example.org/red.png"  # passed on as a URL, never fetched by us
    assert all(v == vectors[0] for v in vectors[:6])
    assert vectors[6] != vectors[0]
    sent = sorted(user_parts(body_of(r))[0]["image_url"]["url"] for r in emulator.requests)
    assert sent == sorted(urls)


def test_real_pil_images() -> None:
    image_module = pytest.importorskip("PIL.Image")
    rgb = image_module.new("RGB", (4, 4), (220, 20, 30))
    url = to_image_url(rgb)
    assert url.startswith("data:image/png;base64,")
    decoded = image_module.open(io.BytesIO(__import__("base64").b64decode(url.split(",", 1)[1])))
    assert decoded.size == (4, 4) and decoded.getpixel((0, 0)) == (220, 20, 30)
    # Modes PNG cannot hold are converted instead of failing.
    assert to_image_url(image_module.new("CMYK", (4, 4))).startswith("data:image/png;base64,")
    assert to_image_url(image_module.new("F", (4, 4))).startswith("data:image/png;base64,")
    # An image decoded from a JPEG stays JPEG (PNG would be several times larger).
    buffer = io.BytesIO()
    rgb.save(buffer, format="JPEG")
    jpeg = image_module.open(io.BytesIO(buffer.getvalue()))
    assert to_image_url(jpeg).startswith("data:image/jpeg;base64,")
    # A transformed image (no source format) is sent as PNG.
    assert to_image_url(jpeg.resize((2, 2))).startswith("data:image/png;base64,")


def test_pil_stand_in_without_pillow() -> None:
    # What the core relies on (duck typing, no import of PIL): .mode and .save(fp, format=...).
    class StandIn:
        mode = "RGBA"
        format = None

        def __init__(self) -> None:
            self.formats: list[str] = []

        def save(self, fp: io.BytesIO, format: str) -> None:  # PIL's signature
            self.formats.append(format)
            fp.write(png("yellow"))

    image = StandIn()
    assert to_image_url(image) == data_uri("yellow")
    assert image.formats == ["PNG"]

    class Broken(StandIn):
        def save(self, fp: io.BytesIO, format: str) -> None:
            raise OSError("cannot write mode RGBA as PNG")

    with pytest.raises(InvalidInputError, match="could not be encoded"):
        to_image_url(Broken())


def test_unsupported_and_oversize_images_fail_before_reading(tmp_path: Path) -> None:
    text_file = tmp_path / "notes.png"
    text_file.write_text("not an image")  # the name says PNG, the bytes do not
    with pytest.raises(InvalidInputError, match="not a supported image format"):
        to_image_url(text_file)
    huge = tmp_path / "huge.png"
    with huge.open("wb") as handle:  # sparse: 21 MiB on paper, nothing read
        handle.write(png("red"))
        handle.truncate(21 * 1024 * 1024)
    with pytest.raises(InvalidInputError, match=r"limit is 20,971,520 bytes"):
        to_image_url(huge)
    with pytest.raises(InvalidInputError, match="limit is 50 bytes"):
        to_image_url(png("red", size=64), max_bytes=50)


# -- capability gate ------------------------------------------------------------------------------


@pytest.mark.parametrize("model", [E5, CHUTES_TEXT])
def test_images_to_text_only_models_name_the_image_models(
    emulator: ProviderEmulator, stackit_url: str, model: str
) -> None:
    endpoint = resolve_endpoint(model, purpose="embeddings", base_url=stackit_url, max_retries=0)
    items = [EmbeddingItem(text="fine"), EmbeddingItem(image_url=data_uri("red"))]
    with pytest.raises(CapabilityError) as caught:
        embed_items(endpoint, items)
    message = str(caught.value)
    assert model in message and "text only" in message
    assert QWEN_VL in message
    with pytest.raises(CapabilityError, match=QWEN_VL):
        asyncio.run(aembed_items(endpoint, items))
    assert emulator.requests == []  # refused before any request


def test_unknown_model_is_sent_and_the_provider_decides(emulator: ProviderEmulator, stackit_url: str) -> None:
    # The catalog knows nothing about this model, so it does not block (this emulator does not serve it: 404).
    endpoint = _ep(stackit_url, UNKNOWN)
    item = EmbeddingItem(image_url=data_uri("red"))
    with pytest.raises(NotFoundError):
        embed_items(endpoint, [item])
    [request] = emulator.requests
    assert body_of(request)["model"] == "acme/omni-embed-1"
    assert user_parts(body_of(request))[0]["image_url"]["url"] == data_uri("red")
    # No instruction is invented for a model the catalog does not know.
    assert [m["role"] for m in body_of(request)["messages"]] == ["user", "assistant"]


def test_opt_out_sends_to_a_documented_text_only_model_and_the_provider_refuses(stackit_url: str) -> None:
    with pytest.raises(CapabilityError, match="allow_unverified_images"):
        embed_items(_ep(stackit_url, E5), [EmbeddingItem(image_url=data_uri("red"))])
    with pytest.raises(ProviderCapabilityError) as caught:
        embed_items(_ep(stackit_url, E5), [EmbeddingItem(image_url=data_uri("red"))], allow_unverified_images=True)
    assert caught.value.capability == "image_input" and caught.value.status_code == 400
    assert QWEN_VL in caught.value.alternatives


# -- partial failure --------------------------------------------------------------------------------


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_failed_item_reported_with_index_and_cause_others_kept(
    emulator: ProviderEmulator, stackit_url: str, asynchronous: bool
) -> None:
    endpoint = _ep(stackit_url)
    items = [
        EmbeddingItem(image_url=data_uri("red")),
        EmbeddingItem(image_url=BAD_IMAGE_URL),  # the server rejects this one
        EmbeddingItem(text="a blue picture"),
        EmbeddingItem(text="caption", image_url=data_uri("green")),
    ]
    with pytest.raises(EmbeddingItemsError) as caught:
        if asynchronous:
            asyncio.run(aembed_items(endpoint, items, dimensions=DIMS, max_concurrency=4))
        else:
            embed_items(endpoint, items, dimensions=DIMS, max_concurrency=4)
    error = caught.value
    assert list(error.failures) == [1]
    cause = error.failures[1]
    assert isinstance(cause, BadRequestError) and cause.status_code == 400
    assert "Invalid image URL" in str(cause)
    assert "1 of 4 embedding items failed" in str(error) and "item 1:" in str(error)
    assert error.provider == "stackit"
    assert len(emulator.requests) == 4  # every item was tried
    alone = embed_items(endpoint, [items[0], items[2], items[3]], dimensions=DIMS).vectors
    assert error.partial == [alone[0], None, alone[1], alone[2]]


def test_one_cause_for_every_item_is_raised_as_is(stackit_url: str) -> None:
    items = [EmbeddingItem(image_url=BAD_IMAGE_URL), EmbeddingItem(image_url="ftp://x.example/b.png")]
    with pytest.raises(BadRequestError):
        embed_items(_ep(stackit_url), items)


# -- concurrency: limit, input order, hooks -------------------------------------------------------------


class _SlowServer(InFlight):
    """MockTransport handler: later items answer first; tracks requests in flight."""

    def __init__(self, n: int, step: float = 0.004) -> None:
        super().__init__()
        self.n, self.step = n, step

    @staticmethod
    def index_of(request: httpx2.Request) -> int:
        return int(user_parts(body_of(request))[-1]["text"].split("-")[1])

    def _answer(self, request: httpx2.Request) -> httpx2.Response:
        i = self.index_of(request)
        data = [{"index": 0, "object": "embedding", "embedding": [float(i), 1.0]}]
        return json_response({"object": "list", "data": data, "usage": {"prompt_tokens": 1, "total_tokens": 1}})

    def sync(self, request: httpx2.Request) -> httpx2.Response:
        with self:
            time.sleep((self.n - self.index_of(request)) * self.step)
            return self._answer(request)

    async def asynchronous(self, request: httpx2.Request) -> httpx2.Response:
        with self:
            await asyncio.sleep((self.n - self.index_of(request)) * self.step)
            return self._answer(request)

    def endpoint(self) -> Endpoint:
        return resolve_endpoint(
            QWEN_VL, api_key="k", max_retries=0, purpose="embeddings", **mock_clients(self.sync, self.asynchronous)
        )


def _numbered(n: int) -> list[EmbeddingItem]:
    return [EmbeddingItem(text=f"item-{i}", image_url=data_uri("red") if i % 2 else None) for i in range(n)]


@pytest.mark.parametrize("limit", [1, 3, 5])
def test_sync_results_in_input_order_under_the_limit(limit: int) -> None:
    server = _SlowServer(12)
    done: list[int] = []
    result = embed_items(server.endpoint(), _numbered(12), max_concurrency=limit, on_item_done=done.append)
    assert [v[0] for v in result.vectors] == [float(i) for i in range(12)]
    assert server.peak == limit
    assert sorted(done) == list(range(12))
    if limit > 1:
        assert done != sorted(done)  # they really finished out of order
    assert result.usage is not None and result.usage.input_tokens == 12


@pytest.mark.parametrize("limit", [1, 3, 5])
def test_async_results_in_input_order_under_the_limit(limit: int) -> None:
    server = _SlowServer(12)
    done: list[int] = []
    result = asyncio.run(
        aembed_items(server.endpoint(), _numbered(12), max_concurrency=limit, on_item_done=done.append)
    )
    assert [v[0] for v in result.vectors] == [float(i) for i in range(12)]
    assert server.peak == limit
    assert sorted(done) == list(range(12))


def test_on_item_done_also_counts_failures(stackit_url: str) -> None:
    done: list[int] = []
    with pytest.raises(EmbeddingItemsError):
        embed_items(
            _ep(stackit_url),
            [EmbeddingItem(text="ok"), EmbeddingItem(image_url=BAD_IMAGE_URL)],
            on_item_done=done.append,
        )
    assert sorted(done) == [0, 1]


def test_shared_limiter_bounds_concurrent_calls() -> None:
    server = _SlowServer(8)
    endpoint = server.endpoint()

    async def main() -> list[list[list[float]]]:
        limiter = asyncio.Semaphore(2)
        calls = [aembed_items(endpoint, _numbered(8), max_concurrency=8, limiter=limiter) for _ in range(3)]
        return [r.vectors for r in await asyncio.gather(*calls)]

    results = asyncio.run(main())
    assert server.peak == 2  # one limit over the three calls, not 3 x 8
    assert all([v[0] for v in vectors] == [float(i) for i in range(8)] for vectors in results)
