"""The real langchain-chroma vector store over ``StackitChutesEmbeddings`` (issue #6, "LangChain").

langchain-chroma duck-types image support (libs/partners/chroma/langchain_chroma/vectorstores.py):
``Chroma.add_images(uris)`` stores each file base64-encoded as the document and, if the embedding
object ``hasattr(..., "embed_image")``, calls ``embed_image(uris=uris)`` with the *file paths*;
``similarity_search_by_image(uri)`` calls ``embed_image(uris=[uri])[0]``; text ``similarity_search``
calls ``embed_query``. So ``embed_image`` must take the keyword ``uris`` and local paths, and text
queries must land in the image space. Chroma runs in-process (ephemeral), the HTTP calls replay
from ``cassettes/multimodal/test_langchain_chroma/``.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("langchain_chroma")

import chromadb.config
from langchain_chroma import Chroma

from langchain_stackit_chutes import StackitChutesEmbeddings
from tests.multimodal._shared import DIMS, QWEN_VL, png
from tests.pngs import COLOURS

pytestmark = pytest.mark.vcr


@pytest.fixture
def store() -> Iterator[Chroma]:
    db = Chroma(
        collection_name=f"mm-{uuid.uuid4().hex[:12]}",
        embedding_function=StackitChutesEmbeddings(model=QWEN_VL, dimensions=DIMS),
        client_settings=chromadb.config.Settings(anonymized_telemetry=False, is_persistent=False),
        collection_metadata={"hnsw:space": "cosine"},
    )
    try:
        yield db
    finally:
        db.delete_collection()


def _add_colours(store: Chroma, files: dict[str, Path]) -> list[str]:
    names = list(COLOURS)
    return store.add_images(
        uris=[str(files[n]) for n in names], metadatas=[{"colour": n} for n in names], ids=[f"img-{n}" for n in names]
    )


def test_add_images_stores_the_files(store: Chroma, colour_files: dict[str, Path]) -> None:
    assert _add_colours(store, colour_files) == [f"img-{n}" for n in COLOURS]
    got: dict[str, Any] = store.get(ids=["img-red"], include=["documents", "embeddings", "metadatas"])
    assert got["metadatas"] == [{"colour": "red"}]
    assert base64.b64decode(got["documents"][0]) == png("red")  # Chroma's own encode_image(uri)
    assert len(got["embeddings"][0]) == DIMS  # ours, via embed_image(uris=...)


def test_similarity_search_by_image(store: Chroma, colour_files: dict[str, Path]) -> None:
    _add_colours(store, colour_files)
    for colour in COLOURS:
        [hit] = store.similarity_search_by_image(uri=str(colour_files[colour]), k=1)
        assert hit.metadata == {"colour": colour}


def test_text_query_finds_the_image(store: Chroma, colour_files: dict[str, Path]) -> None:
    _add_colours(store, colour_files)
    store.add_texts(["Bananas are rich in potassium.", "The red planet is Mars."], metadatas=[{"kind": "text"}] * 2)
    for colour in COLOURS:
        hits = store.similarity_search(f"a {colour} picture", k=2)
        assert hits[0].metadata == {"colour": colour}
        assert base64.b64decode(hits[0].page_content) == png(colour)


def test_relevance_scores_rank_the_same_image_first(store: Chroma, colour_files: dict[str, Path]) -> None:
    _add_colours(store, colour_files)
    scored = store.similarity_search_with_relevance_scores("a green picture", k=4)
    assert scored[0][0].metadata == {"colour": "green"}
    assert scored[0][1] > scored[1][1]


async def test_async_text_search(store: Chroma, colour_files: dict[str, Path]) -> None:
    _add_colours(store, colour_files)
    hits = await store.asimilarity_search("a blue picture", k=1)
    assert hits[0].metadata == {"colour": "blue"}
