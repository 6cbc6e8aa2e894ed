"""Fallbacks across providers, one policy in both frameworks (``fallback_models=[...]``).

The mock transport answers requests in order, whatever the host, so each test scripts what the
primary and each fallback model answer and checks which hosts were asked, with which key, and what
the caller saw.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from llama_index.core.base.llms.types import ChatMessage, MessageRole

import stackit_chutes_core as core
from langchain_stackit_chutes import ChatStackitChutes
from llama_index_stackit_chutes import StackitChutes
from tests._http import Recorder, chat_completion, chunk, json_response, sse_response, usage_chunk

GPT_OSS = "stackit/openai/gpt-oss-120b"
DEEPSEEK = "chutes/deepseek-ai/DeepSeek-V3.2-TEE"
LLAMA = "stackit/cortecs/Llama-3.3-70B-Instruct-FP8-Dynamic"
STACKIT_HOST = "api.openai-compat.model-serving.eu01.onstackit.cloud"
CHUTES_HOST = "llm.chutes.ai"
CAPACITY = json_response({"detail": "Infrastructure is at maximum capacity, try again later"}, status=429)
ANSWER = json_response(chat_completion("from the fallback", model="deepseek-ai/DeepSeek-V3.2-TEE"))


def _langchain(http: Recorder, **kwargs: Any) -> Any:
    return ChatStackitChutes(model=GPT_OSS, api_key="stackit-only-key", max_retries=0, **http.clients(), **kwargs)


def _llama(http: Recorder, **kwargs: Any) -> Any:
    return StackitChutes(model=GPT_OSS, api_key="stackit-only-key", max_retries=0, **http.clients(), **kwargs)


def _ask(llm: Any) -> tuple[str, str]:
    """(answer text, model that answered) through either framework."""
    if isinstance(llm, ChatStackitChutes):
        message = llm.invoke([HumanMessage("hi")])
        return str(message.content), message.response_metadata["model_name"]
    response = llm.chat([ChatMessage(role=MessageRole.USER, content="hi")])
    return response.message.content or "", response.additional_kwargs["model_name"]


def _stream(llm: Any) -> str:
    if isinstance(llm, ChatStackitChutes):
        return "".join(str(c.content) for c in llm.stream("hi"))
    return "".join(r.delta or "" for r in llm.stream_chat([ChatMessage(role=MessageRole.USER, content="hi")]))


BUILDERS = [pytest.param(_langchain, id="langchain"), pytest.param(_llama, id="llama_index")]


@pytest.mark.parametrize("build", BUILDERS)
@pytest.mark.parametrize(
    "failure",
    [
        CAPACITY,
        json_response({"detail": {"message": "Quota exceeded"}}, status=402),
        json_response({"detail": "No matching cord found!"}, status=404),
        json_response({"error": {"message": "boom", "type": "InternalServerError"}}, status=500),
    ],
    ids=["429", "402", "404", "500"],
)
def test_falls_back_to_the_next_provider_with_its_own_key(build: Any, failure: Any) -> None:
    http = Recorder([failure, ANSWER])
    text, answered_by = _ask(build(http, fallback_models=[DEEPSEEK]))
    assert text == "from the fallback"
    assert answered_by == "chutes/deepseek-ai/DeepSeek-V3.2-TEE"
    assert [r.url.host for r in http.requests] == [STACKIT_HOST, CHUTES_HOST]
    assert http.requests[0].headers["authorization"] == "Bearer stackit-only-key"
    assert http.requests[1].headers["authorization"] == "Bearer replay-chutes-key"  # never the STACKIT key


@pytest.mark.parametrize("build", BUILDERS)
@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (
            json_response({"error": {"message": "bad field", "type": "BadRequestError"}}, status=400),
            core.BadRequestError,
        ),
        (json_response({"detail": "Invalid token."}, status=401), core.AuthenticationError),
    ],
    ids=["400", "401"],
)
def test_never_falls_back_after_a_bad_request_or_auth_error(build: Any, failure: Any, error: type[Exception]) -> None:
    http = Recorder([failure, ANSWER])
    with pytest.raises(error):
        _ask(build(http, fallback_models=[DEEPSEEK]))
    assert len(http.requests) == 1


@pytest.mark.parametrize("build", BUILDERS)
def test_all_failing_raises_the_last_error_naming_every_model(build: Any) -> None:
    http = Recorder([CAPACITY])
    with pytest.raises(core.RateLimitError) as info:
        _ask(build(http, fallback_models=[DEEPSEEK, LLAMA]))
    assert [r.url.host for r in http.requests] == [STACKIT_HOST, CHUTES_HOST, STACKIT_HOST]
    notes = "\n".join(getattr(info.value, "__notes__", []))
    for model in (GPT_OSS, DEEPSEEK, LLAMA):
        assert model in notes


@pytest.mark.parametrize("build", BUILDERS)
def test_stream_falls_back_before_its_first_chunk(build: Any) -> None:
    stream = sse_response([chunk({"content": "streamed"}, finish_reason="stop", model="deepseek"), usage_chunk()])
    http = Recorder([CAPACITY, stream])
    assert _stream(build(http, fallback_models=[DEEPSEEK])) == "streamed"
    assert [r.url.host for r in http.requests] == [STACKIT_HOST, CHUTES_HOST]


@pytest.mark.parametrize("build", BUILDERS)
def test_stream_does_not_fall_back_after_its_first_chunk(build: Any) -> None:
    broken = sse_response([chunk({"content": "partial"})], done=False)  # ends without finish_reason
    http = Recorder([broken, ANSWER])
    with pytest.raises(core.StreamError):
        _stream(build(http, fallback_models=[DEEPSEEK]))
    assert len(http.requests) == 1


@pytest.mark.parametrize("build", BUILDERS)
def test_a_fallback_without_a_key_fails_at_construction(build: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHUTES_API_KEY")
    with pytest.raises(core.MissingAPIKeyError, match="CHUTES_API_KEY"):
        build(Recorder([ANSWER]), fallback_models=[DEEPSEEK])


def test_package_errors_work_in_langchain_with_fallbacks() -> None:
    http = Recorder([CAPACITY, ANSWER])
    primary = ChatStackitChutes(model=GPT_OSS, max_retries=0, **http.clients())
    backup = ChatStackitChutes(model=DEEPSEEK, max_retries=0, **http.clients())
    chain = primary.with_fallbacks([backup], exceptions_to_handle=(core.RateLimitError, core.QuotaExceededError))
    assert chain.invoke("hi").content == "from the fallback"
    assert [r.url.host for r in http.requests] == [STACKIT_HOST, CHUTES_HOST]
