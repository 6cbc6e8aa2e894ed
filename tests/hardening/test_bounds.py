"""Bounded calls: an overall per-attempt deadline (also for trickled bodies) and a response-size cap.

httpx's read timeout bounds each read, not the body: before the fix a server trickling one byte
per second kept a call alive for ever, and an endless body was buffered until ``MemoryError``.
"""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from stackit_chutes_core import (
    DEFAULT_MAX_RESPONSE_BYTES,
    APITimeoutError,
    ChatRequest,
    Message,
    ResponseTooLargeError,
    StackitChutesError,
    achat,
    chat,
    embed_texts,
    resolve_endpoint,
)
from tests.hardening._support import hostile_server, http_response

HELLO = ChatRequest(messages=[Message(role="user", content="hi")])
ANSWER = (
    b'{"id":"x","object":"chat.completion","model":"m","choices":[{"index":0,'
    b'"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}'
)
TRICKLE_FOR_S = 15.0  # the server gives up after this long, so the test ends even on unbounded code


def trickle(conn: socket.socket, _: bytes) -> None:
    """Valid headers, then the body one byte per 0.5 s (each read is well within the read timeout)."""
    conn.sendall(http_response(200, ANSWER)[: -len(ANSWER)])
    stop = time.monotonic() + TRICKLE_FOR_S
    for byte in ANSWER:
        if time.monotonic() > stop:
            return
        conn.sendall(bytes([byte]))
        time.sleep(0.5)


def endless(conn: socket.socket, _: bytes) -> None:
    """A chunked body that goes on (bounded at 48 MiB, so unbounded code fails instead of swapping)."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    block = b"[" * (1024 * 1024)
    for _ in range(48):
        conn.sendall(b"%x\r\n%s\r\n" % (len(block), block))
    conn.sendall(b"0\r\n\r\n")


def announced_huge(conn: socket.socket, _: bytes) -> None:
    """Announces 10 GiB and sends a little: the cap must refuse it from the headers alone."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10737418240\r\n\r\n{")
    time.sleep(2)


def test_trickled_body_times_out_within_the_retry_budget() -> None:
    with hostile_server(trickle) as server:
        endpoint = resolve_endpoint("stackit/m", api_key="k", base_url=server.url, timeout=1.0, max_retries=1)
        started = time.monotonic()
        with pytest.raises(APITimeoutError) as caught:
            chat(endpoint, HELLO)
        elapsed = time.monotonic() - started
    # timeout x (max_retries + 1) = 2 s, plus <= 1 s backoff and one 0.5 s read of slack per attempt.
    assert elapsed < 5.0, elapsed
    assert server.requests == 2
    assert caught.value.provider == "stackit"


def test_trickled_body_times_out_async() -> None:
    with hostile_server(trickle) as server:
        endpoint = resolve_endpoint("stackit/m", api_key="k", base_url=server.url, timeout=1.0, max_retries=0)
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            asyncio.run(achat(endpoint, HELLO))
        assert time.monotonic() - started < 3.0


def test_endless_body_stops_at_the_size_cap_without_retrying() -> None:
    with hostile_server(endless) as server:
        endpoint = resolve_endpoint(
            "stackit/m", api_key="k", base_url=server.url, max_retries=2, max_response_bytes=4 * 1024 * 1024
        )
        with pytest.raises(ResponseTooLargeError) as caught:
            chat(endpoint, HELLO)
        assert server.requests == 1  # the same oversized answer would come back: no retry
    error = caught.value
    assert isinstance(error, StackitChutesError)
    assert error.limit == 4 * 1024 * 1024
    assert error.provider == "stackit"
    assert "max_response_bytes" in str(error)


def test_endless_body_stops_at_the_size_cap_async() -> None:
    with hostile_server(endless) as server:
        endpoint = resolve_endpoint(
            "stackit/m", api_key="k", base_url=server.url, max_retries=0, max_response_bytes=2 * 1024 * 1024
        )
        with pytest.raises(ResponseTooLargeError):
            asyncio.run(achat(endpoint, HELLO))


def test_announced_oversize_body_is_refused_from_the_headers() -> None:
    with hostile_server(announced_huge) as server:
        endpoint = resolve_endpoint("stackit/m", api_key="k", base_url=server.url, purpose="embeddings", timeout=10)
        started = time.monotonic()
        with pytest.raises(ResponseTooLargeError) as caught:
            embed_texts(endpoint, ["a"])
        assert time.monotonic() - started < 1.5  # did not wait for the body
    assert caught.value.limit == DEFAULT_MAX_RESPONSE_BYTES == 64 * 1024 * 1024


def test_normal_answers_pass_and_the_cap_is_validated() -> None:
    with hostile_server(lambda conn, _: conn.sendall(http_response(200, ANSWER))) as server:
        endpoint = resolve_endpoint(
            "stackit/m", api_key="k", base_url=server.url, timeout=5, max_response_bytes=len(ANSWER)
        )
        assert chat(endpoint, HELLO).text == "ok"
    with pytest.raises(StackitChutesError, match="max_response_bytes"):
        resolve_endpoint("stackit/m", api_key="k", max_response_bytes=0)


def test_model_connection_carries_the_cap() -> None:
    from stackit_chutes_core import ModelConnection

    with hostile_server(endless) as server:
        connection = ModelConnection.bind(
            "stackit/m", api_key="k", base_url=server.url, max_retries=0, max_response_bytes=1024 * 1024
        )
        with pytest.raises(ResponseTooLargeError) as caught:
            chat(connection.endpoint(), HELLO)
    assert caught.value.limit == 1024 * 1024
    assert ModelConnection.bind("stackit/m", api_key="k").endpoint().max_response_bytes == DEFAULT_MAX_RESPONSE_BYTES
