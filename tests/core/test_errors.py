"""Error shapes of both providers, parsed directly and through real calls (providers.md §1.7, §1.10, §4.2, §4.7, §4.8).

Real calls go through a MockTransport with ``max_retries=0`` unless a test is about retries, so the
SDK's exception is translated by ``transport.translate_error``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2
import pytest
from openai import _base_client as openai_base_client

from stackit_chutes_core import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ChatRequest,
    ContextLengthExceededError,
    EmbeddingItem,
    InternalServerError,
    Message,
    NotFoundError,
    QuotaExceededError,
    RateLimitError,
    StackitChutesError,
    achat,
    chat,
    embed_items,
    embed_texts,
    stream_chat,
)
from stackit_chutes_core.errors import error_from_response, parse_error_body
from tests._http import Recorder, chat_completion, endpoint, json_response

HELLO = ChatRequest(messages=[Message(role="user", content="hi")])

CONTEXT_MESSAGE = (
    "This model's maximum context length is 32768 tokens. However, you requested 39197 tokens in the "
    "messages, Please reduce the length of the messages. None"
)
# providers.md §1.10, verbatim: vLLM >= v0.10.1 nested error.
VLLM_NESTED = {"error": {"message": CONTEXT_MESSAGE, "type": "BadRequestError", "param": None, "code": 400}}
# providers.md §1.10, verbatim: vLLM <= v0.10.0 flat error.
VLLM_FLAT = {"object": "error", "message": CONTEXT_MESSAGE, "type": "BadRequestError", "param": None, "code": 400}
# providers.md §4.2 / §4.4 / §4.7: Chutes FastAPI bodies.
CHUTES_401 = {"detail": "Can't find a user with that api key in our db :("}
CHUTES_404 = {"detail": "model not found: zai-org/GLM-9000"}
CHUTES_429_CAPACITY = {"detail": "Infrastructure is at maximum capacity, try again later"}
CHUTES_429_MAINTENANCE = {"detail": "model is under maintenance"}
CHUTES_402 = {
    "detail": {
        "message": "Quota exceeded and account balance is $0.0, please pay with fiat or send tao to 5F...",
        "quota_reset_timestamp": "2026-07-27T00:00:00Z",
    }
}


def call(model: str, response: httpx2.Response | Any, *, max_retries: int = 0) -> tuple[BaseException, Recorder]:
    recorder = Recorder(response)
    with pytest.raises(StackitChutesError) as caught:
        chat(endpoint(model, recorder, max_retries=max_retries), HELLO)
    return caught.value, recorder


# --- body shapes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (VLLM_NESTED, (CONTEXT_MESSAGE, 400, None)),
        (VLLM_FLAT, (CONTEXT_MESSAGE, 400, None)),
        (CHUTES_401, ("Can't find a user with that api key in our db :(", None, None)),
        (CHUTES_402, (CHUTES_402["detail"]["message"], None, "2026-07-27T00:00:00Z")),
        (
            {"error": "infra_overload", "detail": "Infrastructure is at maximum capacity"},
            ("infra_overload", None, None),
        ),
        (
            {"detail": [{"loc": ["body", "model"], "msg": "field required", "type": "missing"}]},
            ("field required", None, None),
        ),
        ({"detail": {"object": "error", "message": "engine says no", "code": 400}}, ("engine says no", 400, None)),
        (
            {"error": {"message": "bad key", "type": "invalid_request_error", "code": "invalid_api_key"}},
            ("bad key", "invalid_api_key", None),
        ),
        ({"error": {"message": "typed", "type": "BadRequestError"}}, ("typed", "BadRequestError", None)),
        ("", (None, None, None)),
        (b"", (None, None, None)),
        ("   ", (None, None, None)),
        (None, (None, None, None)),
        ("<html>502 Bad Gateway</html>", ("<html>502 Bad Gateway</html>", None, None)),
        ('{"detail": "as text"}', ("as text", None, None)),
        (b'{"detail": "as bytes"}', ("as bytes", None, None)),
    ],
)
def test_parse_error_body_shapes(body: Any, expected: tuple[Any, Any, Any]) -> None:
    assert parse_error_body(body) == expected


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (400, VLLM_NESTED, ContextLengthExceededError),
        (400, VLLM_FLAT, ContextLengthExceededError),
        (
            400,
            {"error": {"message": "dimensions is not supported", "type": "BadRequestError", "code": 400}},
            BadRequestError,
        ),
        (422, {"detail": [{"msg": "field required"}]}, BadRequestError),
        (401, CHUTES_401, AuthenticationError),
        (403, "", AuthenticationError),
        (402, CHUTES_402, QuotaExceededError),
        (404, CHUTES_404, NotFoundError),
        (
            404,
            {"error": {"message": "The model `x` does not exist.", "type": "NotFoundError", "code": 404}},
            NotFoundError,
        ),
        (429, CHUTES_429_CAPACITY, RateLimitError),
        (500, {"error": {"message": "boom", "type": "InternalServerError", "code": 500}}, InternalServerError),
        (502, "<html>bad gateway</html>", InternalServerError),
        (503, "", InternalServerError),
        (409, {"detail": "conflict"}, APIStatusError),
    ],
)
def test_error_from_response_classes(status: int, body: Any, cls: type[APIStatusError]) -> None:
    error = error_from_response(provider="stackit", status_code=status, body=body)
    assert type(error) is cls
    assert error.status_code == status
    assert error.provider == "stackit"
    assert error.body == body
    assert error.message
    assert str(error).startswith(f"[stackit {status}] ")


def test_context_length_is_a_bad_request() -> None:
    error = error_from_response(provider="stackit", status_code=400, body=VLLM_NESTED)
    assert isinstance(error, BadRequestError)
    assert error.message == CONTEXT_MESSAGE
    assert error.code == 400


def test_retry_after_headers() -> None:
    assert (
        error_from_response(provider="chutes", status_code=429, body="", headers={"retry-after": "7"}).retry_after
        == 7.0
    )
    assert (
        error_from_response(provider="chutes", status_code=429, body="", headers={"retry-after-ms": "1500"}).retry_after
        == 1.5
    )
    assert (
        error_from_response(provider="chutes", status_code=429, body="", headers={"retry-after": "soon"}).retry_after
        is None
    )
    assert error_from_response(provider="chutes", status_code=429, body="").retry_after is None


def test_hierarchy() -> None:
    for cls in (
        AuthenticationError,
        QuotaExceededError,
        NotFoundError,
        RateLimitError,
        InternalServerError,
        BadRequestError,
    ):
        assert issubclass(cls, APIStatusError)
        assert issubclass(cls, APIError)
        assert issubclass(cls, StackitChutesError)
    assert issubclass(ContextLengthExceededError, BadRequestError)
    assert issubclass(APITimeoutError, APIConnectionError)


# --- through real calls (transport.translate_error) --------------------------------------------


def test_vllm_nested_context_length_through_a_call() -> None:
    error, recorder = call("stackit/openai/gpt-oss-120b", json_response(VLLM_NESTED, 400))
    assert isinstance(error, ContextLengthExceededError)
    assert error.message == CONTEXT_MESSAGE
    assert error.code == 400
    assert error.status_code == 400
    assert error.provider == "stackit"
    assert error.body == VLLM_NESTED
    assert len(recorder.requests) == 1


def test_vllm_flat_legacy_through_a_call() -> None:
    error, _ = call("stackit/openai/gpt-oss-120b", json_response(VLLM_FLAT, 400))
    assert isinstance(error, ContextLengthExceededError)
    assert error.message == CONTEXT_MESSAGE


def test_stackit_empty_403_is_authentication_with_a_helpful_message() -> None:
    # providers.md §1.1: no/invalid key -> 403, content-length: 0, no body.
    response = httpx2.Response(403, content=b"", headers={"content-length": "0"})
    error, _ = call("stackit/openai/gpt-oss-120b", response)
    assert isinstance(error, AuthenticationError)
    assert error.status_code == 403
    assert error.provider == "stackit"
    assert "API key" in error.message
    assert "empty" in error.message


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (401, CHUTES_401, AuthenticationError),
        (401, {"detail": "Authentication required."}, AuthenticationError),
        (404, CHUTES_404, NotFoundError),
        (429, CHUTES_429_CAPACITY, RateLimitError),
        (429, CHUTES_429_MAINTENANCE, RateLimitError),
    ],
)
def test_chutes_fastapi_detail_strings_through_a_call(status: int, body: dict[str, str], cls: type[APIError]) -> None:
    error, _ = call("chutes/zai-org/GLM-4.5-Air", json_response(body, status))
    assert type(error) is cls
    assert error.message == body["detail"]
    assert error.status_code == status
    assert error.provider == "chutes"


def test_chutes_402_quota_through_a_call() -> None:
    error, _ = call("chutes/zai-org/GLM-4.5-Air", json_response(CHUTES_402, 402))
    assert isinstance(error, QuotaExceededError)
    assert error.quota_reset == "2026-07-27T00:00:00Z"
    assert error.message == CHUTES_402["detail"]["message"]


def test_429_retry_after_through_a_call() -> None:
    error, _ = call("stackit/openai/gpt-oss-120b", json_response(CHUTES_429_CAPACITY, 429, {"retry-after": "7"}))
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 7.0


def test_request_id_from_chutes_invocation_header() -> None:
    error, _ = call("chutes/x/y", json_response({"detail": "boom"}, 500, {"X-Chutes-InvocationID": "inv-123"}))
    assert isinstance(error, InternalServerError)
    assert error.request_id == "inv-123"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_through_a_call(status: int) -> None:
    error, _ = call("stackit/openai/gpt-oss-120b", httpx2.Response(status, text="upstream failed"))
    assert isinstance(error, InternalServerError)
    assert error.status_code == status
    assert error.message == "upstream failed"


def test_errors_on_embedding_calls() -> None:
    recorder = Recorder(
        json_response(
            {"error": {"message": "dimensions is not supported", "type": "BadRequestError", "code": 400}}, 400
        )
    )
    with pytest.raises(BadRequestError, match="dimensions"):
        embed_texts(endpoint("stackit/new/embedder", recorder, purpose="embeddings"), ["a"], dimensions=8)
    recorder = Recorder(json_response(CHUTES_402, 402))
    with pytest.raises(QuotaExceededError):
        embed_items(
            endpoint("stackit/Qwen/Qwen3-VL-Embedding-8B", recorder, purpose="embeddings"),
            [EmbeddingItem(text="a")],
        )


def test_errors_on_async_calls() -> None:
    recorder = Recorder(json_response(CHUTES_429_CAPACITY, 429, {"retry-after": "3"}))
    with pytest.raises(RateLimitError) as caught:
        asyncio.run(achat(endpoint("chutes/x/y", recorder), HELLO))
    assert caught.value.retry_after == 3.0


def test_errors_on_stream_calls() -> None:
    recorder = Recorder(httpx2.Response(403, content=b""))
    with pytest.raises(AuthenticationError):
        list(stream_chat(endpoint("stackit/openai/gpt-oss-120b", recorder), HELLO))


def test_connection_errors() -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    error, _ = call("stackit/openai/gpt-oss-120b", refuse)
    assert isinstance(error, APIConnectionError)
    assert not isinstance(error, APITimeoutError)
    assert error.provider == "stackit"


def test_timeouts() -> None:
    def slow(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out", request=request)

    error, _ = call("chutes/x/y", slow)
    assert isinstance(error, APITimeoutError)
    assert error.provider == "chutes"


def test_error_messages_never_contain_the_key() -> None:
    recorder = Recorder(json_response(CHUTES_401, 401))
    with pytest.raises(AuthenticationError) as caught:
        chat(endpoint("chutes/x/y", recorder, api_key="cpk_very_secret"), HELLO)
    assert "cpk_very_secret" not in str(caught.value)
    assert "cpk_very_secret" not in repr(caught.value)


# --- retries (done by the SDK; honour retry-after-ms so nothing really sleeps) --------------------


def test_429_then_200_succeeds_with_one_retry() -> None:
    recorder = Recorder(
        [
            json_response(CHUTES_429_CAPACITY, 429, {"retry-after-ms": "1"}),
            json_response(chat_completion("after retry")),
        ]
    )
    result = chat(endpoint("chutes/x/y", recorder, max_retries=1), HELLO)
    assert result.text == "after retry"
    assert len(recorder.requests) == 2
    assert [r.headers["x-stainless-retry-count"] for r in recorder.requests] == ["0", "1"]


def test_sdk_honours_retry_after_ms(monkeypatch: pytest.MonkeyPatch) -> None:
    # The delay the SDK waits is the server's retry-after-ms (1 ms), not its exponential backoff.
    slept: list[float] = []
    monkeypatch.setattr(openai_base_client.time, "sleep", slept.append)
    recorder = Recorder(
        [
            json_response(CHUTES_429_CAPACITY, 429, {"retry-after-ms": "1"}),
            json_response(CHUTES_429_CAPACITY, 429, {"retry-after": "2"}),
            json_response(chat_completion("third time lucky")),
        ]
    )
    result = chat(endpoint("chutes/x/y", recorder, max_retries=2), HELLO)
    assert result.text == "third time lucky"
    assert slept == [0.001, 2.0]


def test_timeouts_are_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(openai_base_client.time, "sleep", slept.append)
    attempts: list[int] = []

    def flaky(request: httpx2.Request) -> httpx2.Response:
        attempts.append(1)
        if len(attempts) == 1:
            raise httpx2.ReadTimeout("timed out", request=request)
        return json_response(chat_completion("after timeout"))

    result = chat(endpoint("stackit/openai/gpt-oss-120b", Recorder(flaky), max_retries=1), HELLO)
    assert result.text == "after timeout"
    assert len(attempts) == 2
    assert len(slept) == 1


def test_5xx_then_200_succeeds_async() -> None:
    recorder = Recorder(
        [
            json_response({"detail": "boom"}, 503, {"retry-after-ms": "1"}),
            json_response(chat_completion("recovered")),
        ]
    )
    result = asyncio.run(achat(endpoint("stackit/openai/gpt-oss-120b", recorder, max_retries=1), HELLO))
    assert result.text == "recovered"
    assert len(recorder.requests) == 2


def test_retries_exhausted_raise_the_last_error() -> None:
    recorder = Recorder(json_response(CHUTES_429_CAPACITY, 429, {"retry-after-ms": "1"}))
    with pytest.raises(RateLimitError) as caught:
        chat(endpoint("chutes/x/y", recorder, max_retries=2), HELLO)
    assert len(recorder.requests) == 3
    assert caught.value.retry_after == 0.001


@pytest.mark.parametrize("asynchronous", [False, True])
def test_402_is_never_retried(asynchronous: bool) -> None:
    recorder = Recorder(json_response(CHUTES_402, 402, {"retry-after-ms": "1"}))
    ep = endpoint("chutes/x/y", recorder, max_retries=3)
    with pytest.raises(QuotaExceededError):
        if asynchronous:
            asyncio.run(achat(ep, HELLO))
        else:
            chat(ep, HELLO)
    assert len(recorder.requests) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_client_errors_are_not_retried(status: int) -> None:
    recorder = Recorder(httpx2.Response(status, content=b""))
    with pytest.raises(APIStatusError):
        chat(endpoint("stackit/openai/gpt-oss-120b", recorder, max_retries=3), HELLO)
    assert len(recorder.requests) == 1


def test_chutes_engine_error_in_first_stream_chunk_keeps_its_status() -> None:
    # §4.8: an engine 4xx during the first streamed chunk comes back with that status and
    # {"detail": <engine error dict>} (SGLang dict with an int code).
    engine = {"object": "error", "message": CONTEXT_MESSAGE, "type": "BadRequestError", "param": None, "code": 400}
    recorder = Recorder(json_response({"detail": engine}, 400))
    with pytest.raises(ContextLengthExceededError) as caught:
        list(stream_chat(endpoint("chutes/Qwen/Qwen3-32B-TEE", recorder), HELLO))
    assert caught.value.message == CONTEXT_MESSAGE
    assert caught.value.code == 400
    assert caught.value.provider == "chutes"
