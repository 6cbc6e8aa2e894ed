"""The HTTP side: three local hosts (STACKIT, Chutes LLM, Chutes embeddings) in one object.

Usage::

    from tests.emulator import ProviderEmulator

    with ProviderEmulator(latency_s=0.0, max_lifetime_s=900) as emu:
        emu.base_urls["stackit"]            # http://127.0.0.1:<port>/v1
        emu.base_urls["chutes"]             # Chutes LLM host
        emu.base_urls["chutes_embeddings"]  # Chutes embeddings host
        emu.requests                        # list[CapturedRequest]

Auth: every request needs ``Authorization: Bearer <key>``. STACKIT answers a missing/empty key with
an empty 403 and the key ``invalid`` with an empty 401 (unverified live: either status); Chutes
answers a missing key with 401 ``Authentication required.``, the key ``invalid`` (JWT path) with 401
``Invalid token.`` and ``cpk_invalid`` with 401 ``Missing or invalid authorization header(s)``.
Chutes ``GET /v1/models`` is public. On the Chutes LLM host a POST to a path no LLM chute serves
(e.g. ``/v1/embeddings``) is 404 ``No matching cord found!`` for a known model. Failure scenarios:
see :mod:`tests.emulator.scenarios` (``X-Emulator-Scenario`` header).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import threading
import time
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.emulator.chat import handle_chat
from tests.emulator.completions import handle_completions
from tests.emulator.embeddings import handle_embeddings
from tests.emulator.errors import EmulatorError, Provider, Reply, chutes_error, vllm_error
from tests.emulator.models import chutes_models_payload, resolve, stackit_models_payload
from tests.emulator.scenarios import HEADER, STREAM_SCENARIOS, ScenarioCounter, parse_scenario, scenario_error

PROVIDERS: tuple[Provider, ...] = ("stackit", "chutes", "chutes_embeddings")
_ROUTES = {"/v1/models": "GET", "/v1/chat/completions": "POST", "/v1/completions": "POST", "/v1/embeddings": "POST"}


@dataclass(frozen=True)
class CapturedRequest:
    """One request as received (headers lower-cased, body parsed as JSON or ``None``)."""

    provider: str
    method: str
    path: str
    headers: dict[str, str]
    body: Any


def _check_auth(provider: Provider, method: str, path: str, headers: dict[str, str]) -> None:
    scheme, _, key = headers.get("authorization", "").strip().partition(" ")
    key = key.strip() if scheme.lower() == "bearer" else ""
    if provider == "stackit":
        if not key:
            raise EmulatorError(Reply.empty(403))  # documented probe: 403, content-length 0
        if key == "invalid":
            # The status for a wrong non-empty key is unverified (401 or 403); 401 here, so clients
            # are exercised on both (tests accept either).
            raise EmulatorError(Reply.empty(401))
        return
    if provider == "chutes" and method == "GET" and path == "/v1/models":
        return
    if not key:
        raise chutes_error("Authentication required.", 401)
    # api/user/service.py: a non-cpk_ bearer is taken for a JWT; a malformed cpk_ key fails the key path.
    if key == "invalid":
        raise chutes_error("Invalid token.", 401)
    if key == "cpk_invalid":
        raise chutes_error("Missing or invalid authorization header(s)", 401)


def _extra_headers(provider: Provider, raw: bytes) -> dict[str, str]:
    rid = hashlib.sha256(raw + str(time.monotonic_ns()).encode()).hexdigest()[:32]
    if provider == "stackit":
        return {
            "x-request-id": rid,
            "x-ratelimit-limit-requests": "600",
            "x-ratelimit-remaining-requests": "599",
            "x-ratelimit-limit-tokens": "200000",
            "x-ratelimit-remaining-tokens": "199000",
        }
    return {"x-chutes-invocationid": f"{rid[:8]}-{rid[8:12]}-{rid[12:16]}-{rid[16:20]}-{rid[20:32]}"}


_CHUTES_LLM_CORDS = frozenset({"/v1/chat/completions", "/v1/completions"})


def dispatch(
    emulator: ProviderEmulator,
    provider: Provider,
    method: str,
    path: str,
    headers: dict[str, str],
    body: Any,
    body_error: str | None,
) -> Reply:
    """Route one request; raises :class:`EmulatorError` for error replies."""
    path = path.split("?", 1)[0].rstrip("/") or "/"
    _check_auth(provider, method, path, headers)
    scenario_name = None
    if HEADER in headers:
        scenario = parse_scenario(headers[HEADER])
        is_stream = path == "/v1/chat/completions" and isinstance(body, dict) and bool(body.get("stream"))
        applicable = is_stream or scenario.name not in STREAM_SCENARIOS
        if applicable and emulator.scenarios.consume(scenario):
            if scenario.name in STREAM_SCENARIOS:
                scenario_name = scenario.name
            else:
                raise scenario_error(provider, scenario.name)
    if provider == "chutes" and method == "POST" and path.startswith("/v1/") and path not in _CHUTES_LLM_CORDS:
        # The gateway resolves the model first (unknown -> "model not found: <id>"), then looks for a
        # cord of that chute serving the path: an LLM chute has none for e.g. /v1/embeddings.
        resolve(provider, body.get("model") if isinstance(body, dict) else None, "chat")
        raise chutes_error("No matching cord found!", 404)
    if path not in _ROUTES or (provider == "chutes_embeddings" and path == "/v1/models"):
        raise chutes_error("Not Found", 404)
    if method != _ROUTES[path]:
        raise chutes_error("Method Not Allowed", 405)
    if body_error is not None:
        if provider == "stackit":
            raise vllm_error(f"JSON decode error: {body_error}", 400)
        raise chutes_error(f"invalid request JSON payload: {body_error}", 400)
    if path == "/v1/models":
        return Reply.json(stackit_models_payload() if provider == "stackit" else chutes_models_payload())
    if path == "/v1/embeddings":
        return handle_embeddings(provider, body, headers)
    if provider == "chutes_embeddings":
        resolve(provider, body.get("model") if isinstance(body, dict) else None, "chat")
    if path == "/v1/completions":
        return handle_completions(provider, body, headers)
    return handle_chat(provider, body, headers, scenario_name)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(self, emulator: ProviderEmulator, provider: Provider, host: str) -> None:
        self.emulator = emulator
        self.provider = provider
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__((host, 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, keep-alive replies stall ~40 ms.
    disable_nagle_algorithm = True
    server: _Server
    timeout = 300

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.sockets_lock:
            self.server.open_sockets.add(self.connection)

    def finish(self) -> None:
        with self.server.sockets_lock:
            self.server.open_sockets.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        emulator, provider = self.server.emulator, self.server.provider
        raw = self._read_body()
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        body: Any = None
        body_error: str | None = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError as exc:
                body_error = str(exc)
        elif self.command == "POST":
            body_error = "empty request body"
        emulator._record(CapturedRequest(provider, self.command, self.path, headers, body))
        try:
            reply = dispatch(emulator, provider, self.command, self.path, headers, body, body_error)
        except EmulatorError as exc:
            reply = exc.reply
        except Exception as exc:  # a bug in the emulator: surface it loudly
            reply = Reply.json({"detail": f"emulator crash: {exc!r}", "traceback": traceback.format_exc()}, 500)
        if reply.status != 403 or reply.body:
            reply.headers = {**_extra_headers(provider, raw), **reply.headers}
        if emulator.latency_s > 0:
            time.sleep(emulator.latency_s)
        try:
            self._write(reply)
        except OSError:  # client went away mid-reply
            self.close_connection = True

    def _write(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.stream is None:
            self.send_header("content-length", str(len(reply.body)))
            buffer: list[bytes] = self._headers_buffer  # type: ignore[attr-defined]
            buffer.append(b"\r\n" + reply.body)  # headers + body in one write (no Nagle delay)
            self.flush_headers()
            return
        self.send_header("transfer-encoding", "chunked")
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True
        for chunk in reply.stream:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")


class ProviderEmulator:
    """Local OpenAI-compatible emulator of STACKIT AI Model Serving and Chutes (three hosts).

    Args:
        latency_s: sleep before every reply (mutable at run time via ``emu.latency_s``).
        max_lifetime_s: hard stop after this many seconds (``None`` disables the timer).
        host: interface to bind (ports are chosen by the OS).
    """

    def __init__(self, latency_s: float = 0.0, max_lifetime_s: float | None = 900.0, host: str = "127.0.0.1") -> None:
        self.latency_s = latency_s
        self.requests: list[CapturedRequest] = []
        self.scenarios = ScenarioCounter()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._servers: dict[str, _Server] = {p: _Server(self, p, host) for p in PROVIDERS}
        self._threads = [
            threading.Thread(
                target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name=f"emulator-{name}"
            )
            for name, srv in self._servers.items()
        ]
        for thread in self._threads:
            thread.start()
        self.base_urls: dict[str, str] = {
            name: f"http://{host}:{srv.server_address[1]}/v1" for name, srv in self._servers.items()
        }
        self._timer: threading.Timer | None = None
        if max_lifetime_s is not None:
            self._timer = threading.Timer(max_lifetime_s, self.close)
            self._timer.daemon = True
            self._timer.start()

    def __enter__(self) -> ProviderEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "running"
        return f"ProviderEmulator({state}, base_urls={self.base_urls!r})"

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran (explicitly or by the lifetime timer)."""
        return self._closed.is_set()

    def _record(self, request: CapturedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def clear_requests(self) -> None:
        """Forget captured requests and reset ``name:count`` scenario counters."""
        with self._lock:
            self.requests.clear()
        self.scenarios.reset()

    def requests_for(self, provider: str) -> list[CapturedRequest]:
        """Captured requests of one host (``stackit``, ``chutes`` or ``chutes_embeddings``)."""
        with self._lock:
            return [r for r in self.requests if r.provider == provider]

    def wait_closed(self, timeout: float | None = None) -> bool:
        """Block until the emulator is closed (used by ``python -m tests.emulator``)."""
        return self._closed.wait(timeout)

    def close(self) -> None:
        """Stop all three servers and drop open connections (idempotent)."""
        with self._lock:
            if self._closed.is_set():
                return
            self._closed.set()
        if self._timer is not None:
            self._timer.cancel()
        for srv in self._servers.values():
            srv.shutdown()
            srv.server_close()
            with srv.sockets_lock:
                sockets = list(srv.open_sockets)
            for sock in sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=2)
