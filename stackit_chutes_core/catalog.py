"""The model catalog: what each known model is, can do and costs.

The catalog is packaged data (``data/catalog.json``) covering every model of the two Mastra provider
pages the project was seeded from, plus the providers' current models. It never blocks a model: an id
the catalog does not know still works, and :func:`lookup` simply answers ``None`` ("unknown").

Every row names its ``source`` and ``as_of`` date, and which facts the source states (``documented``):
the package refuses a request before sending only on documented, dated facts, and otherwise lets the
provider decide. Chutes' catalog changes monthly, so :func:`merge_listing` (and
``refresh_catalog``) merges a live ``GET /models`` listing over the packaged rows at run time, never at
import; a listing persisted with ``refresh_catalog(..., persist=True)`` is merged lazily at the first
lookup of a later process while fresh. Rows declared with :func:`register_model` always win.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from typing import Any, Literal

ModelKind = Literal["chat", "embedding"]
ModelStatus = Literal["active", "deprecated", "retired", "unlisted"]
"""``unlisted``: absent from the provider's latest public listing (kept so old ids still resolve)."""

__all__ = [
    "Capabilities",
    "ModelInfo",
    "Price",
    "RateLimits",
    "all_models",
    "lookup",
    "merge_listing",
    "register_model",
    "resolve_alias",
    "unregister_model",
]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a model can do, as far as the provider documents it."""

    tools: bool = False
    """Accepts ``tools`` / ``tool_choice`` and returns ``tool_calls``."""
    structured_output: bool = False
    """Honours ``response_format`` of type ``json_schema``."""
    reasoning: bool = False
    """Returns a reasoning trace (``reasoning``, ``reasoning_content`` or ``<think>`` tags)."""
    image_input: bool = False
    """Accepts images (chat: ``image_url`` parts; embeddings: the ``messages`` payload)."""
    reasoning_effort: tuple[str, ...] = ()
    """Accepted ``reasoning_effort`` values; empty when the model has no effort control."""
    reasoning_in_content: bool = False
    """Reasoning arrives inside ``content`` as ``<think>...</think>``, possibly without the opening
    tag (R1-style models whose chat template opens it in the prompt)."""
    json_mode: bool = False
    """Honours ``response_format`` of type ``json_object`` (Chutes' ``json_mode`` feature)."""


@dataclass(frozen=True, slots=True)
class Price:
    """Price per one million tokens, in the currency the provider bills in."""

    input: Decimal
    """Price of one million prompt tokens."""
    output: Decimal
    """Price of one million generated tokens (0 for embeddings, which bill input tokens only)."""
    currency: str
    """ISO 4217 code of the currency the *source* states (not necessarily the billing currency:
    STACKIT bills in EUR, but the only public per-token figures are models.dev's USD)."""
    source: str = ""
    """Where the figures come from."""
    as_of: str | None = None
    """ISO date of the source."""


@dataclass(frozen=True, slots=True)
class RateLimits:
    """A provider's per-model rate limits, as documented (STACKIT: per project and model)."""

    requests_per_minute: int | None = None
    """Requests per minute; ``None`` when not documented."""
    tokens_per_minute: int | None = None
    """Tokens per minute; STACKIT counts ``prompt + 5 x generated`` tokens (prompt only for embeddings)."""
    source: str = ""
    """Where the figures come from."""
    as_of: str | None = None
    """ISO date of the source."""


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One catalog row: a model as one provider serves it."""

    provider: str
    """Provider name, e.g. ``"stackit"`` or ``"chutes"``."""
    id: str
    """The real model id, sent verbatim as ``model`` on the wire."""
    kind: ModelKind
    aliases: tuple[str, ...] = ()
    """Other names that resolve to this model (e.g. Mastra's legacy short names)."""
    context_window: int | None = None
    max_output_tokens: int | None = None
    capabilities: Capabilities = field(default_factory=Capabilities)
    input_modalities: tuple[str, ...] = ("text",)
    embedding_dimensions: int | None = None
    """Native embedding size (embedding models only)."""
    accepts_dimensions: bool = False
    """Whether the ``dimensions`` request field (Matryoshka truncation) is accepted."""
    query_instruction: str | None = None
    """Default task instruction for queries (``Instruct: {task}\\nQuery: {q}`` for e5 models)."""
    document_instruction: str | None = None
    """Default instruction for documents/images sent through the ``messages`` payload."""
    price: Price | None = None
    status: ModelStatus = "active"
    replacement: str | None = None
    """For deprecated/retired models: the id the provider recommends instead."""
    notes: str = ""
    source: str = ""
    """Where this row's facts come from (documents, listings, captures), for auditing."""
    as_of: str | None = None
    """ISO date of the newest evidence behind the row."""
    documented: frozenset[str] = frozenset()
    """Facts the source states explicitly (``input_modalities``, ``tools``, ``structured_output``,
    ``json_mode``, ``reasoning``, ``reasoning_effort``, ``context_window``, ``max_output_tokens``,
    ``price``); others are inferred or defaults. Requests are refused before sending only on
    documented, dated facts: see :meth:`documents`."""
    rate_limits: RateLimits | None = None
    """Documented per-model rate limits, read by the rate limiter; ``None`` when unknown."""

    def documents(self, fact: str) -> bool:
        """Whether ``fact`` is stated by a dated source (and may therefore refuse a request)."""
        return self.as_of is not None and fact in self.documented

    @property
    def qualified_name(self) -> str:
        """The routing string for this model, e.g. ``"stackit/openai/gpt-oss-120b"``."""
        return f"{self.provider}/{self.id}"


_lock = threading.Lock()
_rows: dict[tuple[str, str], ModelInfo] | None = None
_aliases: dict[tuple[str, str], str] = {}
_user_rows: dict[tuple[str, str], ModelInfo] = {}


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value))


