r"""Embeddings: text through ``input`` (batched), images and image+text through ``messages``.

Two wire forms, both on ``POST /embeddings``:

* ``input`` (OpenAI): a batch of strings, one vector each, ``data[i].index`` giving the order.
  ``encoding_format`` is ``"base64"`` where the provider supports it (vLLM: STACKIT), else
  ``"float"``; see :mod:`._vectors` for decoding and the fallback.
* ``messages`` (vLLM ``EmbeddingChatRequest``, providers.md 1.8): one chat-rendered prompt, one
  vector. Body: system instruction, user parts (images first, then text), an empty assistant turn,
  ``continue_final_message: true``, ``add_special_tokens: true``. ``normalize`` is never sent (newest
  vLLM rejects it). Items are fanned out concurrently under a limit; results keep input order.

Instruction-aware models get their task instruction from the catalog: e5-style models prefix queries
with ``Instruct: {task}\nQuery: {q}`` (documents go raw). Chat-template models (Qwen3-VL-Embedding)
embed text documents through ``input`` like any text model (batched: one request per batch, which
matters under per-minute request limits), while text *queries* go through ``messages`` with the
query instruction as the system turn, so that they land in the same space as the images they are
meant to find. An explicit document instruction also routes documents through ``messages``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from stackit_chutes_core import catalog
from stackit_chutes_core._capability import refuses_images
from stackit_chutes_core._inputs import check_embedding_items, check_texts
from stackit_chutes_core._tracking import report_usage
from stackit_chutes_core._transport import invalid_response
from stackit_chutes_core._vectors import apost_vectors, decode_vector, encoding_for, post_vectors
from stackit_chutes_core.catalog import ModelInfo
from stackit_chutes_core.errors import (
    CapabilityError,
    EmbeddingItemsError,
    InvalidInputError,
)
from stackit_chutes_core.routing import Endpoint
from stackit_chutes_core.types import InputRole, Usage

__all__ = [
    "EmbeddingItem",
    "EmbeddingResult",
    "InputRole",
    "aembed_items",
    "aembed_texts",
    "build_input_body",
    "build_messages_body",
    "embed_items",
    "embed_texts",
    "format_query",
    "uses_chat_template",
]

_PATH = "/embeddings"
_T = TypeVar("_T")
_R = TypeVar("_R")
DEFAULT_BATCH_SIZE = 64
DEFAULT_MAX_CONCURRENCY = 8


@dataclass(frozen=True, slots=True)
class EmbeddingItem:
    """One multimodal input: text, an image URL/data URI, or both (one embedding)."""

    text: str | None = None
    image_url: str | None = None
    """``http(s)`` URL or ``data:`` URI; see :func:`stackit_chutes_core._images.to_image_url`."""


@dataclass(slots=True)
class EmbeddingResult:
    """Vectors in input order, plus the summed usage."""

    vectors: list[list[float]]
    usage: Usage | None
    model: str


def uses_chat_template(info: ModelInfo | None) -> bool:
    """Whether the model embeds through the chat-template ``messages`` form (Qwen3-VL-Embedding)."""
    return info is not None and (info.document_instruction is not None or info.capabilities.image_input)


def format_query(text: str, instruction: str | None) -> str:
    r"""e5-style query: ``Instruct: {task}\\nQuery: {q}`` (unchanged without an instruction)."""
    return f"Instruct: {instruction}\nQuery: {text}" if instruction else text


def _instruction(info: ModelInfo | None, role: InputRole, override: str | bool | None) -> str | None:
    if override is False:
        return None
    if isinstance(override, str):
        return override
    if info is None:
        return None
    return info.query_instruction if role == "query" else info.document_instruction


def _check_dimensions(endpoint: Endpoint, dimensions: int | None) -> None:
    if dimensions is None:
        return
    if not isinstance(dimensions, int) or isinstance(dimensions, bool) or dimensions < 1:
        raise InvalidInputError(f"dimensions must be a positive integer, got {dimensions!r}.")
    info = endpoint.route.info
    if info is None:
        return
    if not info.accepts_dimensions:
        able = [m.qualified_name for m in catalog.all_models(kind="embedding") if m.accepts_dimensions]
        raise CapabilityError(
            f"Model {info.qualified_name!r} does not accept `dimensions` (it always returns "
            f"{info.embedding_dimensions}-d vectors). Models that do: {', '.join(able)}."
        )
    if info.embedding_dimensions and dimensions > info.embedding_dimensions:
        raise CapabilityError(
            f"dimensions={dimensions} exceeds {info.qualified_name!r}'s native size {info.embedding_dimensions}."
        )


def _check_images(endpoint: Endpoint, items: Sequence[EmbeddingItem], allow_unverified: bool) -> None:
    """Refuse images only for a row documented (and dated) as text-only; the user's flag overrides."""
    info = endpoint.route.info
    if info is None or allow_unverified or not any(item.image_url for item in items) or not refuses_images(info):
        return
    able = [m.qualified_name for m in catalog.all_models(kind="embedding") if m.capabilities.image_input]
    raise CapabilityError(
        f"Model {info.qualified_name!r} embeds text only (per {info.source}, {info.as_of}). Embedding models "
        f"that accept images: {', '.join(able)}. If it does accept them, pass allow_unverified_images=True."
    )


