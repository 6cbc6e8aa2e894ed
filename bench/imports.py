"""Import time (issue #12): ours against the packages they replace, in fresh interpreters.

Each import runs in its own ``python -X importtime -c 'import ...'`` process, ours and the
comparator alternating, ``runs`` times after a warm-up; reported: the median of the import
statement's cumulative time (from ``-X importtime``, interpreter start-up excluded) and the median
of the pairwise ratios. Targets: ``langchain_stackit_chutes`` <= 0.6x ``langchain_openai``;
``llama_index_stackit_chutes`` <= 0.8x the OpenAILike LLM and embedding packages together.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from typing import Any

from bench.emulator import ROOT

PAIRS = [
    ("import langchain_stackit_chutes", "import langchain_openai", 0.6),
    (
        "import llama_index_stackit_chutes",
        "import llama_index.llms.openai_like, llama_index.embeddings.openai_like",
        0.8,
    ),
    ("from langchain_stackit_chutes import ChatStackitChutes", "from langchain_openai import ChatOpenAI", None),
]


def import_seconds(statement: str) -> float:
    """Cumulative seconds of the top-level imports in ``statement``, in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    total = 0
    for line in done.stderr.splitlines():
        # "import time: self [us] | cumulative | imported package"; top level = no indentation
        parts = line.split("|")
        if len(parts) == 3 and parts[0].startswith("import time:") and not parts[2].startswith("  "):
            value = parts[1].strip()
            if value.isdigit():
                total += int(value)
    return total / 1e6


def run_imports(runs: int) -> list[dict[str, Any]]:
    """Median import seconds and median pairwise ratio for each pair."""
    rows = []
    for ours, theirs, target in PAIRS:
        row: dict[str, Any] = {"ours": ours, "theirs": theirs, "target": target}
        try:
            import_seconds(ours), import_seconds(theirs)  # warm the file cache
            a, b = [], []
            for _ in range(runs):
                a.append(import_seconds(ours))
                b.append(import_seconds(theirs))
            row["ours_s"] = round(statistics.median(a), 3)
            row["theirs_s"] = round(statistics.median(b), 3)
            row["ratio"] = round(statistics.median(x / y for x, y in zip(a, b, strict=True)), 3)
            row["target_met"] = row["ratio"] <= target if target is not None else None
        except (subprocess.SubprocessError, ZeroDivisionError) as exc:
            row["error"] = f"{type(exc).__name__}: {str(exc)[:160]}"
        rows.append(row)
        print(f"  {row}", flush=True)
    return rows


def format_imports(result: dict[str, Any]) -> str:
    """The table of the import scenario."""
    lines = [result["title"], f"{'ours':<56} {'s':>7} {'theirs s':>9} {'ratio':>6}  target"]
    for row in result["rows"]:
        if "error" in row:
            lines.append(f"{row['ours']:<56} n/a: {row['error']}")
            continue
        met = {True: "met", False: "MISSED", None: ""}[row["target_met"]]
        target = f"<= {row['target']}" if row["target"] is not None else "(info)"
        lines.append(
            f"{row['ours']:<56} {row['ours_s']:>7.3f} {row['theirs_s']:>9.3f} {row['ratio']:>6.2f}  {target} {met}"
        )
        lines.append(f"    vs {row['theirs']}")
    return "\n".join(lines)
