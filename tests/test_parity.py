"""One behaviour in both frameworks: the same calls through LangChain and LlamaIndex send identical
requests and raise identical errors, because every decision is the core's.

Each scenario runs once through ``ChatStackitChutes`` / ``StackitChutesEmbeddings`` and once through
``StackitChutes`` / ``StackitChutesEmbedding`` against the same recording mock transport, and compares
what reached the wire (host, path, body, the headers that carry meaning) or the error raised (its
class in ``stackit_chutes_core.errors``, message, status and provider).
"""

from __future__ import annotations

import base64
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
from langchain_core.messages import HumanMessage
from llama_index.core.base.llms.types import ChatMessage, ImageBlock, MessageRole, TextBlock

import stackit_chutes_core as core
from langchain_stackit_chutes import ChatStackitChutes, StackitChutesEmbeddings
from llama_index_stackit_chutes import StackitChutes, StackitChutesEmbedding
from stackit_chutes_core import errors as core_errors
from tests._http import Recorder, chat_completion, json_response, request_json

GPT_OSS = "stackit/openai/gpt-oss-120b"
LLAMA = "stackit/cortecs/Llama-3.3-70B-Instruct-FP8-Dynamic"
DEEPSEEK = "chutes/deepseek-ai/DeepSeek-V3.2-TEE"
E5 = "stackit/intfloat/e5-mistral-7b-instruct"
QWEN_VL_EMBED = "stackit/Qwen/Qwen3-VL-Embedding-8B"
VLM = "stackit/Qwen/Qwen3-VL-235B-A22B-Instruct-FP8"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PNG_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
ANSWER_SCHEMA = {
    "title": "Answer",
    "description": "A short answer.",
    "type": "object",
    "properties": {"text": {"type": "string"}},
    "required": ["text"],
}
_MEANINGFUL_HEADERS = ("authorization", "x-enable-thinking")


def _embedding_reply(count: int = 2) -> Any:
    data = [{"object": "embedding", "index": i, "embedding": [0.1 * (i + 1), 0.2, 0.3]} for i in range(count)]
    return json_response(
        {"object": "list", "data": data, "model": "m", "usage": {"prompt_tokens": 4, "total_tokens": 4}}
    )


def _wire(seen: httpx2.Request) -> tuple[str, str, Any, dict[str, str]]:
    headers = {name: seen.headers[name] for name in _MEANINGFUL_HEADERS if name in seen.headers}
    return seen.url.host, seen.url.path, request_json(seen), headers


def _both(
    reply: Any, langchain_call: Callable[[dict[str, Any]], Any], llama_call: Callable[[dict[str, Any]], Any]
) -> tuple[list[httpx2.Request], list[httpx2.Request]]:
    """Run one scenario through each framework; return what each sent."""
    sent = []
    for call in (langchain_call, llama_call):
        http = Recorder([reply])
        call({**http.clients(), "max_retries": 0})
        sent.append(http.requests)
    return sent[0], sent[1]


def _same_wire(
    reply: Any, langchain_call: Callable[[dict[str, Any]], Any], llama_call: Callable[[dict[str, Any]], Any]
) -> None:
    lc, li = _both(reply, langchain_call, llama_call)
    assert lc, "LangChain sent nothing"
    assert [_wire(s) for s in lc] == [_wire(s) for s in li]


def _user(text: str) -> list[ChatMessage]:
    return [ChatMessage(role=MessageRole.USER, content=text)]


# -- chat -------------------------------------------------------------------------------------------


def test_plain_call_with_constructor_sampling() -> None:
    _same_wire(
        json_response(chat_completion()),
        lambda c: ChatStackitChutes(model=GPT_OSS, temperature=0.2, max_tokens=50, **c).invoke("hi"),
        lambda c: StackitChutes(model=GPT_OSS, temperature=0.2, max_tokens=50, **c).chat(_user("hi")),
    )


