"""Image search in LangChain: Chroma.add_images with the multimodal Qwen3-VL-Embedding model, queried by text.

Run: python examples/image_search_langchain.py (needs STACKIT_API_KEY; pip install 'stackit-chutes[examples]').
"""

from __future__ import annotations

from pathlib import Path

import chromadb
from langchain_chroma import Chroma

from langchain_stackit_chutes import StackitChutesEmbeddings

IMAGES = sorted((Path(__file__).parent / "images").glob("*.png"))  # red, green, blue, yellow squares


def main() -> None:
    """Store four images, then find each by a text description and one by a similar image."""
    store = Chroma(
        collection_name="images",
        embedding_function=StackitChutesEmbeddings(model="stackit/Qwen/Qwen3-VL-Embedding-8B", dimensions=256),
        client_settings=chromadb.config.Settings(anonymized_telemetry=False, is_persistent=False),
        collection_metadata={"hnsw:space": "cosine"},
    )
    store.add_images(uris=[str(p) for p in IMAGES], metadatas=[{"file": p.name} for p in IMAGES])
    for query in ("a red picture", "a blue picture"):
        [(hit, distance)] = store.similarity_search_with_score(query, k=1)
        print(f"{query!r:18} -> {hit.metadata['file']}  (cosine distance {distance:.3f})")
    [hit] = store.similarity_search_by_image(uri=str(IMAGES[0]), k=1)
    print(f"{'like ' + IMAGES[0].name:18} -> {hit.metadata['file']}")
    store.delete_collection()


if __name__ == "__main__":
    main()
