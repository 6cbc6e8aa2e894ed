"""Image search in LlamaIndex: a MultiModalVectorStoreIndex over image files, queried by text.

Run: python examples/image_search_llamaindex.py (needs STACKIT_API_KEY).
"""

from __future__ import annotations

from pathlib import Path

from llama_index.core import Document
from llama_index.core.indices import MultiModalVectorStoreIndex
from llama_index.core.schema import ImageDocument

from llama_index_stackit_chutes import StackitChutesEmbedding

IMAGES = sorted((Path(__file__).parent / "images").glob("*.png"))  # red, green, blue, yellow squares


def main() -> None:
    """Index four images and one text; retrieve images and text for a text query."""
    embed = StackitChutesEmbedding(model_name="stackit/Qwen/Qwen3-VL-Embedding-8B", dimensions=256)
    documents = [ImageDocument(image_path=str(p), metadata={"file": p.name}) for p in IMAGES]
    documents.append(Document(text="The red planet is Mars."))
    index = MultiModalVectorStoreIndex.from_documents(documents, embed_model=embed, image_embed_model=embed)
    retriever = index.as_retriever(similarity_top_k=1, image_similarity_top_k=2)
    for query in ("a yellow picture", "a green picture"):
        hits = retriever.text_to_image_retrieve(query)
        print(f"{query!r:18} -> " + ", ".join(f"{h.node.metadata['file']} ({h.score:.3f})" for h in hits))
    [text_hit] = retriever.text_retrieve("a red picture")
    print(f"{'a red picture':18} -> text: {text_hit.node.get_content()}")


if __name__ == "__main__":
    main()
