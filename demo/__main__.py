"""The stackit-chutes demo: retrieval-augmented answers across STACKIT and Chutes.

    python3 dev.py demo            offline: replays cassettes/demo/ (recorded from the provider emulator)
    python3 dev.py demo --live     live: needs STACKIT_API_KEY and CHUTES_API_KEY (default when both are set);
                                   honours STACKIT_BASE_URL / CHUTES_BASE_URL / CHUTES_EMBEDDINGS_BASE_URL
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
BASE_URL_VARS = ("STACKIT_BASE_URL", "CHUTES_BASE_URL", "CHUTES_EMBEDDINGS_BASE_URL")


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


def _base_url_overrides() -> list[str]:
    return [f"{name}={os.environ[name]}" for name in BASE_URL_VARS if os.environ.get(name)]


def _expected(exc: BaseException) -> bool:
    from stackit_chutes_core import StackitChutesError

    return isinstance(exc, StackitChutesError) or type(exc).__name__ == "CannotOverwriteExistingCassetteException"


def _explain_failure(exc: BaseException, live: bool) -> str:
    """One clear paragraph for a failed run (no traceback): what failed and what to do."""
    from stackit_chutes_core import APIError, ConfigurationError

    if isinstance(exc, ConfigurationError):
        return f"demo stopped: {exc}"
    if isinstance(exc, APIError):
        where = ", ".join(_base_url_overrides()) or "the providers' default URLs"
        hint = f"the live run used {where}; check the keys and URLs" if live else "the replay failed"
        return f"demo stopped: a provider call failed: {exc}\n({hint})"
    return (
        "demo stopped: a request is not in the recorded cassette (the demo changed since it was recorded); "
        "re-record it with `python3 dev.py demo --record`"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the demo in the chosen mode; 0 on success, 1 with a clear message when a call fails."""
    parser = argparse.ArgumentParser(prog="python3 dev.py demo", description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--live", action="store_true", help="call the real providers (needs both keys)")
    mode.add_argument("--offline", action="store_true", help="replay the recorded cassette (default without keys)")
    mode.add_argument("--record", action="store_true", help="re-record the demo cassette")
    args = parser.parse_args(argv)
    have_keys = all(os.environ.get(k) for k in KEYS)
    live = not args.record and (args.live or (have_keys and not args.offline))
    if not live:
        for name in BASE_URL_VARS:  # replay/record use the real provider URLs the cassette holds
            os.environ.pop(name, None)
    if args.record:
        label, context = "recording (live)" if have_keys else "recording from the provider emulator", _record()
    elif live:
        if not have_keys:
            sys.exit("--live needs STACKIT_API_KEY and CHUTES_API_KEY.")
        overrides = _base_url_overrides()
        label, context = "live" + (f" ({', '.join(overrides)})" if overrides else ""), contextlib.nullcontext()
    else:
        origin = "recorded from the provider emulator"
        label, context = f"offline replay of {CASSETTE.relative_to(ROOT)} ({origin})", _replay()
    print(f"stackit-chutes demo: {label}\n", flush=True)
    try:
        with context:
            run_scenario()
    except KeyboardInterrupt:
        print("\ndemo interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an expected failure ends with a message, not a traceback; a bug still shows one
        if not _expected(exc):
            raise
        print(f"\n{_explain_failure(exc, live)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
