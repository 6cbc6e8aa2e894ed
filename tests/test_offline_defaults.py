"""A plain ``pytest`` run is as offline as ``python3 dev.py test``: replay only, network blocked.

Each test runs pytest in a subprocess with this project's configuration (``pyproject.toml``) on a
small test module written to a temporary folder, and checks what that run did.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


class _Counter(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_: object) -> None:  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def local_server() -> Iterator[tuple[str, type[_Counter]]]:
    """An HTTP server on 127.0.0.1 (OS-chosen port) counting the requests that reach it."""
    handler = type("Counter", (_Counter,), {"hits": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _plain_pytest(folder: Path, source: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``pytest -rA <module>`` with the project's pyproject.toml and no options but ``args``."""
    module = folder / "test_inner.py"
    module.write_text(source)
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    command = [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "-p", "no:cacheprovider"]
    return subprocess.run(
        [*command, "-q", "-rA", *args, str(module)], capture_output=True, text=True, cwd=folder, env=env, timeout=120
    )


_INNER = """
import socket
import urllib.request

import pytest


@pytest.mark.vcr
def test_fetch():
    with urllib.request.urlopen({url!r}, timeout=5) as answer:
        assert answer.read() == b"ok"


def test_connect():
    # 192.0.2.1 is TEST-NET-1 (documentation only): if the block failed, the connect would not be refused
    # by pytest-recording but time out or be refused by the network.
    with pytest.raises(RuntimeError, match="Network is disabled"):
        socket.create_connection(("192.0.2.1", 80), timeout=0.5)
"""


@dataclass
class _Run:
    result: subprocess.CompletedProcess[str]
    hits: int
    folder: Path

    def outcome(self, test: str) -> str:
        """PASSED / FAILED / ... of one inner test, from the ``-rA`` summary."""
        words = [line.split(" ", 1)[0] for line in self.result.stdout.splitlines() if f"::{test}" in line]
        outcomes = [w for w in words if w in ("PASSED", "FAILED", "ERROR", "SKIPPED")]
        assert len(outcomes) == 1, self.result.stdout + self.result.stderr
        return outcomes[0]


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory: pytest.TempPathFactory, local_server: tuple[str, type[_Counter]]) -> _Run:
    """One plain ``pytest`` run (no command-line options) of the inner module."""
    url, handler = local_server
    folder = tmp_path_factory.mktemp("plain")
    before = handler.hits
    result = _plain_pytest(folder, _INNER.format(url=url))
    return _Run(result, handler.hits - before, folder)


def test_vcr_test_without_cassette_fails_instead_of_reaching_the_network(plain_run: _Run) -> None:
    assert plain_run.outcome("test_fetch") == "FAILED"
    assert "CannotOverwriteExistingCassetteException" in plain_run.result.stdout
    assert plain_run.hits == 0  # replay only: the request never left the process
    assert not list(plain_run.folder.rglob("*.yaml"))


def test_other_hosts_are_blocked(plain_run: _Run) -> None:
    assert plain_run.outcome("test_connect") == "PASSED"


def test_record_mode_on_the_command_line_still_wins(tmp_path: Path, local_server: tuple[str, type[_Counter]]) -> None:
    # `dev.py record` passes --record-mode=rewrite after the configured options; the network block
    # must not stop a cassette test from recording (here from a local server, like the emulator).
    url, handler = local_server
    before = handler.hits
    result = _plain_pytest(tmp_path, _INNER.format(url=url), "--record-mode=rewrite", "-k", "test_fetch")
    assert result.returncode == 0, result.stdout + result.stderr
    assert handler.hits - before == 1
    assert len(list(tmp_path.rglob("*.yaml"))) == 1
