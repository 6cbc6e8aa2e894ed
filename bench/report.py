"""The run's environment (versions, CPU, date, git) and the JSON results file."""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = (
    "stackit-chutes",
    "openai",
    "httpx",
    "pydantic",
    "langchain-core",
    "langchain-openai",
    "llama-index-core",
    "llama-index-llms-openai",
    "llama-index-llms-openai-like",
    "llama-index-embeddings-openai",
    "llama-index-embeddings-openai-like",
    "numpy",
)


def package_versions() -> dict[str, str | None]:
    """Installed version of every package the benchmark touches (``None``: not installed)."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def load_average() -> list[float] | None:
    """1/5/15-minute load average (other processes on the machine skew absolute numbers)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def _git(root: Path) -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"commit": commit, "dirty": bool(dirty)}


def environment(root: Path) -> dict[str, Any]:
    """Python, platform, CPU count, date and package versions of this run."""
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": load_average(),
        "packages": package_versions(),
        "git": _git(root),
    }


def format_environment(env: dict[str, Any]) -> str:
    """One short paragraph for the console."""
    packages = ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v)
    return (
        f"{env['date']}  Python {env['python']} ({env['implementation']}), {env['cpu_count']} CPUs, "
        f"load {env['load_average_at_start']}, {env['platform']}\n{packages}"
    )


def write_json(path: Path, results: dict[str, Any]) -> None:
    """Write ``results`` as indented, key-stable JSON (small and diff-friendly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, sort_keys=False) + "\n", encoding="utf-8")
