"""Shared pieces of the hardening tests: an emulator endpoint and a tiny hostile HTTP server.

The hostile server binds 127.0.0.1 on an OS-chosen port, serves each connection on a daemon thread
with a handler the test supplies (raw socket access, so it can trickle, lie or never end), and
stops by itself after ``max_lifetime_s``.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Handler = Callable[[socket.socket, bytes], None]
"""Called with the client socket and the raw request bytes (headers and body) already read."""


def read_request(conn: socket.socket, timeout: float = 5.0) -> bytes:
    """Read one HTTP/1.1 request (headers plus a Content-Length body) from ``conn``."""
    conn.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


class HostileServer:
    """A one-purpose HTTP server; ``url`` is its ``/v1`` base URL, ``requests`` counts requests."""

    def __init__(self, handler: Handler, max_lifetime_s: float = 60.0) -> None:
        self._handler = handler
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.requests = 0
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"
        self._thread = threading.Thread(target=self._serve, daemon=True, name="hostile-server")
        self._thread.start()
        self._timer = threading.Timer(max_lifetime_s, self._stop.set)
        self._timer.daemon = True
        self._timer.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()
        self._sock.close()

    def _connection(self, conn: socket.socket) -> None:
        with conn:
            while not self._stop.is_set():
                try:
                    raw = read_request(conn)
                except OSError:
                    return
                if not raw:
                    return
                with self._lock:
                    self.requests += 1
                try:
                    self._handler(conn, raw)
                except OSError:  # the client gave up (timeout, size cap): that is the point
                    return

    @property
    def stopped(self) -> bool:
        """Whether the server was told to stop."""
        return self._stop.is_set()

    def close(self) -> None:
        """Stop accepting; open connections end when their handler returns."""
        self._stop.set()
        self._timer.cancel()
        self._thread.join(timeout=2)


@contextmanager
def hostile_server(handler: Handler, max_lifetime_s: float = 60.0) -> Iterator[HostileServer]:
    """Run a :class:`HostileServer` for the duration of the ``with`` block."""
    server = HostileServer(handler, max_lifetime_s)
    try:
        yield server
    finally:
        server.close()


def http_response(status: int, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    """A complete HTTP/1.1 response with a JSON content type and a Content-Length."""
    lines = [f"HTTP/1.1 {status} X", "Content-Type: application/json", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
