r"""``StackitChutesEmbedding``: STACKIT and Chutes embedding models as a LlamaIndex ``MultiModalEmbedding``.

Texts go through the core's ``input`` batches (one request per ``embed_batch_size`` texts); queries
get the model's task instruction (e5: ``Instruct: ...\\nQuery: ...``; Qwen3-VL-Embedding: a system
instruction, so text queries and images share one space); images (paths, ``http(s)`` URLs, data URIs,
``BytesIO``, ``bytes``, PIL images) go through the core's multimodal ``messages`` path, one request
per image.

Concurrency: ``num_workers`` is one overall limit on requests in flight for a batch call. LlamaIndex's
base ``aget_image_embedding_batch`` gathers every batch at once (and ``aget_text_embedding_batch``
runs ``num_workers`` batches, each of which may fan out per item when a document instruction sends
texts through ``messages``), so the batch methods here share a single limiter across all batches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar

from llama_index.core.base.embeddings.base import Embedding
from llama_index.core.bridge.pydantic import Field
from llama_index.core.callbacks import CallbackManager
from llama_index.core.callbacks.schema import CBEventType, EventPayload
from llama_index.core.embeddings.multi_modal_base import MultiModalEmbedding
from llama_index.core.schema import ImageType

from llama_index_stackit_chutes._fields import ConnectionFields
from stackit_chutes_core import (
    DEFAULT_MAX_IMAGE_BYTES,
    EmbeddingItem,
    EmbeddingResult,
    aembed_items,
    aembed_texts,
    embed_items,
    embed_texts,
    to_image_url,
)
from stackit_chutes_core.routing import Purpose

__all__ = ["DEFAULT_EMBED_BATCH_SIZE", "DEFAULT_NUM_WORKERS", "StackitChutesEmbedding"]

DEFAULT_EMBED_BATCH_SIZE = 64
"""Texts per request: large enough to amortise round trips, small enough for both providers' limits."""
DEFAULT_NUM_WORKERS = 4
"""Concurrent requests (async text batches, image items): polite to Chutes' and STACKIT's rate limits."""

# The limiter shared by every batch of one async batch call (set by the batch methods, read by the
# per-batch hooks LlamaIndex calls from them; tasks inherit it, concurrent calls do not share it).
_BATCH_LIMITER: ContextVar[asyncio.Semaphore | None] = ContextVar("stackit_chutes_batch_limiter", default=None)


