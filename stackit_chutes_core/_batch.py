"""``BatchEmbedder``: embeddings for Ray Data ``map_batches`` (and any batch-at-a-time engine).

::

    ds = ray.data.from_items([{"text": t} for t in texts])
    ds = ds.map_batches(
        BatchEmbedder,
        fn_constructor_kwargs={"model": "stackit/intfloat/e5-mistral-7b-instruct", "workers": 4,
                               "requests_per_minute": 600, "tokens_per_minute": 200_000},
        concurrency=4,
        batch_size=256,
    )

Ray builds one instance per worker process from the constructor arguments (a model string and
options), so the object holds no client: it pickles as plain data, and each worker opens its own
pooled connections on the first batch. Each call embeds the batch's ``column`` of texts (and/or
``image_column`` of image paths, URLs, data URIs or bytes) through the core, paced by the rate
limiter, and returns the batch with ``output_column`` added, vectors in row order, in the format
it came in (a dict of columns or a pandas DataFrame).

**Budgets across workers.** A limiter is per process; with ``concurrency=N`` there are N of them.
Pass ``workers=N`` and each takes ``1/N`` of ``requests_per_minute`` / ``tokens_per_minute`` (or of
the catalog's budgets), so together they stay within the provider's limit for the key and model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stackit_chutes_core._embeddings import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_CONCURRENCY,
    EmbeddingItem,
    InputRole,
    embed_items,
    embed_texts,
)
from stackit_chutes_core._images import to_image_url
from stackit_chutes_core._limiter import Budget, catalog_limits, set_rate_limits
from stackit_chutes_core.errors import ConfigurationError, InvalidInputError
from stackit_chutes_core.routing import Endpoint, resolve_endpoint

__all__ = ["BatchEmbedder"]


class BatchEmbedder:
    """A picklable callable embedding one batch of rows per call (see the module docstring).

    Args:
        model: ``"stackit/<model>"`` or ``"chutes/<model>"``.
        column: the text column (``None``: images only).
        image_column: a column of images (paths, URLs, data URIs, bytes) to embed, with the text of
            the same row when ``column`` is also set (one vector per row, multimodal models only).
        output_column: where the vectors go.
        workers: the ``concurrency`` given to Ray; each worker takes ``1/workers`` of the budgets.
        requests_per_minute / tokens_per_minute: the budgets of the key and model (default: the
            catalog's, when it documents them).
        role: ``"document"`` (default) or ``"query"`` (applies the model's query instruction).
        api_key / base_url / provider / timeout / max_retries: as for every endpoint; without
            ``api_key`` the worker reads the provider's environment variable (Ray: ``runtime_env``).
        batch_size / max_concurrency / dimensions: as for :func:`~stackit_chutes_core.embed_texts`.
    """

    def __init__(
        self,
        model: str,
        *,
        column: str | None = "text",
        image_column: str | None = None,
        output_column: str = "embedding",
        workers: int = 1,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        role: InputRole = "document",
        api_key: str | None = None,
        base_url: str | None = None,
        provider: str | None = None,
        timeout: float | None = None,
        max_retries: int = 2,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        dimensions: int | None = None,
    ) -> None:
        if column is None and image_column is None:
            raise ConfigurationError("BatchEmbedder needs a text `column`, an `image_column`, or both.")
        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
            raise ConfigurationError(f"workers must be a positive integer (Ray's concurrency), got {workers!r}.")
        self.model, self.column, self.image_column, self.output_column = model, column, image_column, output_column
        self.workers, self.role, self.dimensions = workers, role, dimensions
        self.budgets = Budget(requests_per_minute, tokens_per_minute)
        self.batch_size, self.max_concurrency = batch_size, max_concurrency
        self._connection: dict[str, Any] = {
            "api_key": api_key,
            "base_url": base_url,
            "provider": provider,
            "timeout": timeout,
            "max_retries": max_retries,
        }
        self._endpoint: Endpoint | None = None
        self.endpoint()  # unknown provider, missing key: fail at construction, on the driver too

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_endpoint"] = None  # rebuilt (and its limiter budget set) in the worker process
        return state

    def endpoint(self) -> Endpoint:
        """The endpoint, resolved once per process, with this worker's share of the budgets set."""
        if self._endpoint is None:
            endpoint = resolve_endpoint(self.model, purpose="embeddings", **self._connection)
            budgets = self.budgets if self.budgets.active else catalog_limits(endpoint)
            if budgets is not None:
                share = budgets.share(self.workers)
                set_rate_limits(endpoint, share.requests_per_minute, share.tokens_per_minute)
            self._endpoint = endpoint
        return self._endpoint

    def embed(self, texts: Sequence[str] | None, images: Sequence[Any] | None) -> list[list[float]]:
        """Vectors for the rows (texts, images, or image+text pairs), in order."""
        endpoint = self.endpoint()
        options: dict[str, Any] = {"role": self.role, "dimensions": self.dimensions}
        if images is None:
            assert texts is not None
            return embed_texts(
                endpoint, texts, batch_size=self.batch_size, max_concurrency=self.max_concurrency, **options
            ).vectors
        if texts is not None and len(texts) != len(images):
            raise InvalidInputError(f"{len(texts)} texts but {len(images)} images in one batch.")
        items = [
            EmbeddingItem(text=texts[i] if texts is not None else None, image_url=to_image_url(image))
            for i, image in enumerate(images)
        ]
        return embed_items(endpoint, items, max_concurrency=self.max_concurrency, **options).vectors

    def __call__(self, batch: Any) -> Any:
        """Embed one batch: a dict of columns (Ray's default format) or a pandas DataFrame."""
        texts = _column(batch, self.column, str) if self.column is not None else None
        images = _column(batch, self.image_column, None) if self.image_column is not None else None
        vectors = self.embed(texts, images)
        if isinstance(batch, Mapping):
            out = dict(batch)
            out[self.output_column] = _as_array(vectors)
            return out
        frame = batch.copy()
        frame[self.output_column] = vectors
        return frame


def _column(batch: Any, name: str, cast: type | None) -> list[Any]:
    try:
        values = batch[name]
    except (KeyError, IndexError) as exc:
        columns = list(batch.keys()) if hasattr(batch, "keys") else []
        raise InvalidInputError(f"the batch has no column {name!r}; columns: {columns}") from exc
    return [
        cast(v) if cast is not None else (bytes(v) if isinstance(v, (bytearray, memoryview)) else v) for v in values
    ]


def _as_array(vectors: list[list[float]]) -> Any:
    """A 2-D numpy array when numpy is there (Ray stores it as a tensor column), else the lists."""
    try:
        import numpy
    except ImportError:
        return vectors
    return numpy.asarray(vectors, dtype=numpy.float32)
