"""Run code live, or offline from a cassette, or record the cassette: the demo's and the examples' harness.

``run_recorded(run, cassette, argv)`` gives a script three modes: ``--offline`` replays ``cassette``
(the default without keys), ``--live`` calls the providers (the default when both keys are set, and
honours ``STACKIT_BASE_URL`` / ``CHUTES_BASE_URL`` / ``CHUTES_EMBEDDINGS_BASE_URL``), ``--record``
re-records it (live with keys, else from the provider emulator in ``tests/emulator``). A failed
provider call ends with a clear message and exit code 1, not a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEYS = ("STACKIT_API_KEY", "CHUTES_API_KEY")
BASE_URL_VARS = ("STACKIT_BASE_URL", "CHUTES_BASE_URL", "CHUTES_EMBEDDINGS_BASE_URL")


def _origin(cassette: Path) -> str:
    """Where the cassette was recorded, from its ``meta`` block (read without parsing the whole file)."""
    with cassette.open(encoding="utf-8") as lines:
        for _, line in zip(range(10), lines, strict=False):
            if line.strip().startswith("origin:"):
                origin = line.split(":", 1)[1].strip()
                return "recorded from the provider emulator" if origin == "emulator" else f"recorded {origin}"
    return "origin unknown"


@contextlib.contextmanager
def _replay(cassette: Path, record_command: str) -> Iterator[None]:
    if not cassette.exists():
        sys.exit(f"No cassette at {cassette}; run `{record_command}` first.")
    for name in KEYS:  # cassettes carry no keys; any value replays
        os.environ.setdefault(name, f"offline-{name.lower()}")
    with _cassette(cassette, "none"):
        yield


@contextlib.contextmanager
def _cassette(cassette: Path, record_mode: str) -> Iterator[None]:
    import vcr

    from tests import cassette_harness

    recorder = vcr.VCR()
    recorder.register_serializer("yaml_meta", cassette_harness.MetaYamlSerializer())
    recorder.register_matcher("json_body", cassette_harness.json_body_matcher)
    settings = cassette_harness.vcr_config()
    settings.pop("path_transformer")
    with recorder.use_cassette(str(cassette), record_mode=record_mode, **settings):
        yield


@contextlib.contextmanager
def _record(cassette: Path) -> Iterator[None]:
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
        cassette.parent.mkdir(parents=True, exist_ok=True)
        cassette.unlink(missing_ok=True)
        stack.enter_context(_cassette(cassette, "all"))
        yield


def _base_url_overrides() -> list[str]:
    return [f"{name}={os.environ[name]}" for name in BASE_URL_VARS if os.environ.get(name)]


def _expected(exc: BaseException) -> bool:
    from stackit_chutes_core import StackitChutesError

    return isinstance(exc, StackitChutesError) or type(exc).__name__ == "CannotOverwriteExistingCassetteException"


def _explain_failure(exc: BaseException, live: bool, record_command: str) -> str:
    """One clear paragraph for a failed run (no traceback): what failed and what to do."""
    from stackit_chutes_core import APIError, ConfigurationError

    if isinstance(exc, ConfigurationError):
        return f"stopped: {exc}"
    if isinstance(exc, APIError):
        where = ", ".join(_base_url_overrides()) or "the providers' default URLs"
        hint = f"the live run used {where}; check the keys and URLs" if live else "the replay failed"
        return f"stopped: a provider call failed: {exc}\n({hint})"
    return (
        "stopped: a request is not in the recorded cassette (the code changed since it was recorded); "
        f"re-record it with `{record_command}`"
    )


def run_recorded(
    run: Callable[[], object], cassette: Path, argv: list[str] | None, *, title: str, prog: str, description: str
) -> int:
    """Run ``run`` live, from ``cassette`` or recording it, as the command-line flags ask; the exit code."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--live", action="store_true", help="call the real providers (needs both keys)")
    mode.add_argument("--offline", action="store_true", help="replay the recorded cassette (default without keys)")
    mode.add_argument("--record", action="store_true", help="re-record the cassette")
    args = parser.parse_args(argv)
    record_command = f"{prog} --record"
    have_keys = all(os.environ.get(k) for k in KEYS)
    live = not args.record and (args.live or (have_keys and not args.offline))
    if not live:
        for name in BASE_URL_VARS:  # replay/record use the real provider URLs the cassette holds
            os.environ.pop(name, None)
    if args.record:
        label, context = "recording (live)" if have_keys else "recording from the provider emulator", _record(cassette)
    elif live:
        if not have_keys:
            sys.exit("--live needs STACKIT_API_KEY and CHUTES_API_KEY.")
        overrides = _base_url_overrides()
        label, context = "live" + (f" ({', '.join(overrides)})" if overrides else ""), contextlib.nullcontext()
    else:
        where = cassette.relative_to(ROOT) if cassette.is_relative_to(ROOT) else cassette
        label = f"offline replay of {where} ({_origin(cassette) if cassette.exists() else 'missing'})"
        context = _replay(cassette, record_command)
    print(f"{title}: {label}\n", flush=True)
    try:
        with context:
            run()
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an expected failure ends with a message, not a traceback; a bug still shows one
        if not _expected(exc):
            raise
        print(f"\n{title} {_explain_failure(exc, live, record_command)}", file=sys.stderr)
        return 1
    return 0
