"""The live smoke suite never runs by default and is skipped without keys (CI has none)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pytest(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/live", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    return done.stdout + done.stderr


def test_default_run_deselects_the_live_suite() -> None:
    out = _pytest("--block-network", "--allowed-hosts=127.0.0.1,localhost")
    assert "deselected" in out and "passed" not in out and "failed" not in out, out


def test_live_run_without_keys_skips_every_check() -> None:
    out = _pytest("--live", "-rs")
    assert "skipped" in out and "passed" not in out and "failed" not in out, out
    assert "STACKIT_API_KEY is not set" in out and "CHUTES_API_KEY is not set" in out
