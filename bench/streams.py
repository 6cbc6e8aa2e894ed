"""Long streams: per-chunk cost at 1,000 and at 100,000 chunks (issue #12: within 1.5x).

A stream aggregated by re-joining its text on every chunk costs O(N^2); the target is a flat
per-chunk cost. A small SSE server runs in a child process (``python -m bench.streams <lifetime>``)
and answers ``POST /n/<N>/v1/chat/completions`` with N content chunks of one short word each, a
finish chunk and a usage chunk, pre-serialised, so the measured time is the client's. Every contender
consumes every chunk the way its users do (LangChain ``stream``, LlamaIndex ``stream_chat`` reading
``delta``) and the last response's full text once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.emulator import ROOT
from bench.harness import describe_error

MODEL = "openai/gpt-oss-120b"
KEY = "bench-key"
TARGET = 1.5


@lru_cache(maxsize=4)
def _body(n: int) -> bytes:
    head = {"id": "chatcmpl-long", "object": "chat.completion.chunk", "created": 1, "model": MODEL}
    events = []
    for i in range(n):
        choice = {"index": 0, "delta": {"content": f" w{i % 1000}"}, "finish_reason": None}
        events.append(json.dumps({**head, "choices": [choice]}))
    events.append(json.dumps({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
    usage = {"prompt_tokens": 5, "completion_tokens": n, "total_tokens": n + 5}
    events.append(json.dumps({**head, "choices": [], "usage": usage}))
    events.append("[DONE]")
    return "".join(f"data: {e}\n\n" for e in events).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        parts = self.path.strip("/").split("/")
        n = int(parts[1]) if len(parts) > 1 and parts[0] == "n" and parts[1].isdigit() else 10
        body = _body(n)
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class StreamServer:
    """The SSE server in a child process; ``url(n)`` is a base URL whose streams have ``n`` chunks."""

    def __init__(self, lifetime_s: float = 900.0) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bench.streams", str(lifetime_s)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        self.port = int(self._proc.stdout.readline())

    def url(self, n: int) -> str:
        """Base URL (``.../v1``) of streams with ``n`` chunks."""
        return f"http://127.0.0.1:{self.port}/n/{n}/v1"

    def close(self) -> None:
        """Stop the child (it also stops when stdin closes or its lifetime ends)."""
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=10)


Consume = Callable[[str], int]
"""Given a base URL, stream once, consume every chunk; returns the length of the final text."""


def _openai_sdk(base: str) -> int:
    import openai

    client = openai.OpenAI(base_url=base, api_key=KEY)
    parts = []
    for chunk in client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "go"}], stream=True, stream_options={"include_usage": True}
    ):
        if chunk.choices and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
    client.close()
    return len("".join(parts))


def _core(base: str) -> int:
    from stackit_chutes_core import ChatRequest, ChatStreamState, Message, resolve_endpoint, stream_chat

    endpoint = resolve_endpoint("stackit/" + MODEL, base_url=base, api_key=KEY)
    state = ChatStreamState(endpoint)
    for _ in stream_chat(endpoint, ChatRequest(messages=[Message(role="user", content="go")]), state):
        pass
    return len(state.result().text)


def _lc_ours(base: str) -> int:
    from langchain_stackit_chutes import ChatStackitChutes

    llm = ChatStackitChutes(model="stackit/" + MODEL, base_url=base, api_key=KEY)
    return sum(len(chunk.content) for chunk in llm.stream("go"))


def _lc_openai(base: str) -> int:
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    llm = ChatOpenAI(base_url=base, api_key=SecretStr(KEY), model=MODEL, stream_usage=True)
    return sum(len(chunk.content) for chunk in llm.stream("go"))


def _llama(llm: Any) -> int:
    from llama_index.core.llms import ChatMessage

    last = None
    for last in llm.stream_chat([ChatMessage(role="user", content="go")]):
        _ = last.delta
    return len(last.message.content or "") if last is not None else 0


def _li_ours(base: str) -> int:
    from llama_index_stackit_chutes import StackitChutes

    return _llama(StackitChutes(model="stackit/" + MODEL, api_base=base, api_key=KEY))


def _li_openai_like(base: str) -> int:
    from llama_index.llms.openai_like import OpenAILike

    llm = OpenAILike(
        model=MODEL,
        api_base=base,
        api_key=KEY,
        is_chat_model=True,
        additional_kwargs={"stream_options": {"include_usage": True}},
    )
    return _llama(llm)


CONTENDERS: list[tuple[str, str, Consume]] = [
    ("openai SDK", "reference", _openai_sdk),
    ("ours: core stream_chat", "ours", _core),
    ("ours: LangChain ChatStackitChutes.stream", "ours", _lc_ours),
    ("langchain-openai ChatOpenAI.stream", "comparator", _lc_openai),
    ("ours: LlamaIndex StackitChutes.stream_chat", "ours", _li_ours),
    ("llama-index OpenAILike.stream_chat", "comparator", _li_openai_like),
]


def _per_chunk_us(consume: Consume, base: str, n: int, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        length = consume(base)
        elapsed = time.perf_counter() - started
        if length < n:  # every chunk carries >= 1 character
            raise RuntimeError(f"final text has {length} characters for {n} chunks")
        best = min(best, elapsed)
    return best / n * 1e6


def run_streams(small: int, large: int, small_repeats: int, large_repeats: int) -> list[dict[str, Any]]:
    """Best-of per-chunk microseconds at ``small`` and ``large`` chunks for every contender."""
    server = StreamServer()
    rows = []
    try:
        for name, role, consume in CONTENDERS:
            row: dict[str, Any] = {"name": name, "role": role}
            try:
                consume(server.url(50))  # warm-up: imports, client pools
                row["small_us"] = round(_per_chunk_us(consume, server.url(small), small, small_repeats), 2)
                row["large_us"] = round(_per_chunk_us(consume, server.url(large), large, large_repeats), 2)
                row["ratio"] = round(row["large_us"] / row["small_us"], 3)
                row["target_met"] = row["ratio"] <= TARGET if role == "ours" else None
            except Exception as exc:
                row["error"] = describe_error(exc)
            rows.append(row)
            print(f"  {name}: {row}", flush=True)
    finally:
        server.close()
    return rows


def format_streams(result: dict[str, Any]) -> str:
    """The table of the long-stream scenario."""
    small, large = result["small"], result["large"]
    lines = [
        result["title"],
        f"{'contender':<46} {f'us/chunk @{small}':>16} {f'us/chunk @{large}':>16} {'ratio':>7}  target<={TARGET}",
    ]
    for row in result["rows"]:
        if "error" in row:
            lines.append(f"{row['name']:<46} n/a: {row['error']}")
            continue
        met = {True: "met", False: "MISSED", None: ""}[row["target_met"]]
        lines.append(f"{row['name']:<46} {row['small_us']:>16.2f} {row['large_us']:>16.2f} {row['ratio']:>7.2f}  {met}")
    return "\n".join(lines)


def _serve(lifetime_s: float) -> int:
    import threading

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    stopper = threading.Timer(lifetime_s, server.shutdown)
    stopper.daemon = True
    stopper.start()
    sys.stdin.read()  # returns when the parent closes stdin or dies
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(_serve(float(sys.argv[1])))
