"""Sync text batches run concurrently, with the events LlamaIndex's async batch path sends.

``BaseEmbedding.get_text_embedding_batch`` sends one request per ``embed_batch_size`` texts, one
after the other; at 30 ms of latency that is half the throughput of the async path. Here the batches
run on up to ``num_workers`` threads. Events match ``aget_text_embedding_batch``: every batch's
``EmbeddingStartEvent`` and callback start are sent first (from the calling thread), then the end
events in batch order once all batches are done (or, on failure, an exception end for each).
``rate_limiter`` and ``embeddings_cache`` are honoured per batch, as in the base class.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from llama_index.core.callbacks.schema import CBEventType, EventPayload
from llama_index.core.instrumentation.events.embedding import EmbeddingEndEvent, EmbeddingStartEvent
from llama_index_instrumentation import get_dispatcher  # what llama_index.core.instrumentation re-exports

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding

__all__ = ["embed_text_batches"]

dispatcher = get_dispatcher("llama_index.core.base.embeddings.base")


def _embed_one(model: BaseEmbedding, batch: list[str]) -> list[Embedding]:
    limiter = getattr(model, "rate_limiter", None)
    if limiter is not None:
        limiter.acquire()
    if getattr(model, "embeddings_cache", None):
        return model._get_text_embeddings_cached(batch)
    return model._get_text_embeddings(batch)


def embed_text_batches(
    model: BaseEmbedding, texts: list[str], workers: int, advance: Callable[[int], object] | None = None
) -> list[Embedding]:
    """Embed ``texts`` in batches of ``model.embed_batch_size`` on ``workers`` threads, in order.

    ``advance(n)`` is called as each batch of ``n`` texts finishes (from a worker thread).
    """
    size = max(1, model.embed_batch_size)
    batches = [texts[i : i + size] for i in range(0, len(texts), size)]
    payload = model.to_payload()
    event_ids = []
    for _ in batches:
        dispatcher.event(EmbeddingStartEvent(model_dict=payload))
        event_ids.append(
            model.callback_manager.on_event_start(CBEventType.EMBEDDING, payload={EventPayload.SERIALIZED: payload})
        )

    def run(batch: list[str]) -> list[Embedding]:
        vectors = _embed_one(model, batch)
        if advance is not None:
            advance(len(batch))
        return vectors

    try:
        if len(batches) <= 1 or workers <= 1:
            nested = [run(batch) for batch in batches]
        else:
            with ThreadPoolExecutor(max_workers=min(workers, len(batches))) as pool:
                # Each task in a copy of this context: instrumentation spans stay the parents.
                futures = [pool.submit(contextvars.copy_context().run, run, batch) for batch in batches]
                nested = [future.result() for future in futures]
    except Exception as exc:
        for event_id in event_ids:
            model.callback_manager.on_event_end(
                CBEventType.EMBEDDING, payload={EventPayload.EXCEPTION: exc}, event_id=event_id
            )
        raise
    for event_id, batch, vectors in zip(event_ids, batches, nested, strict=True):
        dispatcher.event(EmbeddingEndEvent(chunks=batch, embeddings=vectors))
        model.callback_manager.on_event_end(
            CBEventType.EMBEDDING,
            payload={EventPayload.CHUNKS: batch, EventPayload.EMBEDDINGS: vectors},
            event_id=event_id,
        )
    return [vector for vectors in nested for vector in vectors]
