"""The README's demo command works offline from its cassette."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_demo_replays_offline_and_ranks_the_red_image_first() -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    result = subprocess.run(
        [sys.executable, "-m", "demo", "--offline"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "offline replay of cassettes/demo/demo.yaml (recorded from the provider emulator)" in out
    assert "answer:    STACKIT AI Model Serving runs in German data centres and bills in euro." in out
    assert "USD" in out  # the cost names the currency of the catalog price (models.dev USD; no EUR list)
    assert "answer:    Chutes serves open models on decentralised GPUs and bills in US dollars." in out
    ranking = [line.split()[0] for line in out.splitlines() if "image  similarity" in line]
    assert ranking == ["red", "blue"]


def _keys_and_urls(urls: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    env.update(
        STACKIT_API_KEY="live-stackit-key",
        CHUTES_API_KEY="live-chutes-key",
        STACKIT_BASE_URL=urls["stackit"],
        CHUTES_BASE_URL=urls["chutes"],
        CHUTES_EMBEDDINGS_BASE_URL=urls["chutes_embeddings"],
    )
    return env


def test_live_run_with_both_keys_honours_the_base_urls() -> None:
    from tests.emulator import ProviderEmulator

    with ProviderEmulator(max_lifetime_s=300) as emulator:
        env = _keys_and_urls(emulator.base_urls)
        result = subprocess.run(
            [sys.executable, "-m", "demo"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300
        )
        providers = {request.provider for request in emulator.requests}
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"stackit-chutes demo: live (STACKIT_BASE_URL={emulator.base_urls['stackit']}")
    assert providers == {"stackit", "chutes"}  # every call went to the custom endpoints
    ranking = [line.split()[0] for line in result.stdout.splitlines() if "image  similarity" in line]
    assert ranking == ["red", "blue"]


def test_failed_live_call_ends_with_a_message_not_a_traceback() -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"
    env = _keys_and_urls({"stackit": dead, "chutes": dead, "chutes_embeddings": dead})
    result = subprocess.run(
        [sys.executable, "-m", "demo"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert (
        "demo stopped: a provider call failed: [stackit] model intfloat/e5-mistral-7b-instruct: connection failed"
        in (result.stderr)
    )
    assert f"the live run used STACKIT_BASE_URL={dead}" in result.stderr


def test_dev_demo_installs_only_the_demo_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")
    import dev

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    demo_needs = " ".join(extras["demo"])
    assert "vcrpy" in demo_needs and "stackit-chutes[all]" in demo_needs
    assert not any(tool in demo_needs for tool in ("pytest", "ruff", "mypy", "langchain-tests"))
    calls: list[tuple[object, str]] = []
    monkeypatch.setattr(dev, "_installed", lambda where, extras: False)
    monkeypatch.setattr(dev, "ensure_venv", lambda where=dev.VENV, extras="dev": calls.append((where, extras)))
    dev.demo_python()
    assert calls == [(dev.DEMO_VENV, "demo")]
