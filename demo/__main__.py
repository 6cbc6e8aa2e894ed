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

import sys

from demo.recorded import ROOT, run_recorded
from demo.scenario import run_scenario

CASSETTE = ROOT / "cassettes" / "demo" / "demo.yaml"


def main(argv: list[str] | None = None) -> int:
    """Run the demo in the chosen mode; 0 on success, 1 with a clear message when a call fails."""
    description = (__doc__ or "").split("\n\n")[0]
    return run_recorded(
        run_scenario, CASSETTE, argv, title="stackit-chutes demo", prog="python3 dev.py demo", description=description
    )


if __name__ == "__main__":
    sys.exit(main())
