"""A provider's ``GET /models`` listing merged into catalog rows, and the on-disk listing cache.

Pure data work, no network: :mod:`stackit_chutes_core._discovery` fetches, this module merges and
persists, and :mod:`stackit_chutes_core.catalog` loads fresh cache files lazily at its first lookup.

The listing shape is Chutes' (``juspay/neurolink`` capture of 2026-09-28; models.dev's
``sync/providers/chutes.ts`` parses the same fields): ``id``, ``context_length`` (or only
``max_model_len``), ``max_output_length``, ``input_modalities``, ``supported_features``
(``json_mode``, ``tools``, ``structured_outputs``, ``reasoning``) and ``pricing`` (``prompt``,
``completion`` in USD per million tokens). STACKIT's listing carries ids only.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stackit_chutes_core.catalog import ModelInfo, Price

__all__ = [
    "CACHE_DIR_ENV",
    "DEFAULT_MAX_AGE_S",
    "CachedListing",
    "cache_dir",
    "cache_file",
    "merge_entry",
    "read_cache",
    "write_cache",
]

CACHE_DIR_ENV = "STACKIT_CHUTES_CACHE_DIR"
"""Overrides the cache directory (default ``$XDG_CACHE_HOME/stackit-chutes``)."""
DEFAULT_MAX_AGE_S = 24 * 3600.0
"""A persisted listing older than this is ignored at load (Chutes prices move within weeks)."""
_CACHE_VERSION = 1
_FEATURES = {
    "tools": "tools",
    "structured_outputs": "structured_output",
    "json_mode": "json_mode",
    "reasoning": "reasoning",
}


@dataclass(frozen=True, slots=True)
class CachedListing:
    """One persisted listing: the raw entries, re-merged at load so old caches follow new merge rules."""

    provider: str
    base_url: str
    currency: str
    fetched_at: float
    """Unix time of the fetch."""
    entries: tuple[Mapping[str, Any], ...]


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$STACKIT_CHUTES_CACHE_DIR``, else ``$XDG_CACHE_HOME/stackit-chutes``, else ``~/.cache/stackit-chutes``."""
    env = os.environ if environ is None else environ
    if env.get(CACHE_DIR_ENV):
        return Path(env[CACHE_DIR_ENV])
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "stackit-chutes"


def cache_file(provider: str, directory: Path | None = None) -> Path:
    """The cache file of ``provider``'s listing."""
    return (directory or cache_dir()) / f"catalog-{provider}.json"


def write_cache(path: Path, listing: CachedListing) -> None:
    """Write ``listing`` atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "version": _CACHE_VERSION,
        "provider": listing.provider,
        "base_url": listing.base_url,
        "currency": listing.currency,
        "fetched_at": listing.fetched_at,
        "entries": [dict(e) for e in listing.entries],
    }
    fd, tmp = tempfile.mkstemp(prefix=".catalog-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_cache(path: Path, *, max_age_s: float = DEFAULT_MAX_AGE_S, now: float | None = None) -> CachedListing | None:
    """The listing in ``path`` when it exists, is well formed and younger than ``max_age_s``; else ``None``.

    A corrupt or foreign file is ignored rather than raised: the packaged catalog still works.
    """
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or raw.get("version") != _CACHE_VERSION:
        return None
    fetched_at, entries = raw.get("fetched_at"), raw.get("entries")
    provider, currency = raw.get("provider"), raw.get("currency")
    if not isinstance(fetched_at, (int, float)) or not isinstance(entries, list):
        return None
    if not isinstance(provider, str) or not isinstance(currency, str):
        return None
    age = (time.time() if now is None else now) - fetched_at
    if age < 0 or age > max_age_s:
        return None
    return CachedListing(
        provider=provider,
        base_url=str(raw.get("base_url", "")),
        currency=currency,
        fetched_at=float(fetched_at),
        entries=tuple(e for e in entries if isinstance(e, Mapping)),
    )


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _live_price(pricing: Any, currency: str, source: str, as_of: str) -> Price | None:
    from stackit_chutes_core.catalog import Price

    if not isinstance(pricing, Mapping):
        return None
    prompt, completion = pricing.get("prompt"), pricing.get("completion")
    if prompt is None or completion is None:
        return None
    try:
        values = Decimal(str(prompt)), Decimal(str(completion))
    except (InvalidOperation, ValueError):
        return None
    if not all(v.is_finite() and v >= 0 for v in values):
        return None
    return Price(values[0], values[1], currency, source=source, as_of=as_of)


def merge_entry(
    base: ModelInfo | None, provider: str, entry: Mapping[str, Any], *, currency: str, source: str, as_of: str
) -> ModelInfo | None:
    """``base`` (the packaged row, or a new chat row) updated with what ``entry`` states.

    Fields the entry carries override the row and become documented facts dated ``as_of``; fields it
    lacks (``null`` or absent, as on Chutes' Mistral-Nemo entry) keep their packaged value and status.
    A listed model is ``active``: being in the listing is the evidence.
    """
    from stackit_chutes_core.catalog import ModelInfo

    model_id = entry.get("id")
    if not isinstance(model_id, str) or not model_id:
        return None
    row = base or ModelInfo(provider=provider, id=model_id, kind="chat")
    caps, stated = row.capabilities, set()
    features = entry.get("supported_features")
    if isinstance(features, list) and features:
        names = {str(f) for f in features}
        caps = replace(
            caps,
            tools="tools" in names,
            structured_output="structured_outputs" in names,
            json_mode="json_mode" in names,
            reasoning="reasoning" in names,
        )
        stated |= set(_FEATURES.values())
    modalities = row.input_modalities
    live_modalities = entry.get("input_modalities")
    if isinstance(live_modalities, list) and live_modalities:
        modalities = tuple(str(m) for m in live_modalities)
        caps = replace(caps, image_input="image" in modalities)
        stated.add("input_modalities")
    context = _positive_int(entry.get("context_length")) or _positive_int(entry.get("max_model_len"))
    max_output = _positive_int(entry.get("max_output_length"))
    price = _live_price(entry.get("pricing"), currency, source, as_of)
    stated |= {name for name, value in (("context_window", context), ("max_output_tokens", max_output)) if value}
    if price is not None:
        stated.add("price")
    status = "active" if row.status in ("active", "unlisted") else row.status
    if not stated:
        return replace(row, status=status)
    return replace(
        row,
        status=status,
        context_window=context or row.context_window,
        max_output_tokens=max_output or row.max_output_tokens,
        capabilities=caps,
        input_modalities=modalities,
        price=price or row.price,
        source=f"{source}; earlier: {row.source}" if row.source else source,
        as_of=as_of,
        documented=row.documented | stated,
    )


def listing_source(provider: str, base_url: str, fetched_at: float) -> tuple[str, str]:
    """The ``(source, as_of)`` pair recorded for facts from a listing fetched at ``fetched_at``."""
    as_of = time.strftime("%Y-%m-%d", time.gmtime(fetched_at))
    return f"{provider} GET {base_url.rstrip('/')}/models fetched {as_of}", as_of


def merge_entries(rows: Mapping[tuple[str, str], ModelInfo], listing: CachedListing) -> Iterable[ModelInfo]:
    """Every entry of ``listing`` merged over ``rows`` (entries without an id are skipped)."""
    source, as_of = listing_source(listing.provider, listing.base_url, listing.fetched_at)
    for entry in listing.entries:
        model_id = entry.get("id")
        base = rows.get((listing.provider, model_id)) if isinstance(model_id, str) else None
        info = merge_entry(base, listing.provider, entry, currency=listing.currency, source=source, as_of=as_of)
        if info is not None:
            yield info
