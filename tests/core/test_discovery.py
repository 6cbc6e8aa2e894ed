"""Live discovery: GET /models merged into the catalog, cached, and the public Chutes listing sent without a key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stackit_chutes_core import MissingAPIKeyError, catalog, refresh_catalog
from stackit_chutes_core import _discovery as discovery
from tests.emulator import ProviderEmulator


@pytest.fixture
def emulator() -> Iterator[ProviderEmulator]:
    with ProviderEmulator(max_lifetime_s=60) as emu:
        yield emu
    catalog._rows = None  # drop the merged rows: other tests see the packaged catalog
    catalog._aliases.clear()
    discovery._fetched_at.clear()
    discovery._merged.clear()


def test_chutes_listing_is_public_and_merges_prices_and_context(emulator: ProviderEmulator) -> None:
    rows = refresh_catalog("chutes", base_url=emulator.base_urls["chutes"], environ={})
    by_id = {row.id: row for row in rows}
    entry = by_id["Qwen/Qwen3-32B-TEE"]
    assert entry.price is not None and entry.price.currency == "USD"
    assert entry.context_window == 40960
    assert catalog.lookup("chutes", "Qwen/Qwen3-32B-TEE") == entry
    listing = [r for r in emulator.requests if r.path == "/v1/models"]
    assert len(listing) == 1
    assert "authorization" not in listing[0].headers  # no placeholder key is ever sent


def test_listing_is_cached(emulator: ProviderEmulator) -> None:
    refresh_catalog("chutes", base_url=emulator.base_urls["chutes"], environ={})
    refresh_catalog("chutes", base_url=emulator.base_urls["chutes"], environ={})
    assert len([r for r in emulator.requests if r.path == "/v1/models"]) == 1
    refresh_catalog("chutes", base_url=emulator.base_urls["chutes"], environ={}, max_age_s=0)
    assert len([r for r in emulator.requests if r.path == "/v1/models"]) == 2


def test_stackit_listing_needs_a_key(emulator: ProviderEmulator) -> None:
    with pytest.raises(MissingAPIKeyError, match="STACKIT_API_KEY"):
        refresh_catalog("stackit", base_url=emulator.base_urls["stackit"], environ={})
    assert emulator.requests == []
    rows = refresh_catalog("stackit", base_url=emulator.base_urls["stackit"], environ={"STACKIT_API_KEY": "k"})
    assert any(row.id == "openai/gpt-oss-120b" for row in rows)
    assert emulator.requests[-1].headers["authorization"] == "Bearer k"


def test_nothing_is_fetched_at_import() -> None:
    import importlib

    importlib.reload(discovery)
    assert discovery._fetched_at == {}
