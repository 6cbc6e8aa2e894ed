"""Live model discovery: ``GET /models`` merged into the catalog, cached, never at import.

Chutes' listing is public and rich (context length, features, modalities, USD prices), and its
catalog changes monthly, so refreshing it is the way to know today's models. STACKIT's listing needs
a key and carries only ids; it still tells which ids the project can use.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stackit_chutes_core import _listing
from stackit_chutes_core._transport import _options, translate_error
from stackit_chutes_core.catalog import ModelInfo, merge_listing
from stackit_chutes_core.errors import ConfigurationError, MissingAPIKeyError
from stackit_chutes_core.providers import get_provider, known_providers
from stackit_chutes_core.routing import resolve_endpoint

__all__ = ["refresh_catalog"]

_lock = threading.Lock()
_fetched_at: dict[tuple[str, str], float] = {}
_merged: dict[tuple[str, str], list[ModelInfo]] = {}
_listings: dict[tuple[str, str], _listing.CachedListing] = {}


def refresh_catalog(
    provider: str,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    max_age_s: float = 3600.0,
    environ: Mapping[str, str] | None = None,
    persist: bool = False,
    cache_dir: str | Path | None = None,
) -> list[ModelInfo]:
    """Fetch ``provider``'s ``GET /models`` and merge it into the in-memory catalog.

    Answers from an in-process cache younger than ``max_age_s`` seconds without a request. Returns the
    rows the listing produced (packaged facts kept where the listing is silent; rows declared with
    ``catalog.register_model`` are never overwritten).

    With ``persist=True`` the raw listing is also written to ``<cache_dir>/catalog-<provider>.json``
    (default ``$STACKIT_CHUTES_CACHE_DIR``, else ``$XDG_CACHE_HOME/stackit-chutes``); later processes
    merge it at their first catalog lookup while it is younger than a day, without any request.
    Never called implicitly.
    """
    row = get_provider(provider)
    if row is None:
        raise ConfigurationError(f"Unknown provider {provider!r}; known: {', '.join(known_providers())}.")
    try:
        endpoint = resolve_endpoint(f"{row.name}/models-listing", api_key=api_key, base_url=base_url, environ=environ)
        headers: dict[str, Any] = {}
    except MissingAPIKeyError:
        if not row.models_endpoint_public:
            raise
        # Public listing: a placeholder key, and no Authorization header is sent at all.
        endpoint = resolve_endpoint(f"{row.name}/models-listing", api_key="unused", base_url=base_url, environ=environ)
        from openai import Omit  # imported on the first request only

        headers = {"Authorization": Omit()}
    cache_key = (row.name, endpoint.base_url)
    with _lock:
        fetched = _fetched_at.get(cache_key)
        if fetched is not None and time.monotonic() - fetched < max_age_s:
            if persist:  # a fresh in-process answer is still saved when asked
                _persist(_listings[cache_key], cache_dir, environ)
            return list(_merged[cache_key])
    from stackit_chutes_core._clients import sync_client_for

    client = sync_client_for(endpoint)
    try:
        listing: Any = client.get("/models", cast_to=object, options=_options(headers))
    except Exception as exc:
        raise translate_error(exc, row.name) from exc
    raw_entries = listing.get("data", []) if isinstance(listing, dict) else []
    entries = [e for e in raw_entries if isinstance(e, Mapping)]
    fetched_at = time.time()
    merged = merge_listing(row.name, entries, currency=row.currency, base_url=endpoint.base_url, fetched_at=fetched_at)
    saved = _listing.CachedListing(row.name, endpoint.base_url, row.currency, fetched_at, tuple(entries))
    if persist:
        _persist(saved, cache_dir, environ)
    with _lock:
        _fetched_at[cache_key] = time.monotonic()
        _merged[cache_key] = merged
        _listings[cache_key] = saved
    return list(merged)


def _persist(listing: _listing.CachedListing, cache_dir: str | Path | None, environ: Mapping[str, str] | None) -> None:
    directory = Path(cache_dir) if cache_dir is not None else _listing.cache_dir(environ)
    _listing.write_cache(_listing.cache_file(listing.provider, directory), listing)
