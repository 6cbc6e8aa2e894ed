"""Chutes' unframed mid-stream ``{"error": ...}`` line surfaces the provider's message (providers.md 4.8).

After streaming has started, Chutes writes the engine's failure as a raw JSON line without ``data:``
framing and closes the stream. Before the fix the SDK's SSE parser dropped that line and the user
only learnt that the stream "ended before the model finished".
"""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from stackit_chutes_core import (
    ChatDelta,
    ChatRequest,
    Message,
    StreamError,
    astream_chat,
    resolve_endpoint,
    stream_chat,
)
from tests.hardening._support import Handler, hostile_server

HELLO = ChatRequest(messages=[Message(role="user", content="hi")])
MODEL = "Qwen/Qwen3-32B"
CHUNK = {"id": "s", "model": MODEL, "choices": [{"index": 0, "delta": {"content": "partial"}, "finish_reason": None}]}


def chutes_breaking(error: object) -> Handler:
    """Two framed chunks, then the raw error line, then the connection closes (no [DONE])."""

    def handler(conn: socket.socket, _: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
        conn.sendall(f"data: {json.dumps(CHUNK)}\n\n".encode())
        conn.sendall(json.dumps({"error": error}).encode() + b"\n")
        conn.shutdown(socket.SHUT_WR)

    return handler


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("Unhandled exception during response stream: CUDA out of memory", "CUDA out of memory"),
        ({"message": "engine crashed: KV cache exhausted", "code": 500}, "engine crashed: KV cache exhausted"),
    ],
)
def test_unframed_error_line_surfaces_the_providers_message(error: object, expected: str) -> None:
    with hostile_server(chutes_breaking(error)) as server:
        endpoint = resolve_endpoint(f"chutes/{MODEL}", api_key="k", base_url=server.url, max_retries=0)
        received: list[ChatDelta] = []
        with pytest.raises(StreamError) as caught:
            for delta in stream_chat(endpoint, HELLO):
                received.append(delta)

        async def consume() -> None:
            async for _ in astream_chat(endpoint, HELLO):
                pass

        with pytest.raises(StreamError) as caught_async:
            asyncio.run(consume())
    assert "".join(d.text for d in received) == "partial"  # what came before the error is delivered
    for raised in (caught.value, caught_async.value):
        assert expected in raised.message and expected in str(raised)
        assert (raised.provider, raised.model) == ("chutes", MODEL)
        assert raised.body == error
