"""The raw key is not readable from an Endpoint's public attributes, and no ``Authorization`` header of
the user's can replace or duplicate the provider key."""

from __future__ import annotations

import pytest

from stackit_chutes_core import ChatRequest, ConfigurationError, Message, chat, resolve_endpoint
from tests._http import Recorder, chat_completion, endpoint, json_response

SECRET = "sk-live-0123456789abcdef"
HELLO = ChatRequest(messages=[Message(role="user", content="hi")])


def test_the_raw_key_is_not_in_any_public_attribute() -> None:
    ep = resolve_endpoint("stackit/openai/gpt-oss-120b", api_key=SECRET, timeout=5)
    for name in dir(ep):
        if name.startswith("_") or name == "api_key":
            continue
        value = getattr(ep, name)
        if callable(value):
            continue
        assert SECRET not in repr(value), name
        assert SECRET not in str(value), name
    assert SECRET not in repr(ep) and SECRET not in repr(ep.api_key) and SECRET not in str(ep.api_key)
    assert ep.api_key.get_secret_value() == SECRET  # still there for building the client
    # Pooling still tells keys apart.
    same = resolve_endpoint("stackit/openai/gpt-oss-120b", api_key=SECRET, timeout=5)
    other = resolve_endpoint("stackit/openai/gpt-oss-120b", api_key=SECRET + "x", timeout=5)
    assert ep.client_key == same.client_key != other.client_key


@pytest.mark.parametrize("name", ["Authorization", "authorization", "AUTHORIZATION", " Authorization "])
def test_authorization_in_default_headers_is_refused(name: str) -> None:
    with pytest.raises(ConfigurationError, match="api_key") as caught:
        resolve_endpoint("chutes/x/y", api_key=SECRET, default_headers={name: "Bearer someone-elses-key"})
    assert "Authorization" in str(caught.value) or name in str(caught.value)
    assert SECRET not in str(caught.value)


def test_authorization_in_per_call_headers_is_refused_before_sending() -> None:
    recorder = Recorder(json_response(chat_completion()))
    ep = endpoint("chutes/x/y", recorder, api_key=SECRET)
    request = ChatRequest(messages=HELLO.messages, extra_headers={"authorization": "Bearer other"})
    with pytest.raises(ConfigurationError, match="extra_headers"):
        chat(ep, request)
    assert recorder.requests == []
    chat(ep, ChatRequest(messages=HELLO.messages, extra_headers={"X-Trace": "1"}))
    sent = recorder.last.headers
    assert sent.get_list("authorization") == [f"Bearer {SECRET}"]  # exactly one, the provider key
    assert sent["x-trace"] == "1"
