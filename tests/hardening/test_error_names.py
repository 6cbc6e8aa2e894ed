"""Every error of a call names the provider, the model id and the provider's own message.

Before the fix no API error carried the model. The hostile server below picks its failure from the
requested model id, so each error must echo back exactly the id that was asked for.
"""

from __future__ import annotations

import json
import socket
import time

import pytest

from stackit_chutes_core import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    ChatRequest,
    Message,
    StreamError,
    chat,
    embed_texts,
    resolve_endpoint,
    stream_chat,
)
from tests.hardening._support import hostile_server, http_response

HELLO = ChatRequest(messages=[Message(role="user", content="hi")])
BODIES = {  # the three provider error shapes (providers.md 1.10 / 4.8)
    400: {"error": {"message": "provider says: bad field", "type": "BadRequestError", "code": 400}},
    401: {"detail": "provider says: who are you"},
    402: {"detail": {"message": "provider says: no balance", "quota_reset_timestamp": "2026-12-02T00:00:00Z"}},
    404: {"object": "error", "message": "provider says: no such model", "code": 404},
    429: {"detail": "provider says: at capacity"},
    500: {"error": {"message": "provider says: engine died"}},
    503: {"detail": "provider says: no instances"},
}


def handler(conn: socket.socket, raw: bytes) -> None:
    body = json.loads(raw.partition(b"\r\n\r\n")[2] or b"{}")
    model = body.get("model", "")
    kind = model.rsplit("/", 1)[-1]
    if kind.isdigit():
        conn.sendall(http_response(int(kind), json.dumps(BODIES[int(kind)]).encode()))
    elif kind == "slow":
        time.sleep(1.5)
    elif kind == "stream-error":
        event = json.dumps({"error": {"message": "provider says: stream broke", "code": 500}})
        payload = f"data: {event}\n\n".encode()
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: %d\r\n\r\n%s"
            % (len(payload), payload)
        )
    elif kind == "short-embeddings":
        answer = {"object": "list", "data": [{"index": 0, "embedding": [0.1]}], "model": model}
        conn.sendall(http_response(200, json.dumps(answer).encode()))


@pytest.mark.parametrize("status", sorted(BODIES))
def test_status_errors_name_provider_model_and_message(status: int) -> None:
    model_id = f"acme/failing-{status}/{status}"
    with hostile_server(handler) as server:
        endpoint = resolve_endpoint(f"chutes/{model_id}", api_key="k", base_url=server.url, max_retries=0)
        with pytest.raises(APIStatusError) as caught:
            chat(endpoint, HELLO)
    error = caught.value
    assert (error.provider, error.model, error.status_code) == ("chutes", model_id, status)
    assert error.message.startswith("provider says: ")
    assert error.body == BODIES[status]
    assert model_id in str(error) and error.message in str(error) and "chutes" in str(error)


def test_transport_errors_name_the_model() -> None:
    with hostile_server(handler) as server:
        slow = resolve_endpoint("chutes/acme/slow", api_key="k", base_url=server.url, timeout=0.5, max_retries=0)
        with pytest.raises(APITimeoutError) as timeout:
            chat(slow, HELLO)
        truncated = resolve_endpoint("chutes/acme/stream-error", api_key="k", base_url=server.url, max_retries=0)
        with pytest.raises(StreamError) as stream:
            list(stream_chat(truncated, HELLO))
        short = resolve_endpoint(
            "chutes/acme/short-embeddings", api_key="k", base_url=server.url, purpose="embeddings", max_retries=0
        )
        with pytest.raises(APIError) as embeddings:
            embed_texts(short, ["a", "b"])
        port = int(server.url.split(":")[2].split("/")[0])
    closed = resolve_endpoint("chutes/acme/gone", api_key="k", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
    with pytest.raises(APIConnectionError) as refused:
        chat(closed, HELLO)
    assert stream.value.message == "provider says: stream broke"
    for caught, model_id in [
        (timeout, "acme/slow"),
        (stream, "acme/stream-error"),
        (embeddings, "acme/short-embeddings"),
        (refused, "acme/gone"),
    ]:
        assert (caught.value.provider, caught.value.model) == ("chutes", model_id)
        assert f"model {model_id}" in str(caught.value)