def _price_from_json(price: Mapping[str, Any] | None) -> Price | None:
    if not price:
        return None
    return Price(
        _decimal(price["input"]),
        _decimal(price["output"]),
        price["currency"],
        source=price.get("source", ""),
        as_of=price.get("as_of"),
    )


def _limits_from_json(limits: Mapping[str, Any] | None) -> RateLimits | None:
    if not limits:
        return None
    return RateLimits(
        requests_per_minute=limits.get("requests_per_minute"),
        tokens_per_minute=limits.get("tokens_per_minute"),
        source=limits.get("source", ""),
        as_of=limits.get("as_of"),
    )


def _row_from_json(raw: Mapping[str, Any]) -> ModelInfo:
    caps = raw.get("capabilities", {})
    return ModelInfo(
        provider=raw["provider"],
        id=raw["id"],
        kind=raw["kind"],
        aliases=tuple(raw.get("aliases", ())),
        context_window=raw.get("context_window"),
        max_output_tokens=raw.get("max_output_tokens"),
        capabilities=Capabilities(
            tools=bool(caps.get("tools", False)),
            structured_output=bool(caps.get("structured_output", False)),
            reasoning=bool(caps.get("reasoning", False)),
            image_input=bool(caps.get("image_input", False)),
            reasoning_effort=tuple(caps.get("reasoning_effort", ())),
            reasoning_in_content=bool(caps.get("reasoning_in_content", False)),
            json_mode=bool(caps.get("json_mode", False)),
        ),
        input_modalities=tuple(raw.get("input_modalities", ("text",))),
        embedding_dimensions=raw.get("embedding_dimensions"),
        accepts_dimensions=bool(raw.get("accepts_dimensions", False)),
        query_instruction=raw.get("query_instruction"),
        document_instruction=raw.get("document_instruction"),
        price=_price_from_json(raw.get("price")),
        status=raw.get("status", "active"),
        replacement=raw.get("replacement"),
        notes=raw.get("notes", ""),
        source=raw.get("source", ""),
        as_of=raw.get("as_of"),
        documented=frozenset(raw.get("documented", ())),
        rate_limits=_limits_from_json(raw.get("rate_limits")),
    )


