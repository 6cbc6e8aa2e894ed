"""Malformed 200 answers raise errors of the package's tree, never bare KeyError/ValueError/RecursionError.

Each case is served by a small local server exactly as a broken provider (or a proxy in between)
would send it; the caller must get an error it can catch as ``StackitChutesError`` (and therefore
by ``with_retry``/``with_fallbacks`` filters), naming provider and model.
"""

from __future__ import annotations

import asyncio
import json
import socket
from contextlib import AbstractContextManager

import pytest

from stackit_chutes_core import (
    ChatRequest,
    InvalidResponseError,
    Message,
    StackitChutesError,
    achat,
    chat,
    embed_texts,
    resolve_endpoint,
    stream_chat,
)
from tests.hardening._support import HostileServer, hostile_server

HELLO = ChatRequest(messages=[Message(role="user", content="hi")])
MODEL = "acme/broken-model"


def answer(choices: object = None, usage: object = None, **message: object) -> bytes:
    body: dict[str, object] = {
        "id": "x",
        "model": MODEL,
        "choices": choices
        if choices is not None
        else [{"index": 0, "message": {"role": "assistant", "content": "ok", **message}, "finish_reason": "stop"}],
    }
    if usage is not None:
        body["usage"] = usage
    return json.dumps(body).encode()


DEEP = b"[" * 200_000 + b"]" * 200_000
CHAT_CASES = {
    "invalid utf-8": b'{"choices":[{"message":{"content":"\xff\xfe\xfa"}}]}',
    "NaN usage": answer(usage={"prompt_tokens": 1}).replace(b'"prompt_tokens": 1', b'"prompt_tokens": NaN'),
    "Infinity usage": answer(usage={"prompt_tokens": 1}).replace(b'"prompt_tokens": 1', b'"prompt_tokens": -Infinity'),
    "string usage": answer(usage={"prompt_tokens": "12", "completion_tokens": 1}),
    "negative usage": answer(usage={"prompt_tokens": -5, "completion_tokens": 1}),
    "absurd usage": answer(usage={"prompt_tokens": 10**15, "completion_tokens": 1}),
    "usage not an object": answer(usage=[1, 2]),
    "choices an object": answer(choices={"0": {"message": {"content": "ok"}}}),
    "choices a string": answer(choices="ok"),
    "choice a string": answer(choices=["ok"]),
    "message a string": answer(choices=[{"message": "ok"}]),
    "content a number": answer(content=42),
    "tool_calls a string": answer(tool_calls="get_weather"),
    "tool_call an int": answer(tool_calls=[7]),
    "tool_call id an int": answer(tool_calls=[{"id": 7, "function": {"name": "f", "arguments": "{}"}}]),
    "function a list": answer(tool_calls=[{"id": "a", "function": ["f"]}]),
    "top-level array": b'[{"choices": []}]',
    "not JSON": b"<html><body>502 Bad Gateway</body></html>",
    "200k-deep JSON": DEEP,
}


def serve(body: bytes, content_type: str = "application/json") -> AbstractContextManager[HostileServer]:
    def handler(conn: socket.socket, _: bytes) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
        conn.sendall(head.encode() + body)

    return hostile_server(handler)


def assert_typed(error: BaseException) -> None:
    assert isinstance(error, StackitChutesError), type(error)
    assert not isinstance(error, (KeyError, ValueError, TypeError, RecursionError, AttributeError))
    assert error.provider == "chutes" and error.model == MODEL  # type: ignore[attr-defined]
    assert f"model {MODEL}" in str(error)


@pytest.mark.parametrize("case", sorted(CHAT_CASES))
def test_malformed_chat_answer_raises_a_typed_error(case: str) -> None:
    with serve(CHAT_CASES[case]) as server:
        endpoint = resolve_endpoint(f"chutes/{MODEL}", api_key="k", base_url=server.url, max_retries=0)
        with pytest.raises(InvalidResponseError) as caught:
            chat(endpoint, HELLO)
        with pytest.raises(InvalidResponseError):
            asyncio.run(achat(endpoint, HELLO))
    assert_typed(caught.value)


def vectors(*items: object) -> bytes:
    return json.dumps({"object": "list", "model": MODEL, "data": list(items)}).encode()


