"""Fixtures of the multimodal tests: a live in-process emulator and generated PNG files.

Cassette-backed tests (``@pytest.mark.vcr``) replay from ``cassettes/multimodal/<module>/``; the
wire-level tests talk to a private :class:`ProviderEmulator` on 127.0.0.1 and inspect what it
received (``emulator.requests``), so they check the bytes that really went over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator import ProviderEmulator
from tests.multimodal._shared import png
from tests.pngs import COLOURS


@pytest.fixture(scope="module")
def _emulator_process() -> Iterator[ProviderEmulator]:
    with ProviderEmulator(latency_s=0.0, max_lifetime_s=600) as emulator:
        yield emulator


@pytest.fixture
def emulator(_emulator_process: ProviderEmulator) -> ProviderEmulator:
    """The module's emulator with an empty request log and fresh scenario counters."""
    _emulator_process.latency_s = 0.0
    _emulator_process.clear_requests()
    return _emulator_process


@pytest.fixture
def stackit_url(emulator: ProviderEmulator) -> str:
    """The emulated STACKIT base URL (pass it as ``base_url`` / ``api_base``)."""
    return emulator.base_urls["stackit"]


@pytest.fixture
def colour_files(tmp_path: Path) -> dict[str, Path]:
    """One tiny solid PNG file per colour of ``tests.pngs.COLOURS`` (red, green, blue, yellow)."""
    files = {}
    for name in COLOURS:
        path = tmp_path / f"{name}.png"
        path.write_bytes(png(name))
        files[name] = path
    return files
