"""``python -m bench.profile SCENARIO CONTENDER [--calls N]``: cProfile one contender's calls.

SCENARIO is ``chat_sync``, ``chat_stream`` or ``embeddings``; CONTENDER a row name (or a unique
part of it, e.g. ``core``). Prints the top functions by own time, to find where a ratio comes from.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys

from bench import clients
from bench.emulator import EmulatorProcess
from bench.harness import Contender


def _pick(contenders: list[Contender], wanted: str) -> Contender:
    exact = [c for c in contenders if c.name == wanted]
    partial = [c for c in contenders if wanted.lower() in c.name.lower()]
    found = exact or partial
    if len(found) != 1:
        names = ", ".join(repr(c.name) for c in contenders)
        raise SystemExit(f"{wanted!r} matches {len(found)} contenders; choose one of {names}")
    return found[0]


def main(argv: list[str] | None = None) -> int:
    """Profile ``--calls`` calls of one contender after a short warm-up."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("scenario", choices=("chat_sync", "chat_stream", "embeddings"))
    parser.add_argument("contender")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime", choices=("tottime", "cumulative"))
    args = parser.parse_args(argv)
    with EmulatorProcess() as emu:
        clients.configure_environment(emu.base_urls)
        if args.scenario == "embeddings":
            contenders = clients.embedding_contenders(emu.base_urls)
        else:
            contenders = clients.chat_contenders(emu.base_urls, "stream" if args.scenario == "chat_stream" else "sync")
        contender = _pick(contenders, args.contender)
        call = contender.setup()
        for _ in range(10):
            call()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.calls):
            call()
        profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
    print(f"{contender.name}: {args.calls} calls ({args.scenario})")
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
