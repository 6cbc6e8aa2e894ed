"""The README's demo command works offline from its cassette."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
