"""``StackitChutesEmbeddings``: STACKIT and Chutes embedding models (text and multimodal) for LangChain."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, TypeVar

from langchain_core.embeddings import Embeddings
from pydantic import ConfigDict, Field, model_validator
from typing_extensions import Self

import stackit_chutes_core as core
from langchain_stackit_chutes._base import ProviderConnection
from langchain_stackit_chutes._convert import image_block_to_url
from langchain_stackit_chutes._errors import to_langchain_error
from stackit_chutes_core.routing import Purpose
from stackit_chutes_core.types import InputRole

__all__ = ["MultimodalInput", "StackitChutesEmbeddings"]

MultimodalPart = str | Mapping[str, Any]
MultimodalInput = MultimodalPart | Sequence[MultimodalPart]
"""One item of :meth:`StackitChutesEmbeddings.embed_multimodal`: a text, a content block (text, LangChain
``{"type": "image", "url" | "base64": ...}``, OpenAI ``image_url``), or a list of blocks that together
form one input (e.g. an image and its caption). Each item gives one embedding."""

_T = TypeVar("_T")


def _item(value: MultimodalInput, max_bytes: int = core.DEFAULT_MAX_IMAGE_BYTES) -> core.EmbeddingItem:
    if isinstance(value, (str, Mapping)):
        parts: Sequence[Any] = [value]
    elif isinstance(value, (list, tuple)):
        parts = value
    else:
        raise core.InvalidInputError(
            f"Unsupported multimodal embedding item of type {type(value).__name__}: pass a text, a content "
            "block, or a list of blocks (for image files use embed_image)."
        )
    texts: list[str] = []
    images: list[str] = []
    for part in parts:
        if isinstance(part, str):
            texts.append(part)
        elif not isinstance(part, Mapping):
            raise core.InvalidInputError(
                f"Unsupported multimodal embedding part of type {type(part).__name__}: use strings or content blocks."
            )
        elif part.get("type") == "text":
            texts.append(str(part.get("text", "")))
        elif (url := image_block_to_url(part)) is not None:
            # data URIs are checked (format, size) here, before any request; http(s) URLs pass as they are
            images.append(core.to_image_url(url, max_bytes=max_bytes) if url.startswith("data:") else url)
        else:
            raise core.InvalidInputError(
                f"Unsupported multimodal embedding part {part.get('type')!r}: use text, image or image_url blocks."
            )
    if len(images) > 1:
        raise core.InvalidInputError("One multimodal embedding item takes at most one image; split the images.")
    if not texts and not images:
        raise core.InvalidInputError("A multimodal embedding item is empty.")
    return core.EmbeddingItem(text="\n".join(texts) or None, image_url=images[0] if images else None)


class StackitChutesEmbeddings(ProviderConnection, Embeddings):
    """Embedding models of STACKIT AI Model Serving and Chutes (text and images), routed by the model string.

    Setup:
        .. code-block:: bash

            pip install -U "stackit-chutes[langchain]"
            export STACKIT_API_KEY="..."   # and/or CHUTES_API_KEY

    Key init args — embedding params:
        model: str
            ``"stackit/intfloat/e5-mistral-7b-instruct"``, ``"chutes/Qwen/Qwen3-Embedding-8B"`` or the
            multimodal ``"stackit/Qwen/Qwen3-VL-Embedding-8B"`` (``model_name=`` works too).
        dimensions: int | None
            Output size for models with Matryoshka truncation (checked against the catalog).
        chunk_size: int
            Texts per request. ``max_concurrency``: requests in flight.
        query_instruction / document_instruction: str | bool | None
            Task instructions (e5 and Qwen3-VL defaults come from the catalog; ``False`` sends raw text).

    Key init args — client params:
        api_key, base_url, timeout, max_retries, default_headers
            As on ``ChatStackitChutes``.

    Instantiate:
        .. code-block:: python

            from langchain_stackit_chutes import StackitChutesEmbeddings

            emb = StackitChutesEmbeddings(model="stackit/intfloat/e5-mistral-7b-instruct")

    Embed documents and a query:
        .. code-block:: python

            emb.embed_documents(["STACKIT is a cloud.", "Chutes serves models."])
            emb.embed_query("Which cloud?")  # the e5 query instruction is applied automatically

    Async:
        .. code-block:: python

            await emb.aembed_documents(["..."])
            await emb.aembed_query("...")

    Image input (multimodal models):
        .. code-block:: python

            vlm = StackitChutesEmbeddings(model="stackit/Qwen/Qwen3-VL-Embedding-8B", dimensions=1024)
            vlm.embed_image(["photo.png", "https://example.com/cat.jpg"])  # what Chroma's add_images calls
            vlm.embed_multimodal(["a caption", [{"type": "image", "url": "https://..."}, "its caption"]])

    Texts come back in input order; no tokenizer (tiktoken) is used: raw strings are sent.
    """

    _purpose: ClassVar[Purpose] = "embeddings"
    model_config = ConfigDict(populate_by_name=True, extra="forbid", arbitrary_types_allowed=True)

    dimensions: int | None = None
    """Output size for models with Matryoshka truncation (checked against the catalog at construction)."""
    chunk_size: int = Field(default=64, ge=1)
    """Texts per request (vLLM batches well around 32-128)."""
    max_concurrency: int = Field(default=4, ge=1)
    """Requests in flight at once (text batches, or multimodal items)."""
    show_progress_bar: bool = False
    """Show a tqdm progress bar (requires ``tqdm``)."""
    query_instruction: str | bool | None = None
    """Instruction for queries: ``None`` uses the catalog's (e5: ``Instruct: {task}\\nQuery: {q}``),
    a string replaces the task, ``False`` sends queries raw."""
    document_instruction: str | bool | None = None
    """Instruction for documents and images (chat-template models such as Qwen3-VL-Embedding); same rules."""
    allow_unverified_images: bool = False
    """Send images to a model the catalog does not know (known text-only models always refuse images)."""
    max_image_bytes: int = Field(default=core.DEFAULT_MAX_IMAGE_BYTES, ge=1)
    """Largest image accepted (bytes, before base64); larger ones are refused before any request."""

    @model_validator(mode="after")
    def _stackit_chutes_embeddings(self) -> Self:
        """Refuse bad ``dimensions`` and a progress bar without tqdm before any request (chat models: the core)."""
        if self.dimensions is not None:
            core.embed_texts(self._endpoint(), [], dimensions=self.dimensions)  # validates only; sends nothing
        if self.show_progress_bar:
            try:
                import tqdm  # type: ignore[import-untyped]  # noqa: F401
            except ImportError as exc:
                raise ImportError("show_progress_bar=True needs tqdm: pip install tqdm") from exc
        return self

    # ---- helpers --------------------------------------------------------------------------

    def _instruction(self, role: InputRole) -> str | bool | None:
        return self.query_instruction if role == "query" else self.document_instruction

    def _windows(self, values: Sequence[_T]) -> list[Sequence[_T]]:
        """Everything at once, or, with a progress bar, windows of ``chunk_size * max_concurrency``."""
        if not self.show_progress_bar:
            return [values]
        size = self.chunk_size * self.max_concurrency
        return [values[i : i + size] for i in range(0, len(values), size)]

    @contextmanager
    def _progress(self, total: int) -> Iterator[Callable[[int], Any]]:
        if not self.show_progress_bar:
            yield lambda _n: None
            return
        from tqdm.auto import tqdm  # type: ignore[import-untyped]

        with tqdm(total=total, desc=f"Embedding with {self.model}") as bar:
            yield bar.update

    def _run(self, values: Sequence[_T], call: Callable[[Sequence[_T]], core.EmbeddingResult]) -> list[list[float]]:
        vectors: list[list[float]] = []
        with self._progress(len(values)) as advance:
            for window in self._windows(values):
                try:
                    vectors.extend(call(window).vectors)
                except core.APIError as exc:
                    raise to_langchain_error(exc) from exc
                advance(len(window))
        return vectors

    async def _arun(
        self, values: Sequence[_T], call: Callable[[Sequence[_T]], Awaitable[core.EmbeddingResult]]
    ) -> list[list[float]]:
        vectors: list[list[float]] = []
        with self._progress(len(values)) as advance:
            for window in self._windows(values):
                try:
                    vectors.extend((await call(window)).vectors)
                except core.APIError as exc:
                    raise to_langchain_error(exc) from exc
                advance(len(window))
        return vectors

    def _text_options(self, role: InputRole) -> dict[str, Any]:
        return {
            "role": role,
            "instruction": self._instruction(role),
            "dimensions": self.dimensions,
            "batch_size": self.chunk_size,
            "max_concurrency": self.max_concurrency,
        }

    def _item_options(self, role: InputRole) -> dict[str, Any]:
        return {
            "role": role,
            "instruction": self._instruction(role),
            "dimensions": self.dimensions,
            "max_concurrency": self.max_concurrency,
            "allow_unverified_images": self.allow_unverified_images,
        }

    # ---- text ------------------------------------------------------------------------------

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed documents (no query instruction), in input order."""
        endpoint, options = self._endpoint(), self._text_options("document")
        return self._run(texts, lambda window: core.embed_texts(endpoint, window, **options))

    def embed_query(self, text: str) -> list[float]:
        """Embed a search query (with the model's query instruction unless ``query_instruction=False``)."""
        endpoint, options = self._endpoint(), self._text_options("query")
        return self._run([text], lambda window: core.embed_texts(endpoint, window, **options))[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Async :meth:`embed_documents` (native, no thread pool)."""
        endpoint, options = self._endpoint(), self._text_options("document")
        return await self._arun(texts, lambda window: core.aembed_texts(endpoint, window, **options))

    async def aembed_query(self, text: str) -> list[float]:
        """Async :meth:`embed_query`."""
        endpoint, options = self._endpoint(), self._text_options("query")
        return (await self._arun([text], lambda window: core.aembed_texts(endpoint, window, **options)))[0]

    # ---- images and mixed inputs -------------------------------------------------------------

    def embed_image(self, uris: list[str]) -> list[list[float]]:
        """Embed images given as file paths, ``http(s)`` URLs or ``data:`` URIs (one vector each).

        The signature Chroma (``add_images``, ``similarity_search_by_image``) and OpenCLIP use.
        """
        return self._embed_items(self._image_items(uris), "document")

    async def aembed_image(self, uris: list[str]) -> list[list[float]]:
        """Async :meth:`embed_image`."""
        return await self._aembed_items(self._image_items(uris), "document")

    def embed_multimodal(self, items: Sequence[MultimodalInput], *, role: InputRole = "document") -> list[list[float]]:
        """Embed texts, images and image+text pairs into one space (one vector per item).

        Args:
            items: See :data:`MultimodalInput`.
            role: ``"query"`` applies the query instruction (for retrieval queries), else documents.
        """
        return self._embed_items([_item(value, self.max_image_bytes) for value in items], role)

    async def aembed_multimodal(
        self, items: Sequence[MultimodalInput], *, role: InputRole = "document"
    ) -> list[list[float]]:
        """Async :meth:`embed_multimodal`."""
        return await self._aembed_items([_item(value, self.max_image_bytes) for value in items], role)

    def _image_items(self, uris: Sequence[str]) -> list[core.EmbeddingItem]:
        """Every image read and checked (format, size) before the first request."""
        if isinstance(uris, str):
            raise core.InvalidInputError("embed_image takes a list of paths/URLs, not a single string.")
        return [core.EmbeddingItem(image_url=core.to_image_url(uri, max_bytes=self.max_image_bytes)) for uri in uris]

    # Items go out in ONE core call (one request each, at most ``max_concurrency`` in flight), so a
    # failed item is reported with its index in the caller's list and every other vector is kept.

    def _embed_items(self, items: Sequence[core.EmbeddingItem], role: InputRole) -> list[list[float]]:
        endpoint, options = self._endpoint(), self._item_options(role)
        with self._progress(len(items)) as advance:
            try:
                return core.embed_items(endpoint, items, on_item_done=lambda _i: advance(1), **options).vectors
            except core.EmbeddingItemsError as exc:
                _retype_failures(exc)
                raise
            except core.APIError as exc:
                raise to_langchain_error(exc) from exc

    async def _aembed_items(self, items: Sequence[core.EmbeddingItem], role: InputRole) -> list[list[float]]:
        endpoint, options = self._endpoint(), self._item_options(role)
        with self._progress(len(items)) as advance:
            try:
                result = await core.aembed_items(endpoint, items, on_item_done=lambda _i: advance(1), **options)
            except core.EmbeddingItemsError as exc:
                _retype_failures(exc)
                raise
            except core.APIError as exc:
                raise to_langchain_error(exc) from exc
        return result.vectors


def _retype_failures(exc: core.EmbeddingItemsError) -> None:
    """Give each failed item's cause its LangChain-typed twin (``ModelInvalidRequestError`` ...)."""
    exc.failures = {i: to_langchain_error(cause) for i, cause in exc.failures.items()}
