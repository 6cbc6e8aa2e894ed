"""The ``openai`` SDK is loaded on the first request, not when the packages are imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.emulator import ProviderEmulator

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
import stackit_chutes_core, langchain_stackit_chutes, llama_index_stackit_chutes
print("after import:", "openai" in sys.modules)
from stackit_chutes_core import ChatRequest, Message, chat, resolve_endpoint
request = ChatRequest(messages=[Message(role="user", content="Say hi")])
result = chat(resolve_endpoint("stackit/openai/gpt-oss-120b"), request)
print("after call:", "openai" in sys.modules)
print("answer:", bool(result.text.strip()))
"""


def test_importing_every_package_leaves_openai_unloaded_until_the_first_call() -> None:
    with ProviderEmulator(max_lifetime_s=120) as emulator:
        env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
        env.update(STACKIT_API_KEY="emulator-key", STACKIT_BASE_URL=emulator.base_urls["stackit"])
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["after import: False", "after call: True", "answer: True"]