def build_input_body(endpoint: Endpoint, texts: Sequence[str], dimensions: int | None = None) -> dict[str, Any]:
    """The ``input`` body for a batch of texts."""
    body: dict[str, Any] = {"model": endpoint.model_id, "input": list(texts), "encoding_format": encoding_for(endpoint)}
    if dimensions is not None:
        body["dimensions"] = dimensions
    return body


def build_messages_body(
    endpoint: Endpoint, item: EmbeddingItem, instruction: str | None, dimensions: int | None = None
) -> dict[str, Any]:
    """The vLLM chat-style ``messages`` body for one item (providers.md 1.8)."""
    user: list[dict[str, Any]] = []
    if item.image_url:
        user.append({"type": "image_url", "image_url": {"url": item.image_url}})
    user.append({"type": "text", "text": item.text or ""})
    messages: list[dict[str, Any]] = []
    if instruction:
        messages.append({"role": "system", "content": [{"type": "text", "text": instruction}]})
    messages.append({"role": "user", "content": user})
    messages.append({"role": "assistant", "content": [{"type": "text", "text": ""}]})
    body: dict[str, Any] = {
        "model": endpoint.model_id,
        "messages": messages,
        "encoding_format": encoding_for(endpoint),
        "continue_final_message": True,
        "add_special_tokens": True,
    }
    if dimensions is not None:
        body["dimensions"] = dimensions
    return body


def _vector(value: Any, position: int, endpoint: Endpoint) -> list[float]:
    """One embedding as floats; anything that is not a flat list of numbers is rejected."""
    try:
        if isinstance(value, str):  # base64 little-endian float32 (asked for where supported)
            return decode_vector(value, endpoint)
        if isinstance(value, list):  # already the decoded JSON list: checked in C (sum), not copied
            sum(value)
            return value
        raise ValueError(f"a {type(value).__name__}" if value is not None else "missing")
    except (TypeError, ValueError) as exc:
        what = "non-numeric values" if isinstance(exc, TypeError) else exc
        raise invalid_response(endpoint, f"data[{position}].embedding is not a vector of numbers ({what})") from None


def _vectors_of(
    raw: dict[str, Any], expected: int, endpoint: Endpoint, dimensions: int | None = None
) -> tuple[list[list[float]], Usage | None]:
    """The vectors of an embeddings answer in input order, validated.

    One vector per input, each ``index`` exactly once, all of one size (``dimensions`` if asked for).
    """
    data = raw.get("data")
    summary = {k: v for k, v in raw.items() if k != "data"}
    if not isinstance(data, list) or len(data) != expected:
        got = len(data) if isinstance(data, list) else f"a {type(data).__name__}"
        raise invalid_response(endpoint, f"expected {expected} embeddings, the provider returned {got}", summary)
    slots: list[list[float] | None] = [None] * expected
    for position, item in enumerate(data):
        index = item.get("index") if isinstance(item, Mapping) else None
        if type(index) is not int or not 0 <= index < expected or slots[index] is not None:
            problem = "a duplicate" if type(index) is int and 0 <= index < expected else "missing or out of range"
            raise invalid_response(endpoint, f"data[{position}].index {index!r} is {problem}", summary)
        slots[index] = _vector(item.get("embedding"), position, endpoint)
    vectors = [v for v in slots if v is not None]
    _check_sizes(vectors, dimensions, endpoint)
    return vectors, Usage.from_wire(raw.get("usage"), provider=endpoint.provider, model=endpoint.model_id)


