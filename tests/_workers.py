"""Functions run in worker processes by the tests (importable under the spawn start method)."""

from __future__ import annotations

from typing import Any


def embed_with(model: Any, texts: list[str]) -> list[list[float]]:
    """Embed ``texts`` with a pickled LangChain or LlamaIndex embedding model."""
    if hasattr(model, "embed_documents"):
        return model.embed_documents(texts)
    return model.get_text_embedding_batch(texts)
