"""Run one example live, offline from its cassette, or re-record it.

    python -m examples lcel_rag             offline replay of cassettes/examples/lcel_rag.yaml without keys,
                                            live when STACKIT_API_KEY and CHUTES_API_KEY are set
    python -m examples lcel_rag --record    re-record (live with keys, else from the provider emulator)
    python examples/lcel_rag.py             the script on its own: always live

It uses the demo's harness (``demo/recorded.py``), so examples replay exactly like the demo.
"""

from __future__ import annotations

import importlib
import sys

from demo.recorded import ROOT, run_recorded

EXAMPLES = (
    "lcel_rag",
    "langchain_agent",
    "llamaindex_rag",
    "llamaindex_agent",
    "image_search_langchain",
    "image_search_llamaindex",
    "cost_tracking",
    "fallbacks",
)


def main(argv: list[str]) -> int:
    """Run ``argv[0]`` with the mode flags that follow it."""
    if not argv or argv[0] not in EXAMPLES:
        print(f"usage: python -m examples {{{','.join(EXAMPLES)}}} [--offline|--live|--record]", file=sys.stderr)
        return 2
    name, flags = argv[0], argv[1:]
    module = importlib.import_module(f"examples.{name}")
    return run_recorded(
        module.main,
        ROOT / "cassettes" / "examples" / f"{name}.yaml",
        flags,
        title=f"example {name}",
        prog=f"python -m examples {name}",
        description=(module.__doc__ or name).strip().splitlines()[0],
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