def _check_sizes(vectors: Sequence[list[float]], dimensions: int | None, endpoint: Endpoint) -> None:
    if not vectors:
        return
    size = dimensions or len(vectors[0])
    for position, vector in enumerate(vectors):
        if len(vector) != size or not vector:
            asked = f" (asked for dimensions={dimensions})" if dimensions else ""
            raise invalid_response(
                endpoint, f"embedding {position} has {len(vector)} dimensions, expected {size}{asked}"
            )


def _sum_usage(usages: Sequence[Usage | None]) -> Usage | None:
    present = [u for u in usages if u is not None]
    if not present:
        return None
    return Usage(
        input_tokens=sum(u.input_tokens for u in present),
        output_tokens=0,
        total_tokens=sum(u.total_tokens for u in present),
    )


def _batches(texts: Sequence[str], size: int) -> list[Sequence[str]]:
    if size < 1:
        raise InvalidInputError(f"batch size must be >= 1, got {size}.")
    return [texts[i : i + size] for i in range(0, len(texts), size)]


def _thread_map(run: Callable[[_T], _R], args: Sequence[_T], max_concurrency: int) -> list[_R]:
    """``map`` on up to ``max_concurrency`` threads (inline for a single argument)."""
    if len(args) <= 1:
        return [run(arg) for arg in args]
    with ThreadPoolExecutor(max_workers=max(1, min(max_concurrency, len(args)))) as pool:
        return list(pool.map(run, args))


def _joined(endpoint: Endpoint, results: Sequence[tuple[list[list[float]], Usage | None]]) -> EmbeddingResult:
    """Batch results in order as one result (one vector size across batches), reported to the usage ledgers.

    Every successful embedding call ends here exactly once, so this is where cost tracking sees it
    (LangChain embeddings fire no callback a handler could count).
    """
    vectors = [v for batch, _ in results for v in batch]
    _check_sizes(vectors, None, endpoint)
    usage = _sum_usage([u for _, u in results])
    report_usage(endpoint.route.qualified_name, usage, "embedding", requests=len(results))
    return EmbeddingResult(vectors, usage, endpoint.model_id)


def _text_plan(
    endpoint: Endpoint, texts: Sequence[str], role: InputRole, instruction: str | bool | None
) -> tuple[list[str], str | None, bool]:
    """``(texts to send, system instruction, via messages?)`` for a text embedding call."""
    info = endpoint.route.info
    task = _instruction(info, role, instruction)
    if uses_chat_template(info):
        if role == "query" or isinstance(instruction, str):
            return list(texts), task, True
        return list(texts), None, False
    return ([format_query(t, task) for t in texts] if role == "query" else list(texts)), None, False


def embed_texts(
    endpoint: Endpoint,
    texts: Sequence[str],
    *,
    role: InputRole = "document",
    instruction: str | bool | None = None,
    dimensions: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
) -> EmbeddingResult:
    """Embed texts, in batches of ``batch_size``, at most ``max_concurrency`` batches at a time.

    ``role="query"`` applies the model's query instruction; ``instruction`` overrides it (``False``
    disables it).
    """
    check_texts(texts)
    _check_dimensions(endpoint, dimensions)
    if not texts:
        return EmbeddingResult([], None, endpoint.model_id)
    prepared, system, via_messages = _text_plan(endpoint, texts, role, instruction)
    if via_messages:
        items = [EmbeddingItem(text=t) for t in prepared]
        return embed_items(
            endpoint, items, instruction=system or False, dimensions=dimensions, max_concurrency=max_concurrency
        )
    batches = _batches(prepared, batch_size)

    def run(batch: Sequence[str]) -> tuple[list[list[float]], Usage | None]:
        return _vectors_of(
            post_vectors(endpoint, _PATH, build_input_body(endpoint, batch, dimensions)),
            len(batch),
            endpoint,
            dimensions,
        )

    return _joined(endpoint, _thread_map(run, batches, max_concurrency))


