"""``Retry-After``: seconds and HTTP-date honoured up to a cap; absurd values clamped; 429 for ever ends."""

from __future__ import annotations

import email.utils
import socket
import time

import pytest

from stackit_chutes_core import ChatRequest, Message, RateLimitError, chat, resolve_endpoint
from stackit_chutes_core.errors import MAX_RETRY_AFTER_S, error_from_response
from tests.hardening._support import Handler, hostile_server, http_response

HELLO = ChatRequest(messages=[Message(role="user", content="hi")])
BUSY = b'{"detail": "Infrastructure is at maximum capacity, try again later"}'


def retry_after(headers: dict[str, str]) -> float | None:
    return error_from_response(provider="chutes", status_code=429, body="", headers=headers).retry_after


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "5"}, 5.0),
        ({"retry-after": "2.5"}, 2.5),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after": "999999"}, MAX_RETRY_AFTER_S),
        ({"retry-after": "1e400"}, MAX_RETRY_AFTER_S),
        ({"retry-after": "inf"}, MAX_RETRY_AFTER_S),
        ({"retry-after-ms": "99999999999"}, MAX_RETRY_AFTER_S),
        ({"retry-after": "-5"}, 0.0),
        ({"retry-after-ms": "-1"}, 0.0),
        ({"retry-after": "NaN"}, None),
        ({"retry-after-ms": "nan", "retry-after": "3"}, 3.0),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # a date in the past: retry now
    ],
)
def test_retry_after_is_clamped(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after(headers) == expected


def test_retry_after_http_date_is_honoured() -> None:
    value = retry_after({"retry-after": email.utils.formatdate(time.time() + 30, usegmt=True)})
    assert value is not None and 27.0 <= value <= 30.0
    far = retry_after({"retry-after": email.utils.formatdate(time.time() + 86400, usegmt=True)})
    assert far == MAX_RETRY_AFTER_S


def busy(value: str) -> Handler:
    def handler(conn: socket.socket, _: bytes) -> None:
        conn.sendall(http_response(429, BUSY, {"Retry-After": value}))

    return handler


def test_429_forever_ends_after_max_retries_with_the_header_honoured() -> None:
    with hostile_server(busy("0.2")) as server:
        endpoint = resolve_endpoint("chutes/m", api_key="k", base_url=server.url, max_retries=2)
        started = time.monotonic()
        with pytest.raises(RateLimitError) as caught:
            chat(endpoint, HELLO)
        elapsed = time.monotonic() - started
        assert server.requests == 3
    assert 0.4 <= elapsed < 3.0  # two waits of 0.2 s (the header), not the SDK's backoff
    assert caught.value.retry_after == pytest.approx(0.2)
    assert "maximum capacity" in str(caught.value)


@pytest.mark.parametrize("value", ["999999", "-5", "NaN"])
def test_absurd_retry_after_never_stalls_or_leaks(value: str) -> None:
    with hostile_server(busy(value)) as server:
        endpoint = resolve_endpoint("chutes/m", api_key="k", base_url=server.url, max_retries=1)
        started = time.monotonic()
        with pytest.raises(RateLimitError) as caught:
            chat(endpoint, HELLO)
        assert time.monotonic() - started < 3.0
        assert 1 <= server.requests <= 2
    reported = caught.value.retry_after
    assert reported is None or 0.0 <= reported <= MAX_RETRY_AFTER_S