class StackitChutesEmbedding(ConnectionFields, MultiModalEmbedding):
    """A STACKIT AI Model Serving or Chutes embedding model for LlamaIndex (text and images).

    ``StackitChutesEmbedding(model_name="stackit/intfloat/e5-mistral-7b-instruct")``,
    ``"chutes/Qwen/Qwen3-Embedding-8B"`` or the multimodal ``"stackit/Qwen/Qwen3-VL-Embedding-8B"``.
    Queries get the catalog's task instruction (override with ``query_instruction``; ``""`` turns it
    off); documents are embedded as they are.
    """

    _model_field: ClassVar[str] = "model_name"
    _purpose: ClassVar[Purpose] = "embeddings"

    dimensions: int | None = Field(
        default=None, gt=0, description="Output size for models that support Matryoshka truncation."
    )
    query_instruction: str | None = Field(
        default=None, description="Task instruction for queries; None: the catalog's default, '': none."
    )
    show_progress: bool = Field(default=False, description="Show a progress bar for batch calls.")
    allow_unverified_images: bool = Field(
        default=False, description="Send images to models the catalog does not know (instead of refusing)."
    )
    max_image_bytes: int = Field(
        default=DEFAULT_MAX_IMAGE_BYTES, gt=0, description="Largest image accepted (bytes, before base64)."
    )

    def __init__(self, model_name: str | None = None, **kwargs: Any) -> None:
        name = model_name or kwargs.pop("model", None)
        if not name:
            raise ValueError(
                "StackitChutesEmbedding needs model_name, e.g. 'stackit/intfloat/e5-mistral-7b-instruct' "
                "or 'chutes/Qwen/Qwen3-Embedding-8B'."
            )
        kwargs.setdefault("embed_batch_size", DEFAULT_EMBED_BATCH_SIZE)
        kwargs.setdefault("num_workers", DEFAULT_NUM_WORKERS)
        callback_manager = kwargs.pop("callback_manager", None)
        # mypy resolves __init__ to the ConnectionFields mixin; at run time it is the pydantic model's.
        super().__init__(  # type: ignore[call-arg]
            model_name=name, callback_manager=callback_manager or CallbackManager([]), **kwargs
        )
        # Unknown provider, a chat model, or a missing key: fail here, before any request.
        self._bind_credentials()

    @classmethod
    def class_name(cls) -> str:
        """Stable identifier used by LlamaIndex serialisation."""
        return "StackitChutesEmbedding"

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def _concurrency(self) -> int:
        return max(1, self.num_workers or 1)

    def _text_options(self, role: str) -> dict[str, Any]:
        options: dict[str, Any] = {
            "role": role,
            "dimensions": self.dimensions,
            "batch_size": self.embed_batch_size,
            "max_concurrency": self._concurrency,
        }
        if role == "query" and self.query_instruction is not None:
            options["instruction"] = self.query_instruction or False
        return options

    def _image_options(self) -> dict[str, Any]:
        return {
            "dimensions": self.dimensions,
            "max_concurrency": self._concurrency,
            "allow_unverified_images": self.allow_unverified_images,
        }

    def _items(self, images: Sequence[ImageType]) -> list[EmbeddingItem]:
        """Every image read and checked (format, size) before the first request is sent."""
        return [EmbeddingItem(image_url=to_image_url(image, max_bytes=self.max_image_bytes)) for image in images]

    # -- text -------------------------------------------------------------------------------

    def _get_query_embedding(self, query: str) -> Embedding:
        return embed_texts(self._endpoint(), [query], **self._text_options("query")).vectors[0]

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return (await aembed_texts(self._endpoint(), [query], **self._text_options("query"))).vectors[0]

    def _get_text_embedding(self, text: str) -> Embedding:
        return embed_texts(self._endpoint(), [text], **self._text_options("document")).vectors[0]

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return (await aembed_texts(self._endpoint(), [text], **self._text_options("document"))).vectors[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return embed_texts(self._endpoint(), texts, **self._text_options("document")).vectors

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        options = self._text_options("document")
        result = await aembed_texts(self._endpoint(), texts, limiter=_BATCH_LIMITER.get(), **options)
        return result.vectors

    def get_text_embedding_batch(self, texts: list[str], show_progress: bool = False, **kwargs: Any) -> list[Embedding]:
        """Embed texts in batches of ``embed_batch_size`` (progress bar if asked here or by the field)."""
        return super().get_text_embedding_batch(texts, show_progress=show_progress or self.show_progress, **kwargs)

    async def aget_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[Embedding]:
        """Async batches: at most ``num_workers`` requests in flight in total (one limit for all batches)."""
        token = _BATCH_LIMITER.set(asyncio.Semaphore(self._concurrency))
        try:
            return await super().aget_text_embedding_batch(
                texts, show_progress=show_progress or self.show_progress, **kwargs
            )
        finally:
            _BATCH_LIMITER.reset(token)

    # -- images -----------------------------------------------------------------------------

    def _get_image_embedding(self, img_file_path: ImageType) -> Embedding:
        return self._get_image_embeddings([img_file_path])[0]

    async def _aget_image_embedding(self, img_file_path: ImageType) -> Embedding:
        return (await self._aget_image_embeddings([img_file_path]))[0]

    def _get_image_embeddings(self, img_file_paths: list[ImageType]) -> list[Embedding]:
        return embed_items(self._endpoint(), self._items(img_file_paths), **self._image_options()).vectors

    async def _aget_image_embeddings(self, img_file_paths: list[ImageType]) -> list[Embedding]:
        items = self._items(img_file_paths)
        options = self._image_options()
        return (await aembed_items(self._endpoint(), items, limiter=_BATCH_LIMITER.get(), **options)).vectors

    def get_image_embedding_batch(
        self, img_file_paths: list[ImageType], show_progress: bool = False
    ) -> list[Embedding]:
        """Embed images, one request each, at most ``num_workers`` in flight, in input order.

        Every image is read and checked before the first request. A failed image raises
        :class:`~stackit_chutes_core.EmbeddingItemsError` with its index in ``img_file_paths`` and
        the vectors of all the others. One callback ``EMBEDDING`` event per ``embed_batch_size`` images.
        """
        items = self._items(img_file_paths)
        with self._image_events(img_file_paths) as finish, self._progress(len(items), show_progress) as advance:
            result = embed_items(self._endpoint(), items, on_item_done=advance, **self._image_options())
            finish(result)
        return result.vectors

    async def aget_image_embedding_batch(
        self, img_file_paths: list[ImageType], show_progress: bool = False
    ) -> list[Embedding]:
        """Async :meth:`get_image_embedding_batch` (one limit over all images, unlike the base class)."""
        items = self._items(img_file_paths)
        with self._image_events(img_file_paths) as finish, self._progress(len(items), show_progress) as advance:
            result = await aembed_items(self._endpoint(), items, on_item_done=advance, **self._image_options())
            finish(result)
        return result.vectors

    @contextmanager
    def _image_events(self, images: Sequence[ImageType]) -> Iterator[Callable[[EmbeddingResult], None]]:
        """Callback events as the base class sends them: one per ``embed_batch_size`` images."""
        size = self.embed_batch_size
        chunks = [range(i, min(i + size, len(images))) for i in range(0, len(images), size)]
        payload: dict[str, Any] = {EventPayload.SERIALIZED: self.to_payload()}
        events = [self.callback_manager.on_event_start(CBEventType.EMBEDDING, payload=payload) for _ in chunks]
        ended = False

        def finish(result: EmbeddingResult) -> None:
            nonlocal ended
            ended = True
            for event_id, chunk in zip(events, chunks, strict=True):
                self.callback_manager.on_event_end(
                    CBEventType.EMBEDDING,
                    payload={
                        EventPayload.CHUNKS: [images[i] for i in chunk],
                        EventPayload.EMBEDDINGS: [result.vectors[i] for i in chunk],
                    },
                    event_id=event_id,
                )

        try:
            yield finish
        except Exception as exc:
            if not ended:
                for event_id in events:
                    self.callback_manager.on_event_end(
                        CBEventType.EMBEDDING, payload={EventPayload.EXCEPTION: exc}, event_id=event_id
                    )
            raise

    @contextmanager
    def _progress(self, total: int, show_progress: bool) -> Iterator[Callable[[int], object] | None]:
        if not (show_progress or self.show_progress) or total == 0:
            yield None
            return
        from tqdm.auto import tqdm  # type: ignore[import-untyped]

        with tqdm(total=total, desc="Generating image embeddings") as bar:
            yield lambda _index: bar.update(1)