EMBEDDING_CASES = {
    "missing embedding": vectors({"index": 0}, {"index": 1, "embedding": [0.1, 0.2]}),
    "embedding null": vectors({"index": 0, "embedding": None}, {"index": 1, "embedding": [0.1, 0.2]}),
    "duplicate index": vectors({"index": 0, "embedding": [0.1, 0.2]}, {"index": 0, "embedding": [0.3, 0.4]}),
    "missing index": vectors({"embedding": [0.1, 0.2]}, {"index": 1, "embedding": [0.3, 0.4]}),
    "index out of range": vectors({"index": 0, "embedding": [0.1, 0.2]}, {"index": 5, "embedding": [0.3, 0.4]}),
    "ragged": vectors({"index": 0, "embedding": [0.1, 0.2]}, {"index": 1, "embedding": [0.3, 0.4, 0.5]}),
    "empty vectors": vectors({"index": 0, "embedding": []}, {"index": 1, "embedding": []}),
    "non-numeric": vectors({"index": 0, "embedding": ["a", "b"]}, {"index": 1, "embedding": [0.3, 0.4]}),
    "nested": vectors({"index": 0, "embedding": [[0.1], [0.2]]}, {"index": 1, "embedding": [0.3, 0.4]}),
    "NaN value": vectors({"index": 0, "embedding": [0.1, 0.2]}, {"index": 1, "embedding": [0.3, 0.4]}).replace(
        b"0.4", b"NaN"
    ),
    "bad base64": vectors({"index": 0, "embedding": "!!!"}, {"index": 1, "embedding": [0.3, 0.4]}),
    "data an object": json.dumps({"data": {"0": [0.1]}}).encode(),
    "too few": vectors({"index": 0, "embedding": [0.1, 0.2]}),
}


@pytest.mark.parametrize("case", sorted(EMBEDDING_CASES))
def test_malformed_embeddings_answer_raises_a_typed_error(case: str) -> None:
    with serve(EMBEDDING_CASES[case]) as server:
        endpoint = resolve_endpoint(
            f"chutes/{MODEL}", api_key="k", base_url=server.url, purpose="embeddings", max_retries=0
        )
        with pytest.raises(InvalidResponseError) as caught:
            embed_texts(endpoint, ["a", "b"])
    assert_typed(caught.value)


def test_embeddings_of_the_wrong_requested_size_are_refused() -> None:
    seven = [0.1] * 7
    with serve(vectors({"index": 0, "embedding": seven})) as server:
        endpoint = resolve_endpoint(
            f"chutes/{MODEL}", api_key="k", base_url=server.url, purpose="embeddings", max_retries=0
        )
        with pytest.raises(InvalidResponseError, match="7 dimensions, expected 4"):
            embed_texts(endpoint, ["a"], dimensions=4)
        assert embed_texts(endpoint, ["a"]).vectors == [seven]  # without a request, 7 is what the model has


def sse(*events: bytes) -> bytes:
    return b"".join(b"data: " + event + b"\n\n" for event in events) + b"data: [DONE]\n\n"


FIRST = json.dumps({"id": "s", "model": MODEL, "choices": [{"index": 0, "delta": {"content": "a"}}]}).encode()
STREAM_CASES = {
    "NaN usage": sse(FIRST, b'{"choices": [], "usage": {"prompt_tokens": NaN, "completion_tokens": 1}}'),
    "string usage": sse(FIRST, b'{"choices": [], "usage": {"prompt_tokens": "1e9", "completion_tokens": 1}}'),
    "choices an object": sse(FIRST, b'{"choices": {"delta": {"content": "b"}}}'),
    "delta a string": sse(FIRST, b'{"choices": [{"delta": "b"}]}'),
    "tool_calls a string": sse(FIRST, b'{"choices": [{"delta": {"tool_calls": "f"}}]}'),
    "invalid JSON": sse(FIRST, b'{"choices": [{"delta": '),
    "invalid utf-8": sse(FIRST, b'{"choices": [{"delta": {"content": "\xff\xfe"}}]}'),
    "200k-deep JSON": sse(FIRST, DEEP),
}


@pytest.mark.parametrize("case", sorted(STREAM_CASES))
def test_malformed_stream_raises_a_typed_error(case: str) -> None:
    with serve(STREAM_CASES[case], "text/event-stream") as server:
        endpoint = resolve_endpoint(f"chutes/{MODEL}", api_key="k", base_url=server.url, max_retries=0)
        with pytest.raises(StackitChutesError) as caught:
            list(stream_chat(endpoint, HELLO))
    assert_typed(caught.value)
