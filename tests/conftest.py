"""Shared test set-up: environment hygiene and the cassette harness (see cassette_harness.py)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stackit_chutes_core import clear_client_cache
from tests import cassette_harness

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "cassettes"

# Variables that would change what the code under test sends; never inherited by a test run.
_SCRUBBED_ENV = (
    "STACKIT_BASE_URL",
    "CHUTES_BASE_URL",
    "CHUTES_EMBEDDINGS_BASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_API_BASE",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "OPENAI_CUSTOM_HEADERS",
    "OPENAI_ADMIN_KEY",
)
# A listing a developer persisted with refresh_catalog(persist=True) must not change what tests see:
# the catalog reads its cache directory lazily, so point it at an empty one before anything loads it.
_CACHE_DIR = tempfile.mkdtemp(prefix="stackit-chutes-test-cache-")
os.environ["STACKIT_CHUTES_CACHE_DIR"] = _CACHE_DIR
atexit.register(shutil.rmtree, _CACHE_DIR, True)

# Replays and the emulator answer at once: the catalog's documented per-minute budgets (gpt-oss: 30
# requests/min) would only make the suite wait. Tests of the limiter set budgets explicitly.
os.environ["STACKIT_CHUTES_RATE_LIMITS"] = "off"

# Stand-in keys for replay (cassettes hold no authorization header, so any key replays).
REPLAY_KEYS = {"STACKIT_API_KEY": "replay-stackit-key", "CHUTES_API_KEY": "replay-chutes-key"}


LIVE_DIR = Path(__file__).resolve().parent / "live"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--live",
        action="store_true",
        default=False,
        help="run the live smoke suite in tests/live against the real providers (needs the API keys)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "live: talks to the real providers (tests/live; python3 dev.py test --live)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests/live as ``live`` and deselect it unless ``--live`` or a ``-m`` naming it asks for it."""
    wanted = config.getoption("--live") or "live" in (config.getoption("-m", default="") or "")
    kept, dropped = [], []
    for item in items:
        if LIVE_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.live)
            if wanted:
                # the addopts' --block-network must not apply here: the network is the point of the suite
                item.add_marker(pytest.mark.block_network(allowed_hosts=[".*"]))
            (kept if wanted else dropped).append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _recording(config: pytest.Config) -> bool:
    # pytest-recording's default is None (= replay only), not the string "none".
    return (config.getoption("--record-mode", default=None) or "none") != "none"


@pytest.fixture(scope="session", autouse=True)
def _test_environment(pytestconfig: pytest.Config) -> Iterator[dict[str, str]]:
    """Scrub the environment; when recording, point providers without a key at the emulator."""
    saved = dict(os.environ)
    for name in _SCRUBBED_ENV:
        os.environ.pop(name, None)
    emulator = None
    live = {name for name in REPLAY_KEYS if saved.get(name)}
    if _recording(pytestconfig) and len(live) < len(REPLAY_KEYS):
        from tests.emulator import ProviderEmulator

        emulator = ProviderEmulator(max_lifetime_s=3600)
        emulator.__enter__()
        urls = emulator.base_urls
        from stackit_chutes_core.providers import CHUTES, STACKIT

        targets = []
        if "STACKIT_API_KEY" not in live:
            targets.append(("STACKIT_BASE_URL", urls["stackit"], STACKIT.base_url))
        if "CHUTES_API_KEY" not in live:
            targets.append(("CHUTES_BASE_URL", urls["chutes"], CHUTES.base_url))
            targets.append(("CHUTES_EMBEDDINGS_BASE_URL", urls["chutes_embeddings"], CHUTES.embeddings_base_url or ""))
        for env_name, local, real in targets:
            os.environ[env_name] = local
            cassette_harness.URL_REWRITES[local] = real
    for name, value in REPLAY_KEYS.items():
        if name not in live:
            os.environ[name] = value
    clear_client_cache()
    try:
        yield dict(os.environ)
    finally:
        if emulator is not None:
            emulator.__exit__(None, None, None)
        cassette_harness.URL_REWRITES.clear()
        clear_client_cache()
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def vcr_config() -> dict[str, Any]:
    """pytest-recording configuration shared by every cassette test."""
    return cassette_harness.vcr_config()


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    """cassettes/<test folder>/<test module>/ (e.g. cassettes/langchain/test_chat_standard/)."""
    module = Path(str(request.node.fspath)).resolve()
    relative = module.relative_to(ROOT / "tests").with_suffix("")
    return str(CASSETTES / relative)


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    """Register the JSON body matcher and the metadata-carrying serializer."""
    vcr.register_matcher("json_body", cassette_harness.json_body_matcher)
    vcr.register_serializer("yaml_meta", cassette_harness.MetaYamlSerializer())