async def aembed_texts(
    endpoint: Endpoint,
    texts: Sequence[str],
    *,
    role: InputRole = "document",
    instruction: str | bool | None = None,
    dimensions: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    limiter: asyncio.Semaphore | None = None,
) -> EmbeddingResult:
    """Async :func:`embed_texts`.

    ``limiter``: a semaphore shared with other concurrent calls (one overall limit, e.g. for
    batches gathered by a framework); it replaces ``max_concurrency`` when given.
    """
    check_texts(texts)
    _check_dimensions(endpoint, dimensions)
    if not texts:
        return EmbeddingResult([], None, endpoint.model_id)
    prepared, system, via_messages = _text_plan(endpoint, texts, role, instruction)
    if via_messages:
        items = [EmbeddingItem(text=t) for t in prepared]
        return await aembed_items(
            endpoint,
            items,
            instruction=system or False,
            dimensions=dimensions,
            max_concurrency=max_concurrency,
            limiter=limiter,
        )
    limit = limiter or asyncio.Semaphore(max(1, max_concurrency))

    async def run(batch: Sequence[str]) -> tuple[list[list[float]], Usage | None]:
        async with limit:
            raw = await apost_vectors(endpoint, _PATH, build_input_body(endpoint, batch, dimensions))
        return _vectors_of(raw, len(batch), endpoint, dimensions)

    return _joined(endpoint, await asyncio.gather(*(run(b) for b in _batches(prepared, batch_size))))


def _collect(
    endpoint: Endpoint, outcomes: Sequence[tuple[list[float], Usage | None] | BaseException]
) -> EmbeddingResult:
    failures = {i: o for i, o in enumerate(outcomes) if isinstance(o, BaseException)}
    if failures:
        if len(failures) == len(outcomes) and len({type(e) for e in failures.values()}) == 1:
            raise failures[0]  # one cause for everything (bad key, wrong model): raise it as is
        partial = [None if isinstance(o, BaseException) else o[0] for o in outcomes]
        raise EmbeddingItemsError(
            provider=endpoint.provider, model=endpoint.model_id, failures=failures, partial=partial
        )
    return _joined(endpoint, [([o[0]], o[1]) for o in outcomes if not isinstance(o, BaseException)])


def embed_items(
    endpoint: Endpoint,
    items: Sequence[EmbeddingItem],
    *,
    role: InputRole = "document",
    instruction: str | bool | None = None,
    dimensions: int | None = None,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    allow_unverified_images: bool = False,
    on_item_done: Callable[[int], object] | None = None,
) -> EmbeddingResult:
    """Embed multimodal items, one ``messages`` request each, at most ``max_concurrency`` at once.

    Raises :class:`EmbeddingItemsError` (with every failed index and the vectors that succeeded)
    when some items fail. ``on_item_done(index)`` is called as each item finishes (succeeded or
    failed), from a worker thread, e.g. to advance a progress bar.
    """
    check_embedding_items(items)
    _check_dimensions(endpoint, dimensions)
    _check_images(endpoint, items, allow_unverified_images)
    system = _instruction(endpoint.route.info, role, instruction)

    def run(index: int) -> tuple[list[float], Usage | None] | BaseException:
        try:
            body = build_messages_body(endpoint, items[index], system, dimensions)
            vectors, usage = _vectors_of(post_vectors(endpoint, _PATH, body), 1, endpoint, dimensions)
        except Exception as exc:
            return exc
        finally:
            if on_item_done is not None:
                on_item_done(index)
        return vectors[0], usage

    return _collect(endpoint, _thread_map(run, range(len(items)), max_concurrency))


async def aembed_items(
    endpoint: Endpoint,
    items: Sequence[EmbeddingItem],
    *,
    role: InputRole = "document",
    instruction: str | bool | None = None,
    dimensions: int | None = None,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    allow_unverified_images: bool = False,
    on_item_done: Callable[[int], object] | None = None,
    limiter: asyncio.Semaphore | None = None,
) -> EmbeddingResult:
    """Async :func:`embed_items`.

    ``limiter``: a semaphore shared with other concurrent calls (one overall limit); it replaces
    ``max_concurrency`` when given.
    """
    check_embedding_items(items)
    _check_dimensions(endpoint, dimensions)
    _check_images(endpoint, items, allow_unverified_images)
    system = _instruction(endpoint.route.info, role, instruction)
    limit = limiter or asyncio.Semaphore(max(1, max_concurrency))

    async def run(index: int) -> tuple[list[float], Usage | None] | BaseException:
        try:
            body = build_messages_body(endpoint, items[index], system, dimensions)
            async with limit:
                raw = await apost_vectors(endpoint, _PATH, body)
            vectors, usage = _vectors_of(raw, 1, endpoint, dimensions)
        except Exception as exc:
            return exc
        finally:
            if on_item_done is not None:
                on_item_done(index)
        return vectors[0], usage

    outcomes = await asyncio.gather(*(run(i) for i in range(len(items))))
    return _collect(endpoint, outcomes)
