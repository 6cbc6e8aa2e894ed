"""Drop-in parity: code written for ``ChatOpenAI`` and ``OpenAILike`` works with only the model line changed."""

from __future__ import annotations

import warnings

import pytest
from langchain_core.messages import HumanMessage
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from pydantic import ValidationError

from langchain_stackit_chutes import ChatStackitChutes, StackitChutesEmbeddings
from llama_index_stackit_chutes import StackitChutes, StackitChutesEmbedding
from tests._http import Recorder, chat_completion, json_response, token_usage

GPT_OSS = "stackit/openai/gpt-oss-120b"
LOGPROBS = {"content": [{"token": "ok", "logprob": -0.01, "top_logprobs": [{"token": "ok", "logprob": -0.01}]}]}


def _two_choices() -> dict[str, object]:
    body = chat_completion("first", usage=token_usage(7, 3), logprobs=None)
    body["system_fingerprint"] = "fp_test"
    body["choices"] = [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "first"},
            "finish_reason": "stop",
            "logprobs": LOGPROBS,
        },
        {"index": 1, "message": {"role": "assistant", "content": "second"}, "finish_reason": "length"},
    ]
    return body


# -- LangChain, as ChatOpenAI users write it ------------------------------------------------------


def test_model_name_is_accepted_like_model() -> None:
    assert ChatStackitChutes(model_name=GPT_OSS).model == GPT_OSS
    assert StackitChutesEmbeddings(model_name="stackit/intfloat/e5-mistral-7b-instruct").model.endswith(
        "e5-mistral-7b-instruct"
    )


def test_unknown_constructor_keywords_fail_loudly() -> None:
    with pytest.raises(ValidationError, match="temprature"):
        ChatStackitChutes(model=GPT_OSS, temprature=0.1)
    with pytest.raises(ValidationError, match="chunksize"):
        StackitChutesEmbeddings(model="stackit/intfloat/e5-mistral-7b-instruct", chunksize=3)


def test_model_kwargs_are_forwarded_and_known_fields_warned_about() -> None:
    http = Recorder([json_response(chat_completion())])
    with pytest.warns(UserWarning, match=r"should be specified explicitly"):
        llm = ChatStackitChutes(model=GPT_OSS, model_kwargs={"temperature": 0.3, "top_k": 4}, **http.clients())
    llm.invoke("hi")
    assert http.last_body()["temperature"] == 0.3
    assert http.last_body()["top_k"] == 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ChatStackitChutes(model=GPT_OSS, model_kwargs={"top_k": 4})  # unknown to the class: no warning


def test_n_gives_one_generation_per_choice_with_logprobs_usage_and_fingerprint() -> None:
    http = Recorder([json_response(_two_choices())])
    llm = ChatStackitChutes(model=GPT_OSS, n=2, logprobs=True, top_logprobs=1, **http.clients())
    result = llm.generate([[HumanMessage("hi")]])
    assert http.last_body()["n"] == 2
    assert http.last_body()["logprobs"] is True and http.last_body()["top_logprobs"] == 1
    first, second = result.generations[0]
    assert (first.text, second.text) == ("first", "second")
    assert first.message.response_metadata["logprobs"] == LOGPROBS
    assert first.message.response_metadata["token_usage"] == {
        "prompt_tokens": 7,
        "completion_tokens": 3,
        "total_tokens": 10,
    }
    assert first.message.response_metadata["system_fingerprint"] == "fp_test"
    assert second.message.response_metadata["finish_reason"] == "length"
    assert result.llm_output is not None and result.llm_output["token_usage"]["total_tokens"] == 10


def test_n_above_one_refuses_streaming() -> None:
    with pytest.raises(ValidationError, match="n must be 1 when streaming"):
        ChatStackitChutes(model=GPT_OSS, n=2, streaming=True)


# -- LlamaIndex, as OpenAILike users write it ------------------------------------------------------


def test_base_url_is_an_alias_of_api_base_on_every_class() -> None:
    http = Recorder([json_response(chat_completion())])
    llm = StackitChutes(model=GPT_OSS, base_url="https://proxy.example.eu/v1", **http.clients())
    assert llm.api_base == "https://proxy.example.eu/v1"
    llm.chat([ChatMessage(role=MessageRole.USER, content="hi")])
    assert (http.last.url.host, http.last.url.path) == ("proxy.example.eu", "/v1/chat/completions")
    embed = StackitChutesEmbedding(
        model_name="stackit/intfloat/e5-mistral-7b-instruct", base_url="https://e.example/v1"
    )
    assert embed.api_base == "https://e.example/v1"


def test_unknown_keywords_are_rejected_not_ignored() -> None:
    with pytest.raises(ValidationError, match="api_bsae"):
        StackitChutes(model=GPT_OSS, api_bsae="https://x/v1")
    with pytest.raises(ValidationError, match="dimension"):
        StackitChutesEmbedding(model_name="stackit/intfloat/e5-mistral-7b-instruct", dimension=3)


def test_metadata_fields_behave_as_in_openailike() -> None:
    llm = StackitChutes(model=GPT_OSS, context_window=8192, max_tokens=256, is_chat_model=False)
    meta = llm.metadata
    assert (meta.context_window, meta.num_output, meta.is_chat_model) == (8192, 256, False)
    assert StackitChutes(model=GPT_OSS).metadata.is_chat_model is True
    assert StackitChutes(model=GPT_OSS).metadata.num_output > 0  # from the catalog, a quarter of the window at most


def test_additional_kwargs_reach_every_request() -> None:
    http = Recorder([json_response(chat_completion())])
    llm = StackitChutes(model=GPT_OSS, additional_kwargs={"top_p": 0.5, "repetition_penalty": 1.1}, **http.clients())
    llm.complete("hi")
    assert http.last_body()["top_p"] == 0.5
    assert http.last_body()["repetition_penalty"] == 1.1
