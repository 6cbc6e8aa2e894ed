"""StackitChutesEmbedding against recorded answers: text, query, batches, async, images; both providers."""

from __future__ import annotations

import asyncio
import base64
from io import BytesIO
from pathlib import Path

import pytest
from llama_index.core.base.embeddings.base import similarity

from llama_index_stackit_chutes import StackitChutesEmbedding
from stackit_chutes_core import CapabilityError
from tests.llama_index._helpers import BLUE, EMBED_MODELS, GREEN, IMAGE_EMBED_MODEL, RED, make_png

pytestmark = pytest.mark.vcr

DOCS = [
    "Paris is the capital of France and famous for the Eiffel Tower.",
    "The Rhine is a long river that flows through Germany and the Netherlands.",
    "Photosynthesis lets plants turn sunlight into chemical energy.",
    "Berlin is the capital of Germany.",
    "Tokyo is the capital of Japan.",
]


class TestText:
    def test_text_embedding(self, embed_model: StackitChutesEmbedding) -> None:
        vector = embed_model.get_text_embedding(DOCS[0])
        assert len(vector) == 4096
        assert all(isinstance(x, float) for x in vector[:5])

    async def test_atext_embedding(self, embed_model: StackitChutesEmbedding) -> None:
        assert await embed_model.aget_text_embedding(DOCS[0]) == embed_model.get_text_embedding(DOCS[0])

    def test_query_embedding_ranks_relevant_document(self, embed_model: StackitChutesEmbedding) -> None:
        query = embed_model.get_query_embedding("Which river flows through Germany?")
        docs = embed_model.get_text_embedding_batch(DOCS)
        scores = [similarity(query, d) for d in docs]
        assert max(range(len(DOCS)), key=scores.__getitem__) == 1

    async def test_aquery_embedding(self, embed_model: StackitChutesEmbedding) -> None:
        query = await embed_model.aget_query_embedding("Which river flows through Germany?")
        assert query == embed_model.get_query_embedding("Which river flows through Germany?")

    def test_batch_keeps_order(self, provider: str) -> None:
        model = StackitChutesEmbedding(model_name=EMBED_MODELS[provider], embed_batch_size=2)
        batched = model.get_text_embedding_batch(DOCS)
        assert len(batched) == len(DOCS)
        assert batched == [model.get_text_embedding(d) for d in DOCS]

    async def test_async_batches_concurrently(self, provider: str) -> None:
        model = StackitChutesEmbedding(model_name=EMBED_MODELS[provider], embed_batch_size=2, num_workers=2)
        vectors = await model.aget_text_embedding_batch(DOCS, show_progress=False)
        assert vectors == StackitChutesEmbedding(model_name=EMBED_MODELS[provider]).get_text_embedding_batch(DOCS)

    def test_repeated_asyncio_run(self, embed_model: StackitChutesEmbedding) -> None:
        first = asyncio.run(embed_model.aget_text_embedding_batch(DOCS[:2]))
        second = asyncio.run(embed_model.aget_text_embedding_batch(DOCS[:2]))
        assert first == second

    def test_empty_batch(self, embed_model: StackitChutesEmbedding) -> None:
        assert embed_model.get_text_embedding_batch([]) == []


class TestDimensions:
    def test_dimensions(self) -> None:
        model = StackitChutesEmbedding(model_name=EMBED_MODELS["chutes"], dimensions=256)
        assert len(model.get_text_embedding("Berlin is the capital of Germany.")) == 256
        assert len(model.get_query_embedding("capital of Germany")) == 256

    def test_dimensions_refused_for_e5(self) -> None:
        model = StackitChutesEmbedding(model_name=EMBED_MODELS["stackit"], dimensions=256)
        with pytest.raises(CapabilityError, match="dimensions"):
            model.get_text_embedding("x")


class TestImages:
    """Images go through the multimodal messages path of Qwen3-VL-Embedding (STACKIT)."""

    @pytest.fixture
    def model(self) -> StackitChutesEmbedding:
        return StackitChutesEmbedding(model_name=IMAGE_EMBED_MODEL)

    def test_image_sources(self, model: StackitChutesEmbedding, tmp_path: Path) -> None:
        path = tmp_path / "red.png"
        path.write_bytes(make_png(RED))
        data_uri = "data:image/png;base64," + base64.b64encode(make_png(RED)).decode()
        from_path = model.get_image_embedding(str(path))
        from_bytesio = model.get_image_embedding(BytesIO(make_png(RED)))
        from_uri = model.get_image_embedding(data_uri)
        assert len(from_path) == 4096
        assert from_path == from_bytesio == from_uri

    async def test_aimage_embedding(self, model: StackitChutesEmbedding) -> None:
        vector = await model.aget_image_embedding(BytesIO(make_png(BLUE)))
        assert vector == model.get_image_embedding(BytesIO(make_png(BLUE)))

    def test_text_query_finds_image(self, model: StackitChutesEmbedding) -> None:
        images = model.get_image_embedding_batch([BytesIO(make_png(c)) for c in (RED, BLUE, GREEN)])
        query = model.get_query_embedding("a blue picture")
        scores = [similarity(query, image) for image in images]
        assert max(range(3), key=scores.__getitem__) == 1

    async def test_aimage_batch(self, model: StackitChutesEmbedding) -> None:
        images = [BytesIO(make_png(c)) for c in (RED, BLUE, GREEN)]
        vectors = await model.aget_image_embedding_batch(images)
        assert len(vectors) == 3
        assert vectors[0] == model.get_image_embedding(BytesIO(make_png(RED)))

    def test_text_only_model_refuses_images(self, embed_model: StackitChutesEmbedding) -> None:
        with pytest.raises(CapabilityError, match="text only"):
            embed_model.get_image_embedding(BytesIO(make_png(RED)))