def test_per_call_model_switch_routes_to_the_other_provider_with_its_own_key() -> None:
    lc, li = _both(
        json_response(chat_completion()),
        lambda c: ChatStackitChutes(model=GPT_OSS, api_key="stackit-only", **c).invoke("hi", model=DEEPSEEK),
        lambda c: StackitChutes(model=GPT_OSS, api_key="stackit-only", **c).chat(_user("hi"), model=DEEPSEEK),
    )
    assert [_wire(s) for s in lc] == [_wire(s) for s in li]
    assert lc[0].url.host == "llm.chutes.ai"
    assert lc[0].headers["authorization"] == "Bearer replay-chutes-key"  # never the STACKIT key


def test_provider_default_routes_bare_ids_per_call() -> None:
    lc, li = _both(
        json_response(chat_completion()),
        lambda c: ChatStackitChutes(model="openai/gpt-oss-120b", provider="stackit", **c).invoke(
            "hi", model="openai/gpt-oss-20b"
        ),
        lambda c: StackitChutes(model="openai/gpt-oss-120b", provider="stackit", **c).chat(
            _user("hi"), model="openai/gpt-oss-20b"
        ),
    )
    assert [_wire(s) for s in lc] == [_wire(s) for s in li]
    assert request_json(lc[0])["model"] == "openai/gpt-oss-20b"


def test_reasoning_effort_sent_where_supported_and_dropped_with_a_warning_elsewhere() -> None:
    _same_wire(
        json_response(chat_completion()),
        lambda c: ChatStackitChutes(model=GPT_OSS, reasoning_effort="low", **c).invoke("hi"),
        lambda c: StackitChutes(model=GPT_OSS, reasoning_effort="low", **c).chat(_user("hi")),
    )
    core._params._warned_effort.discard(LLAMA)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lc, li = _both(
            json_response(chat_completion()),
            lambda c: ChatStackitChutes(model=LLAMA, **c).invoke("hi", reasoning_effort="high"),
            lambda c: StackitChutes(model=LLAMA, **c).chat(_user("hi"), reasoning_effort="high"),
        )
    assert [_wire(s) for s in lc] == [_wire(s) for s in li]
    assert "reasoning_effort" not in request_json(lc[0])
    assert any("no reasoning_effort control" in str(w.message) for w in caught)


def test_bad_reasoning_effort_is_the_same_error() -> None:
    _same_error(
        lambda: ChatStackitChutes(model=GPT_OSS).invoke("hi", reasoning_effort="extreme"),
        lambda: StackitChutes(model=GPT_OSS).chat(_user("hi"), reasoning_effort="extreme"),
        core.CapabilityError,
    )


@pytest.mark.parametrize("model", [GPT_OSS, DEEPSEEK])
def test_max_tokens_and_its_alias(model: str) -> None:
    _same_wire(
        json_response(chat_completion()),
        lambda c: ChatStackitChutes(model=model, **c).invoke("hi", max_completion_tokens=9, stop="END"),
        lambda c: StackitChutes(model=model, **c).chat(_user("hi"), max_completion_tokens=9, stop="END"),
    )


def test_unknown_parameters_go_to_the_body_verbatim() -> None:
    _same_wire(
        json_response(chat_completion()),
        lambda c: ChatStackitChutes(model=GPT_OSS, model_kwargs={"top_k": 3}, **c).invoke("hi", seed=1),
        lambda c: StackitChutes(model=GPT_OSS, additional_kwargs={"top_k": 3}, **c).chat(_user("hi"), seed=1),
    )


@pytest.mark.parametrize("choice", ["get_weather", "required", "auto", "none"])
def test_tools_and_tool_choice(choice: str) -> None:
    _same_wire(
        json_response(chat_completion()),
        lambda c: (
            ChatStackitChutes(model=GPT_OSS, **c)
            .bind_tools([WEATHER_TOOL], tool_choice=choice, parallel_tool_calls=False)
            .invoke("weather in Paris?")
        ),
        lambda c: StackitChutes(model=GPT_OSS, **c).chat(
            _user("weather in Paris?"), tools=[WEATHER_TOOL], tool_choice=choice, parallel_tool_calls=False
        ),
    )


def test_structured_output_json_schema() -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "Answer", "schema": ANSWER_SCHEMA, "strict": True}}
    _same_wire(
        json_response(chat_completion('{"text": "ok"}')),
        lambda c: ChatStackitChutes(model=GPT_OSS, **c).invoke("answer", response_format=fmt),
        lambda c: StackitChutes(model=GPT_OSS, **c).chat(_user("answer"), response_format=fmt),
    )


