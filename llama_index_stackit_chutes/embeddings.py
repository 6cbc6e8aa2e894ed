r"""``StackitChutesEmbedding``: STACKIT and Chutes embedding models as a LlamaIndex ``MultiModalEmbedding``.

Texts go through the core's ``input`` batches (one request per ``embed_batch_size`` texts); queries
get the model's task instruction (e5: ``Instruct: ...\\nQuery: ...``; Qwen3-VL-Embedding: a system
instruction); images (paths, URLs, data URIs, ``BytesIO``) go through the core's multimodal
``messages`` path, one request per image, at most ``num_workers`` at a time.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.embeddings.base import Embedding
from llama_index.core.bridge.pydantic import Field, SecretStr
from llama_index.core.callbacks import CallbackManager
from llama_index.core.embeddings.multi_modal_base import MultiModalEmbedding
from llama_index.core.schema import ImageType

from stackit_chutes_core import (
    EmbeddingItem,
    Endpoint,
    aembed_items,
    aembed_texts,
    embed_items,
    embed_texts,
    parse_model,
    resolve_endpoint,
    to_image_url,
)

__all__ = ["DEFAULT_EMBED_BATCH_SIZE", "DEFAULT_NUM_WORKERS", "StackitChutesEmbedding"]

DEFAULT_EMBED_BATCH_SIZE = 64
"""Texts per request: large enough to amortise round trips, small enough for both providers' limits."""
DEFAULT_NUM_WORKERS = 4
"""Concurrent requests (async text batches, image items): polite to Chutes' and STACKIT's rate limits."""


class StackitChutesEmbedding(MultiModalEmbedding):
    """A STACKIT AI Model Serving or Chutes embedding model for LlamaIndex (text and images).

    ``StackitChutesEmbedding(model_name="stackit/intfloat/e5-mistral-7b-instruct")``,
    ``"chutes/Qwen/Qwen3-Embedding-8B"`` or the multimodal ``"stackit/Qwen/Qwen3-VL-Embedding-8B"``.
    Queries get the catalog's task instruction (override with ``query_instruction``; ``""`` turns it
    off); documents are embedded as they are.
    """

    provider: str | None = Field(default=None, description="Provider name when `model_name` carries no prefix.")
    api_key: SecretStr | None = Field(
        default=None, exclude=True, repr=False, description="API key; default: the provider's environment variable."
    )
    api_base: str | None = Field(default=None, description="Base URL override for the model's provider.")
    dimensions: int | None = Field(
        default=None, gt=0, description="Output size for models that support Matryoshka truncation."
    )
    query_instruction: str | None = Field(
        default=None, description="Task instruction for queries; None: the catalog's default, '': none."
    )
    show_progress: bool = Field(default=False, description="Show a progress bar for batch calls.")
    timeout: float | None = Field(default=None, description="Request timeout in seconds; None: SDK default.")
    max_retries: int = Field(default=2, ge=0, description="Retries on 429/5xx/timeouts.")
    default_headers: dict[str, str] | None = Field(default=None, description="Extra headers on every request.")
    allow_unverified_images: bool = Field(
        default=False, description="Send images to models the catalog does not know (instead of refusing)."
    )
    http_client: Any = Field(default=None, exclude=True, repr=False, description="Custom sync httpx client.")
    async_http_client: Any = Field(default=None, exclude=True, repr=False, description="Custom async httpx client.")

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
        super().__init__(model_name=name, callback_manager=callback_manager or CallbackManager([]), **kwargs)
        parse_model(self.model_name, self.provider)  # unknown providers fail here, not on the first call

    @classmethod
    def class_name(cls) -> str:
        """Stable identifier used by LlamaIndex serialisation."""
        return "StackitChutesEmbedding"

    # -- plumbing ---------------------------------------------------------------------------

    def _endpoint(self) -> Endpoint:
        return resolve_endpoint(
            self.model_name,
            provider=self.provider,
            api_key=self.api_key,
            base_url=self.api_base,
            purpose="embeddings",
            default_headers=self.default_headers,
            timeout=self.timeout,
            max_retries=self.max_retries,
            http_client=self.http_client,
            http_async_client=self.async_http_client,
        )

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

    @staticmethod
    def _items(images: list[ImageType]) -> list[EmbeddingItem]:
        return [EmbeddingItem(image_url=to_image_url(image)) for image in images]

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
        return (await aembed_texts(self._endpoint(), texts, **self._text_options("document"))).vectors

    def get_text_embedding_batch(self, texts: list[str], show_progress: bool = False, **kwargs: Any) -> list[Embedding]:
        """Embed texts in batches of ``embed_batch_size`` (progress bar if asked here or by the field)."""
        return super().get_text_embedding_batch(texts, show_progress=show_progress or self.show_progress, **kwargs)

    async def aget_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[Embedding]:
        """Async batches, at most ``num_workers`` in flight."""
        return await super().aget_text_embedding_batch(
            texts, show_progress=show_progress or self.show_progress, **kwargs
        )

    # -- images -----------------------------------------------------------------------------

    def _get_image_embedding(self, img_file_path: ImageType) -> Embedding:
        return self._get_image_embeddings([img_file_path])[0]

    async def _aget_image_embedding(self, img_file_path: ImageType) -> Embedding:
        return (await self._aget_image_embeddings([img_file_path]))[0]

    def _get_image_embeddings(self, img_file_paths: list[ImageType]) -> list[Embedding]:
        return embed_items(self._endpoint(), self._items(img_file_paths), **self._image_options()).vectors

    async def _aget_image_embeddings(self, img_file_paths: list[ImageType]) -> list[Embedding]:
        return (await aembed_items(self._endpoint(), self._items(img_file_paths), **self._image_options())).vectors

    def get_image_embedding_batch(
        self, img_file_paths: list[ImageType], show_progress: bool = False
    ) -> list[Embedding]:
        """Embed images in batches of ``embed_batch_size``, ``num_workers`` requests at a time."""
        return super().get_image_embedding_batch(img_file_paths, show_progress=show_progress or self.show_progress)

    async def aget_image_embedding_batch(
        self, img_file_paths: list[ImageType], show_progress: bool = False
    ) -> list[Embedding]:
        """Async :meth:`get_image_embedding_batch`."""
        return await super().aget_image_embedding_batch(
            img_file_paths, show_progress=show_progress or self.show_progress
        )
