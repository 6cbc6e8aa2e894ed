"""A local OpenAI-compatible server that enforces a request and token budget, like STACKIT.

``POST /v1/embeddings`` (and ``/v1/chat/completions``) count against a sliding window: at most
``requests`` requests and ``tokens`` tokens (characters / 4 + 1 per input text; chat: prompt + 5 x
generated) per ``window_s`` seconds. Over budget: 429 without ``Retry-After`` (STACKIT's body and
headers are undocumented; Chutes sends none), not counted. On top, ``random_429`` of the requests
get a 429 at random (Chutes' capacity answers). Rejected requests do not count. Accepted requests are
timestamped, so the achieved rate can be compared with the budget. Vectors are 8-d (the clients do
not check sizes). Bound to 127.0.0.1 on an OS-chosen port; stops with :meth:`close` or after
``max_lifetime_s``.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["RateLimitedServer"]


def _tokens(body: dict[str, Any]) -> int:
    inputs = body.get("input") or []
    if isinstance(inputs, str):
        inputs = [inputs]
    return sum(len(t) // 4 + 1 for t in inputs if isinstance(t, str)) or 1


class RateLimitedServer:
    """See the module docstring; ``base_url`` ends in ``/v1``."""

    def __init__(
        self,
        requests: int,
        tokens: int | None = None,
        window_s: float = 60.0,
        random_429: float = 0.05,
        seed: int = 12,
        max_lifetime_s: float = 900.0,
    ) -> None:
        self.requests, self.tokens, self.window_s, self.random_429 = requests, tokens, window_s, random_429
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._window: deque[tuple[float, int]] = deque()
        self._window_tokens = 0
        self.accepted: list[tuple[float, int]] = []
        """(monotonic time, tokens) of every accepted request."""
        self.over_budget = 0
        """429s for exceeding the budget (a well-paced client causes none)."""
        self.random_rejections = 0
        """Injected 429s."""
        self.max_in_window = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                status, answer = server._answer(self.path, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self._stopper = threading.Timer(max_lifetime_s, self.close)
        self._stopper.daemon = True
        self._stopper.start()

    def _answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        cost = _tokens(body)
        with self._lock:
            now = time.monotonic()
            while self._window and self._window[0][0] <= now - self.window_s:
                self._window_tokens -= self._window.popleft()[1]
            over_requests = len(self._window) >= self.requests
            over_tokens = self.tokens is not None and self._window_tokens + cost > self.tokens
            if over_requests or over_tokens:
                self.over_budget += 1
                return 429, {"error": {"message": "Rate limit exceeded", "type": "RateLimitError", "code": 429}}
            if self._random.random() < self.random_429:
                self.random_rejections += 1
                return 429, {"detail": "Infrastructure is at maximum capacity, try again later"}
            self._window.append((now, cost))
            self._window_tokens += cost
            self.max_in_window = max(self.max_in_window, len(self._window))
            self.accepted.append((now, cost))
        usage = {"prompt_tokens": cost, "total_tokens": cost}
        if path.endswith("/chat/completions"):
            message = {"role": "assistant", "content": "ok"}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            return 200, {
                "id": "c",
                "object": "chat.completion",
                "model": body.get("model"),
                "choices": [choice],
                "usage": {**usage, "completion_tokens": 1, "total_tokens": cost + 1},
            }
        inputs = body.get("input") or [""]
        data = [
            {"index": i, "object": "embedding", "embedding": [float(i), 0.5, 0, 0, 0, 0, 0, 1.0]}
            for i in range(len(inputs) if isinstance(inputs, list) else 1)
        ]
        return 200, {"object": "list", "data": data, "model": body.get("model"), "usage": usage}

    def achieved(self) -> tuple[float, float]:
        """(requests, tokens) per window actually accepted, from the first to the last acceptance."""
        with self._lock:
            if len(self.accepted) < 2:
                return 0.0, 0.0
            span = self.accepted[-1][0] - self.accepted[0][0]
            count, tokens = len(self.accepted) - 1, sum(c for _, c in self.accepted[1:])
        return count / span * self.window_s, tokens / span * self.window_s

    def close(self) -> None:
        """Stop serving."""
        self._stopper.cancel()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> RateLimitedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
