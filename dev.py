"""One entry point for developers and CI; needs only Python >= 3.10 (stdlib).

    python3 dev.py demo     run the demo (offline from cassettes, live with keys); uses .venv when it is set up,
                            else installs only the demo's needs (the `demo` extra) into .venv-demo
    python3 dev.py test     set up .venv and run the whole test suite offline (cassettes, network blocked)
    python3 dev.py test --live
                            run only the live smoke suite (tests/live) against the real providers;
                            each provider is skipped unless STACKIT_API_KEY / CHUTES_API_KEY is set
    python3 dev.py record   re-record the cassettes: live where STACKIT_API_KEY / CHUTES_API_KEY are set,
                            otherwise from the provider emulator in tests/emulator
    python3 dev.py bench    set up .venv-bench and run the benchmarks in bench/ against the emulator
                            (``python3 dev.py bench --quick``; results in bench/results/latest.json)
    python3 dev.py lint     ruff check, ruff format --check (Python files) and mypy (strict on the core)

Extra arguments after the command go to the tool (e.g. ``python3 dev.py test -k routing``).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
# Benchmarks get their own venv: the comparators (llama-index-llms-openai) pin openai<3.
BENCH_VENV = ROOT / ".venv-bench"
# The demo needs the frameworks and the cassette player, not the linters and test tools.
DEMO_VENV = ROOT / ".venv-demo"

# Replay-only and network blocking come from [tool.pytest.ini_options] addopts, so plain `pytest` agrees.
TEST_ARGS = ["-m", "pytest"]


def _run(*args: str | os.PathLike[str], env: dict[str, str] | None = None) -> int:
    return subprocess.call([str(a) for a in args], cwd=ROOT, env=env)


def ensure_venv(where: Path = VENV, extras: str = "dev") -> Path:
    """Create ``where`` and install the project with ``extras``, once per pyproject.toml version.

    Returns the venv's Python.
    """
    if sys.version_info < (3, 10):  # noqa: UP036 (dev.py runs on any python3: say why, not crash)
        sys.exit(f"stackit-chutes needs Python >= 3.10; this is {sys.version.split()[0]}.")
    python = where / BIN.name / PYTHON.name
    stamp_value = _stamp_value(extras)
    stamp = where / ".installed"
    if _installed(where, extras):
        return python
    if not python.exists():
        print(f"creating {where} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(where)
    print(f"installing stackit-chutes[{extras}] into {where.name} (first run only) ...", flush=True)
    steps = (
        [python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        [python, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[{extras}]"],
    )
    for step in steps:
        if _run(*step) != 0:
            sys.exit("installation failed; see the pip output above")
    stamp.write_text(stamp_value)
    return python


def _stamp_value(extras: str) -> str:
    """What a venv's ``.installed`` stamp holds once ``extras`` of this pyproject.toml are installed."""
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()


def _installed(where: Path, extras: str) -> bool:
    stamp = where / ".installed"
    python = where / BIN.name / PYTHON.name
    return python.exists() and stamp.exists() and stamp.read_text() == _stamp_value(extras)


def demo_python() -> Path:
    """The dev venv when it is already current (it has everything), else .venv-demo with the demo extra."""
    return PYTHON if _installed(VENV, "dev") else ensure_venv(DEMO_VENV, "demo")


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    return env


def main(argv: list[str]) -> int:
    """Dispatch ``dev.py <command> [args...]``."""
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "bench":
        bench_python = ensure_venv(BENCH_VENV, "all,bench")
        return _run(bench_python, "-m", "bench", *rest, env=_clean_env())
    env = _clean_env()
    if command == "demo":
        return _run(demo_python(), "-m", "demo", *rest, env=env)
    ensure_venv()
    if command == "test" and "--live" in rest:
        # tests/conftest.py lifts the network block for tests/live; -s shows what each check saw
        others = [a for a in rest if a != "--live"]
        return _run(PYTHON, "-m", "pytest", "--live", "-s", "-p", "no:cacheprovider", "tests/live", *others, env=env)
    if command == "test":
        return _run(PYTHON, *TEST_ARGS, *rest, env=env)
    if command == "record":
        return _run(PYTHON, "-m", "pytest", "--record-mode=rewrite", "-m", "vcr", *rest, env=env)
    if command == "lint":
        # Every check runs, so one report shows all problems; the exit code says whether any failed.
        codes = [
            _run(PYTHON, "-m", "ruff", "check", ".", env=env),
            _run(PYTHON, "-m", "ruff", "format", "--check", ".", env=env),
            _run(PYTHON, "-m", "mypy", env=env),
        ]
        return max(codes)
    print(f"unknown command {command!r}\n{__doc__}")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