def _load() -> dict[tuple[str, str], ModelInfo]:
    global _rows
    if _rows is None:
        with _lock:
            if _rows is None:
                text = resources.files(__package__).joinpath("data/catalog.json").read_text("utf-8")
                rows: dict[tuple[str, str], ModelInfo] = {}
                for raw in json.loads(text)["models"]:
                    info = _row_from_json(raw)
                    rows[(info.provider, info.id)] = info
                    for alias in info.aliases:
                        _aliases[(info.provider, alias)] = info.id
                _apply_cached_listings(rows)
                _rows = rows
    return _rows


def _apply_cached_listings(rows: dict[tuple[str, str], ModelInfo]) -> None:
    """Merge listings an earlier ``refresh_catalog(..., persist=True)`` saved, when still fresh.

    Runs once, at the first lookup (never at import, never over the network).
    """
    from stackit_chutes_core import _listing

    try:
        files = sorted(_listing.cache_dir().glob("catalog-*.json"))
    except OSError:
        return
    for path in files:
        listing = _listing.read_cache(path)
        if listing is not None:
            for info in _listing.merge_entries(rows, listing):
                rows[(info.provider, info.id)] = info


def register_model(info: ModelInfo) -> None:
    """Declare a model (or override a catalog row) for this process.

    A registered row always wins: lookups return it, and ``refresh_catalog`` never overwrites it.
    Use it to state a capability the catalog lacks, e.g.
    ``register_model(replace(lookup("chutes", m), capabilities=replace(caps, image_input=True)))``.
    """
    with _lock:
        _user_rows[(info.provider, info.id)] = info


def unregister_model(provider: str, model_id: str) -> None:
    """Drop a row added by :func:`register_model` (the catalog's own row, if any, shows again)."""
    with _lock:
        _user_rows.pop((provider, model_id), None)


def resolve_alias(provider: str, model_id: str) -> str:
    """Return the real id for ``model_id`` (itself when it is not an alias)."""
    _load()
    return _aliases.get((provider, model_id), model_id)


def lookup(provider: str, model_id: str) -> ModelInfo | None:
    """Return the catalog row for a model, or ``None`` when the catalog does not know it."""
    rows = _load()
    real = resolve_alias(provider, model_id)
    return _user_rows.get((provider, real)) or rows.get((provider, real))


def all_models(provider: str | None = None, kind: ModelKind | None = None) -> list[ModelInfo]:
    """Every known model, optionally filtered by provider and kind, in catalog order."""
    rows = _load()
    with _lock:
        snapshot = {**rows, **_user_rows}
    return [
        info
        for info in snapshot.values()
        if (provider is None or info.provider == provider) and (kind is None or info.kind == kind)
    ]


def merge_listing(
    provider: str,
    entries: Iterable[Mapping[str, Any]],
    *,
    currency: str,
    base_url: str = "",
    fetched_at: float | None = None,
) -> list[ModelInfo]:
    """Merge a provider's live ``GET /models`` entries into the in-memory catalog.

    Fields the listing carries (context length, features, modalities, prices) override the packaged
    row and become documented facts dated by the fetch; fields it lacks keep their packaged value.
    Rows set with :func:`register_model` are never overwritten. Returns the merged rows.
    """
    from stackit_chutes_core import _listing

    rows = _load()
    listing = _listing.CachedListing(
        provider=provider,
        base_url=base_url,
        currency=currency,
        fetched_at=time.time() if fetched_at is None else fetched_at,
        entries=tuple(entries),
    )
    merged = list(_listing.merge_entries(rows, listing))
    with _lock:
        for info in merged:
            rows[(provider, info.id)] = info
    return merged