def test_image_input() -> None:
    _same_wire(
        json_response(chat_completion()),
        lambda c: ChatStackitChutes(model=VLM, **c).invoke(
            [
                HumanMessage(
                    content=[{"type": "text", "text": "what?"}, {"type": "image_url", "image_url": {"url": PNG_URL}}]
                )
            ]
        ),
        lambda c: StackitChutes(model=VLM, **c).chat(
            [ChatMessage(role=MessageRole.USER, blocks=[TextBlock(text="what?"), ImageBlock(url=PNG_URL)])]
        ),
    )


# -- embeddings -----------------------------------------------------------------------------------


def test_text_documents_and_queries() -> None:
    _same_wire(
        _embedding_reply(),
        lambda c: StackitChutesEmbeddings(model=E5, **c).embed_documents(["a", "b"]),
        lambda c: StackitChutesEmbedding(model_name=E5, **c).get_text_embedding_batch(["a", "b"]),
    )
    _same_wire(
        _embedding_reply(1),
        lambda c: StackitChutesEmbeddings(model=E5, **c).embed_query("which?"),
        lambda c: StackitChutesEmbedding(model_name=E5, **c).get_query_embedding("which?"),
    )


def test_image_embeddings(tmp_path: Path) -> None:
    image = tmp_path / "pixel.png"
    image.write_bytes(PNG)
    _same_wire(
        _embedding_reply(1),
        lambda c: StackitChutesEmbeddings(model=QWEN_VL_EMBED, **c).embed_image([str(image)]),
        lambda c: StackitChutesEmbedding(model_name=QWEN_VL_EMBED, **c).get_image_embedding(str(image)),
    )


# -- errors ---------------------------------------------------------------------------------------


def _core_class(exc: BaseException) -> type[BaseException]:
    """The most specific class of ``stackit_chutes_core.errors`` that ``exc`` is an instance of."""
    return next(cls for cls in type(exc).__mro__ if cls.__module__ == core_errors.__name__)


def _same_error(lc: Callable[[], Any], li: Callable[[], Any], expected: type[BaseException]) -> None:
    raised = []
    for run in (lc, li):
        with pytest.raises(expected) as info:
            run()
        raised.append(info.value)
    first, second = raised
    assert _core_class(first) is _core_class(second)
    assert str(first) == str(second)
    for attribute in ("status_code", "provider", "code"):
        assert getattr(first, attribute, None) == getattr(second, attribute, None)


def test_construction_errors_are_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    _same_error(
        lambda: ChatStackitChutes(model="stackt/x"), lambda: StackitChutes(model="stackt/x"), core.UnknownProviderError
    )
    _same_error(lambda: ChatStackitChutes(model=E5), lambda: StackitChutes(model=E5), core.CapabilityError)
    _same_error(
        lambda: StackitChutesEmbeddings(model=GPT_OSS),
        lambda: StackitChutesEmbedding(model_name=GPT_OSS),
        core.CapabilityError,
    )
    monkeypatch.delenv("CHUTES_API_KEY")
    _same_error(
        lambda: ChatStackitChutes(model=DEEPSEEK), lambda: StackitChutes(model=DEEPSEEK), core.MissingAPIKeyError
    )


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            400,
            {"error": {"message": "This model's maximum context length is 131072 tokens.", "type": "BadRequestError"}},
            core.ContextLengthExceededError,
        ),
        (401, {"detail": "Invalid token."}, core.AuthenticationError),
        (404, {"detail": "model not found"}, core.NotFoundError),
        (402, {"detail": "Quota exceeded"}, core.QuotaExceededError),
    ],
)
def test_provider_errors_are_identical(status: int, body: Any, expected: type[BaseException]) -> None:
    reply = json_response(body, status=status)
    http = Recorder([reply])
    _same_error(
        lambda: ChatStackitChutes(model=DEEPSEEK, max_retries=0, **http.clients()).invoke("hi"),
        lambda: StackitChutes(model=DEEPSEEK, max_retries=0, **http.clients()).chat(_user("hi")),
        expected,
    )
