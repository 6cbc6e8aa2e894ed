"""The stackit-chutes demo: retrieval-augmented answers across STACKIT and Chutes.

    python3 dev.py demo            offline: replays cassettes/demo/ (recorded from the provider emulator)
    python3 dev.py demo --live     live: needs STACKIT_API_KEY and CHUTES_API_KEY (default when both are set)
    python3 dev.py demo --record   re-record cassettes/demo/ (live with keys, else from the emulator)

It embeds a few documents with a STACKIT embedding model, retrieves the best match for a question,
answers with a STACKIT chat model (LangChain) and a Chutes chat model (LlamaIndex, streamed), prints
cost in each provider's currency, and ranks two images against a text query with the multimodal
Qwen3-VL-Embedding model through the providers' ``messages`` embeddings payload.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from demo.scenario import run_scenario

ROOT = Path(__file__).resolve().parent.parent
CASSETTE = ROOT / "cassettes" / "demo" / "demo.yaml"
KEYS = ("STACKIT_API_KEY", "CHUTES_API_KEY")


@contextlib.contextmanager
def _replay() -> Iterator[None]:
    if not CASSETTE.exists():
        sys.exit(f"No demo cassette at {CASSETTE}; run `python3 dev.py demo --record` first.")
    for name in KEYS:  # cassettes carry no keys; any value replays
        os.environ.setdefault(name, f"offline-{name.lower()}")
    with _cassette("none"):
        yield


@contextlib.contextmanager
def _cassette(record_mode: str) -> Iterator[None]:
    import vcr

    from tests import cassette_harness

    recorder = vcr.VCR()
    recorder.register_serializer("yaml_meta", cassette_harness.MetaYamlSerializer())
    recorder.register_matcher("json_body", cassette_harness.json_body_matcher)
    settings = cassette_harness.vcr_config()
    settings.pop("path_transformer")
    with recorder.use_cassette(str(CASSETTE), record_mode=record_mode, **settings):
        yield


@contextlib.contextmanager
def _record() -> Iterator[None]:
    from stackit_chutes_core.providers import CHUTES, STACKIT
    from tests import cassette_harness

    with contextlib.ExitStack() as stack:
        if not all(os.environ.get(k) for k in KEYS):
            from tests.emulator import ProviderEmulator

            emulator = stack.enter_context(ProviderEmulator(max_lifetime_s=600))
            rewrites = {
                "STACKIT_BASE_URL": (emulator.base_urls["stackit"], STACKIT.base_url),
                "CHUTES_BASE_URL": (emulator.base_urls["chutes"], CHUTES.base_url),
                "CHUTES_EMBEDDINGS_BASE_URL": (emulator.base_urls["chutes_embeddings"], CHUTES.embeddings_base_url),
            }
            for env_name, (local, real) in rewrites.items():
                os.environ[env_name] = local
                cassette_harness.URL_REWRITES[local] = str(real)
            for name in KEYS:
                os.environ.setdefault(name, f"emulator-{name.lower()}")
        CASSETTE.parent.mkdir(parents=True, exist_ok=True)
        CASSETTE.unlink(missing_ok=True)
        stack.enter_context(_cassette("all"))
        yield


def main(argv: list[str] | None = None) -> int:
    """Run the demo in the chosen mode."""
    parser = argparse.ArgumentParser(prog="python3 dev.py demo", description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--live", action="store_true", help="call the real providers (needs both keys)")
    mode.add_argument("--offline", action="store_true", help="replay the recorded cassette (default without keys)")
    mode.add_argument("--record", action="store_true", help="re-record the demo cassette")
    args = parser.parse_args(argv)
    for name in ("STACKIT_BASE_URL", "CHUTES_BASE_URL", "CHUTES_EMBEDDINGS_BASE_URL"):
        if not args.live:
            os.environ.pop(name, None)  # the cassette holds the real provider URLs
    have_keys = all(os.environ.get(k) for k in KEYS)
    if args.record:
        label, context = "recording (live)" if have_keys else "recording from the provider emulator", _record()
    elif args.live or (have_keys and not args.offline):
        if not have_keys:
            sys.exit("--live needs STACKIT_API_KEY and CHUTES_API_KEY.")
        label, context = "live", contextlib.nullcontext()
    else:
        origin = "recorded from the provider emulator"
        label, context = f"offline replay of {CASSETTE.relative_to(ROOT)} ({origin})", _replay()
    print(f"stackit-chutes demo: {label}\n")
    with context:
        run_scenario()
    return 0


if __name__ == "__main__":
    sys.exit(main())
