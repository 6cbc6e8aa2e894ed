"""The model catalog: what each known model is, can do and costs.

The catalog is packaged data (``data/catalog.json``) covering every model of the two Mastra provider
pages the project was seeded from, plus the providers' current models. It never blocks a model: an id
the catalog does not know still works, and :func:`lookup` simply answers ``None`` ("unknown").

Chutes' catalog changes monthly, so :func:`refresh_from_models_endpoint` merges a live ``GET /models``
listing over the packaged rows at run time (never at import).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from importlib import resources
from typing import Any, Literal

ModelKind = Literal["chat", "embedding"]
ModelStatus = Literal["active", "deprecated", "retired"]

__all__ = [
    "Capabilities",
    "ModelInfo",
    "Price",
    "all_models",
    "lookup",
    "refresh_from_models_endpoint",
    "resolve_alias",
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


@dataclass(frozen=True, slots=True)
class Price:
    """Price per one million tokens, in the currency the provider bills in."""

    input: Decimal
    output: Decimal
    currency: str
    """ISO 4217 code: STACKIT bills in ``EUR``, Chutes in ``USD``."""


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

    @property
    def qualified_name(self) -> str:
        """The routing string for this model, e.g. ``"stackit/openai/gpt-oss-120b"``."""
        return f"{self.provider}/{self.id}"


_lock = threading.Lock()
_rows: dict[tuple[str, str], ModelInfo] | None = None
_aliases: dict[tuple[str, str], str] = {}


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value))


def _row_from_json(raw: Mapping[str, Any]) -> ModelInfo:
    caps = raw.get("capabilities", {})
    price = raw.get("price")
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
        ),
        input_modalities=tuple(raw.get("input_modalities", ("text",))),
        embedding_dimensions=raw.get("embedding_dimensions"),
        accepts_dimensions=bool(raw.get("accepts_dimensions", False)),
        query_instruction=raw.get("query_instruction"),
        document_instruction=raw.get("document_instruction"),
        price=(Price(_decimal(price["input"]), _decimal(price["output"]), price["currency"]) if price else None),
        status=raw.get("status", "active"),
        replacement=raw.get("replacement"),
        notes=raw.get("notes", ""),
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
                _rows = rows
    return _rows


def resolve_alias(provider: str, model_id: str) -> str:
    """Return the real id for ``model_id`` (itself when it is not an alias)."""
    _load()
    return _aliases.get((provider, model_id), model_id)


def lookup(provider: str, model_id: str) -> ModelInfo | None:
    """Return the catalog row for a model, or ``None`` when the catalog does not know it."""
    rows = _load()
    return rows.get((provider, resolve_alias(provider, model_id)))


def all_models(provider: str | None = None, kind: ModelKind | None = None) -> list[ModelInfo]:
    """Every known model, optionally filtered by provider and kind, in catalog order."""
    rows = _load()
    with _lock:
        snapshot = list(rows.values())
    return [
        info
        for info in snapshot
        if (provider is None or info.provider == provider) and (kind is None or info.kind == kind)
    ]


def _live_price(pricing: Mapping[str, Any], currency: str) -> Price | None:
    prompt, completion = pricing.get("prompt"), pricing.get("completion")
    if prompt is None or completion is None:
        return None
    try:
        return Price(_decimal(prompt), _decimal(completion), currency)
    except ArithmeticError:  # decimal.InvalidOperation on a malformed number
        return None


def _merge_live_entry(provider: str, entry: Mapping[str, Any], currency: str) -> ModelInfo | None:
    model_id = entry.get("id")
    if not isinstance(model_id, str) or not model_id:
        return None
    # Live ids are real ids: look them up exactly, never through an alias.
    known = _load().get((provider, model_id))
    base = known or ModelInfo(provider=provider, id=model_id, kind="chat")
    caps = base.capabilities
    features = entry.get("supported_features")
    if features:
        names = set(features)
        caps = replace(
            caps,
            tools="tools" in names,
            structured_output="structured_outputs" in names,
            reasoning="reasoning" in names,
        )
    live_modalities = entry.get("input_modalities")
    modalities = tuple(live_modalities) if live_modalities else base.input_modalities
    if live_modalities:
        caps = replace(caps, image_input="image" in modalities)
    context = entry.get("context_length") or entry.get("max_model_len")
    return replace(
        base,
        context_window=int(context) if context else base.context_window,
        max_output_tokens=entry.get("max_output_length") or base.max_output_tokens,
        capabilities=caps,
        input_modalities=modalities,
        price=_live_price(entry.get("pricing") or {}, currency) or base.price,
    )


def refresh_from_models_endpoint(
    provider: str, entries: Iterable[Mapping[str, Any]], *, currency: str
) -> list[ModelInfo]:
    """Merge a provider's live ``GET /models`` entries into the in-memory catalog.

    Fields the listing carries (context length, features, modalities, prices) override the packaged
    row; fields it lacks keep their packaged value. Returns the merged rows.
    """
    rows = _load()
    merged: list[ModelInfo] = []
    for entry in entries:
        info = _merge_live_entry(provider, entry, currency)
        if info is not None:
            with _lock:
                rows[(provider, info.id)] = info
            merged.append(info)
    return merged
