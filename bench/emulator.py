"""The provider emulator in a child process, so its CPU work does not compete for the clients' GIL.

The child (``python -m bench.emulator``) starts ``tests.emulator.ProviderEmulator``, prints its base
URLs as one JSON line, then obeys one-line commands on stdin (``latency <seconds>``, ``clear``) and
exits when stdin closes, when the parent dies, or at ``max_lifetime_s`` at the latest.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
MAX_LIFETIME_S = 3600.0  # the full run with long streams and paced work takes ~25 min


class EmulatorProcess:
    """Context manager around the child process; ``base_urls`` as ``ProviderEmulator`` has them."""

    def __init__(self, latency_s: float = 0.0, max_lifetime_s: float = MAX_LIFETIME_S) -> None:
        self._args = [sys.executable, "-m", "bench.emulator", str(latency_s), str(max_lifetime_s)]
        self._proc: subprocess.Popen[str] | None = None
        self.base_urls: dict[str, str] = {}
        self.latency_s = latency_s
        self.nagle_patched = False
        """Whether the child had to switch Nagle off on the emulator's sockets (see ``_disable_nagle``)."""

    def __enter__(self) -> EmulatorProcess:
        self._proc = subprocess.Popen(
            self._args, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        line = self._stdout.readline()
        if not line:
            self.close()
            raise RuntimeError("the emulator child process exited before printing its base URLs")
        announced = json.loads(line)
        self.nagle_patched = bool(announced.pop("nagle_patched", False))
        self.base_urls = announced
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @property
    def _stdout(self) -> IO[str]:
        assert self._proc is not None and self._proc.stdout is not None
        return self._proc.stdout

    def _command(self, line: str) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(line + "\n")
        self._proc.stdin.flush()
        answer = self._stdout.readline().strip()
        if answer != "ok":
            raise RuntimeError(f"emulator command {line!r} failed: {answer!r}")

    def set_latency(self, seconds: float) -> None:
        """Change the emulated latency of every later reply."""
        self._command(f"latency {seconds}")
        self.latency_s = seconds

    def clear(self) -> None:
        """Drop the requests the emulator captured (keeps its memory flat over a long run)."""
        self._command("clear")

    def close(self) -> None:
        """Close stdin (the child then stops) and wait; kill it if it does not stop in time."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def _disable_nagle() -> bool:
    """Set TCP_NODELAY on the emulator's sockets; returns whether it had to (i.e. it was off).

    The handler writes the status+headers and the body in two ``send`` calls; with Nagle on, the
    body waits for the client's (delayed, up to 40 ms) ACK of the headers, so a random share of
    replies takes ~44 ms instead of ~0.5 ms and hides every client cost. Patched here, in the
    benchmark's own child process only; the fix belongs in ``tests/emulator/server.py``.
    """
    from tests.emulator import server

    handler = server._Handler
    if getattr(handler, "disable_nagle_algorithm", False):
        return False
    handler.disable_nagle_algorithm = True
    return True


def _cache_vectors() -> None:
    """Memoise the emulator's vectors: the benchmark sends the same texts every call, and computing
    16 x 4096-d hashed vectors in Python (~100 ms) would otherwise hide every client's cost. The
    JSON or base64 encoding of the answer, which real servers pay too, stays per request."""
    from functools import lru_cache

    from tests.emulator import embeddings

    compute = embeddings.vectorize

    @lru_cache(maxsize=4096)
    def cached(tokens: tuple[str, ...], dim: int) -> tuple[float, ...]:
        return tuple(compute(list(tokens), dim))

    embeddings.vectorize = lambda tokens, dim: list(cached(tuple(tokens), dim))  # type: ignore[assignment]


def _serve(latency_s: float, max_lifetime_s: float) -> int:
    import threading

    from tests.emulator import ProviderEmulator

    patched = _disable_nagle()
    _cache_vectors()
    with ProviderEmulator(latency_s=latency_s, max_lifetime_s=max_lifetime_s) as emu:
        print(json.dumps({**emu.base_urls, "nagle_patched": patched}), flush=True)

        def commands() -> None:
            for raw in sys.stdin:
                parts = raw.split()
                if parts[:1] == ["latency"] and len(parts) == 2:
                    emu.latency_s = float(parts[1])
                elif parts == ["clear"]:
                    emu.clear_requests()
                else:
                    print(f"unknown command {raw.strip()!r}", flush=True)
                    continue
                print("ok", flush=True)
            emu.close()

        threading.Thread(target=commands, daemon=True).start()
        emu.wait_closed()
    return 0


if __name__ == "__main__":
    sys.exit(_serve(float(sys.argv[1]), float(sys.argv[2])))
