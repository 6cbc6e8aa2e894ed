"""list_models: the catalog filtered the way users pick a model."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from stackit_chutes_core import InvalidInputError, UnknownProviderError, catalog, list_models
from stackit_chutes_core import _discovery as discovery
from tests.emulator import ProviderEmulator


def test_no_filter_is_the_whole_catalog_in_order() -> None:
    assert list_models() == catalog.all_models()


def test_provider_and_kind() -> None:
    rows = list_models(provider="stackit", kind="embedding")
    assert {row.qualified_name for row in rows} >= {"stackit/intfloat/e5-mistral-7b-instruct"}
    assert all(row.provider == "stackit" and row.kind == "embedding" for row in rows)


def test_capabilities_all_required() -> None:
    rows = list_models(capabilities=["tools", "reasoning"])
    assert rows and all(row.capabilities.tools and row.capabilities.reasoning for row in rows)
    assert "stackit/openai/gpt-oss-120b" in {row.qualified_name for row in rows}
    vision = list_models(capabilities=["vision"])
    assert vision and all(row.capabilities.image_input for row in vision)
    dims = list_models(capabilities=["dimensions"])
    assert dims and all(row.accepts_dimensions for row in dims)


def test_confidential_compute_is_the_tee_models() -> None:
    tee = list_models(confidential_compute=True)
    assert tee and all(row.id.endswith("-TEE") for row in tee)
    others = list_models(confidential_compute=False)
    assert not any(row.id.endswith("-TEE") for row in others)
    assert len(tee) + len(others) == len(catalog.all_models())


def test_max_price_compares_input_price_and_drops_unpriced_rows() -> None:
    rows = list_models(max_price=0.2)
    assert rows and all(row.price is not None and row.price.input <= Decimal("0.2") for row in rows)
    assert "stackit/openai/gpt-oss-20b" in {row.qualified_name for row in rows}  # 0.15 EUR
    assert "stackit/openai/gpt-oss-120b" not in {row.qualified_name for row in rows}  # 0.45 EUR


def test_min_context() -> None:
    rows = list_models(min_context=200_000)
    assert rows and all(row.context_window is not None and row.context_window >= 200_000 for row in rows)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"provider": "openai"}, UnknownProviderError, "Unknown provider 'openai'"),
        ({"capabilities": ["telepathy"]}, InvalidInputError, "Unknown capability 'telepathy'"),
        ({"max_price": "cheap"}, InvalidInputError, "max_price must be a number"),
        ({"max_price": -1}, InvalidInputError, "non-negative"),
        ({"min_context": "big"}, InvalidInputError, "min_context must be an integer"),
        ({"kind": "image"}, InvalidInputError, "kind must be 'chat' or 'embedding'"),
    ],
)
def test_bad_filters_are_typed_errors(kwargs: dict, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        list_models(**kwargs)


@pytest.fixture
def emulator() -> Iterator[ProviderEmulator]:
    with ProviderEmulator(max_lifetime_s=60) as emu:
        yield emu
    catalog._rows = None  # drop the merged rows: other tests see the packaged catalog
    catalog._aliases.clear()
    discovery._fetched_at.clear()
    discovery._merged.clear()


def test_live_merges_the_listing_first(emulator: ProviderEmulator) -> None:
    environ = {"CHUTES_BASE_URL": emulator.base_urls["chutes"]}
    unpriced = {row.id for row in list_models(provider="chutes") if row.price is None}
    assert not {row.id for row in list_models(provider="chutes", max_price=10) if row.id in unpriced}
    live = list_models(provider="chutes", max_price=10, live=True, environ=environ)
    priced_now = {row.id for row in live} & unpriced
    assert priced_now, "the listing's prices make packaged unpriced rows match max_price"
    assert [r.path for r in emulator.requests] == ["/v1/models"]


def test_live_for_all_providers_keeps_stackit_rows_without_its_key(emulator: ProviderEmulator) -> None:
    environ = {"CHUTES_BASE_URL": emulator.base_urls["chutes"], "STACKIT_BASE_URL": emulator.base_urls["stackit"]}
    with pytest.warns(UserWarning, match="stackit: packaged catalog only .*STACKIT_API_KEY"):
        rows = list_models(live=True, environ=environ)
    assert {"stackit", "chutes"} <= {row.provider for row in rows}
    assert [r.provider for r in emulator.requests] == ["chutes"]
