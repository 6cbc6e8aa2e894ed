"""Live smoke suite: one call per wire assumption the emulator makes, against the real providers.

Run with ``python3 dev.py test --live`` (or ``pytest tests/live --live`` / ``-m live`` without
``--block-network``). Never part of the default run: without ``--live`` or ``-m live`` the tests are
deselected, and a provider whose key is not set is skipped. Each check prints what it saw, so a
run doubles as a report of how the providers answer today. The keys are read at import, before the
test session replaces missing keys with replay stand-ins.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from stackit_chutes_core import resolve_endpoint
from stackit_chutes_core.routing import Endpoint, Purpose

KEYS = {name: os.environ.get(name) for name in ("STACKIT_API_KEY", "CHUTES_API_KEY")}


def _key(provider: str) -> str:
    key = KEYS[f"{provider.upper()}_API_KEY"]
    if not key:
        pytest.skip(f"{provider.upper()}_API_KEY is not set: live {provider} checks skipped")
    return key


@pytest.fixture
def endpoint() -> Callable[..., Endpoint]:
    """``endpoint("stackit/<model>", purpose=..., api_key=...)`` with the real key and no retries."""

    def make(model: str, *, purpose: Purpose = "chat", api_key: str | None = None) -> Endpoint:
        provider = model.split("/", 1)[0]
        key = api_key if api_key is not None else _key(provider)
        return resolve_endpoint(model, api_key=key, purpose=purpose, max_retries=0, timeout=60)

    return make


@pytest.fixture
def say(capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest) -> Iterator[Callable[[str, Any], None]]:
    """Print ``label: value`` even under output capture (the suite's purpose is to show answers)."""

    def show(label: str, value: Any) -> None:
        text = value if isinstance(value, str) else json.dumps(value, default=str)[:600]
        with capsys.disabled():
            print(f"\n[{request.node.name}] {label}: {text}")

    yield show
