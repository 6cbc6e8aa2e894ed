"""examples/: every script replays offline from its cassette, and runs live (here: against the emulator)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from examples.__main__ import EXAMPLES
from tests.emulator import ProviderEmulator

ROOT = Path(__file__).resolve().parent.parent

EXPECTED: dict[str, list[str]] = {
    "lcel_rag": [
        r"top hit:  The Rhine ferry departs every forty minutes from the Koblenz pier\.",
        r"answer:   .*forty minutes",
    ],
    "langchain_agent": [
        r"tool call: get_weather\(\{'city': 'Berlin'\}\)",
        r"tool call: get_population\(\{'city': 'Berlin'\}\)",
        r'report:    \{"city":"Berlin","weather":".+","population":".+"\}',
    ],
    "llamaindex_rag": [
        r"query engine: The Rhine ferry departs every forty minutes",
        r"  source:     ferry",
        r"chat engine:  The Brandenburg lighthouse keeper paints seagulls",
        r"user:         On which day does he do that\?",
    ],
    "llamaindex_agent": [r"tool call:  multiply\(\{'a': 6, 'b': 7\}\) -> 42", r"answer:     .*42"],
    "image_search_langchain": [
        r"'a red picture'    -> red\.png  \(cosine distance 0\.\d+\)",
        r"'a blue picture'   -> blue\.png",
        r"like blue\.png      -> blue\.png",
    ],
    "image_search_llamaindex": [
        r"'a yellow picture' -> yellow\.png \(0\.\d+\), \w+\.png",
        r"'a green picture'  -> green\.png",
        r"a red picture      -> text: The red planet is Mars\.",
    ],
    "cost_tracking": [
        r"LangChain:  0\.\d{8} USD  \(4 requests, \d+ tokens\)",
        r"  chutes/deepseek-ai/DeepSeek-V3.2-TEE +chat +\d+ in +\d+ out  0\.\d{8} USD",
        r"  stackit/intfloat/e5-mistral-7b-instruct +embedding +\d+ in +0 out  0\.\d{8} USD",
        r"LlamaIndex: 0\.\d{8} USD  \(3 requests\)",
    ],
    "fallbacks": [
        r"LangChain answered by:  stackit/openai/gpt-oss-120b",
        r"streamed \(fell back before the first chunk\): \S",
        r"LlamaIndex answered by: stackit/openai/gpt-oss-120b",
        r"with_fallbacks answered by: chutes/deepseek-ai/DeepSeek-V3.2-TEE",
    ],
}


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}


def _check(result: subprocess.CompletedProcess[str], name: str) -> None:
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for pattern in EXPECTED[name]:
        assert any(re.match(pattern, line) for line in lines), f"{pattern!r} not in:\n{result.stdout}"


def test_every_example_is_listed_short_and_has_a_cassette() -> None:
    scripts = sorted(p.stem for p in (ROOT / "examples").glob("*.py") if not p.stem.startswith("_"))
    assert scripts == sorted(EXAMPLES) == sorted(EXPECTED)
    for name in EXAMPLES:
        assert len((ROOT / "examples" / f"{name}.py").read_text().splitlines()) < 80, name
        assert (ROOT / "cassettes" / "examples" / f"{name}.yaml").is_file(), name


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_replays_offline(name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "examples", name, "--offline"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_clean_env(),
        timeout=300,
    )
    assert result.stdout.startswith(f"example {name}: offline replay of cassettes/examples/{name}.yaml")
    _check(result, name)


@pytest.fixture(scope="module")
def emulator() -> Iterator[ProviderEmulator]:
    with ProviderEmulator(max_lifetime_s=900) as emu:
        yield emu


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_script_runs_live(name: str, emulator: ProviderEmulator) -> None:
    env = _clean_env()
    env.update(
        STACKIT_API_KEY="live-key",
        CHUTES_API_KEY="live-key",
        STACKIT_BASE_URL=emulator.base_urls["stackit"],
        CHUTES_BASE_URL=emulator.base_urls["chutes"],
        CHUTES_EMBEDDINGS_BASE_URL=emulator.base_urls["chutes_embeddings"],
    )
    before = len(emulator.requests)
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / f"{name}.py")],
        capture_output=True,
        text=True,
        cwd=ROOT / "examples",
        env=env,
        timeout=300,
    )
    _check(result, name)
    assert len(emulator.requests) > before  # it really called the (emulated) providers
