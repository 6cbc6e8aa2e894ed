"""Tests of the provider emulator itself (tests/emulator): wire shapes, quirks, determinism."""

from __future__ import annotations

import base64
import concurrent.futures as cf
import json
import math
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from tests.emulator import ProviderEmulator, png_data_uri
from tests.emulator.images import decode_png_samples, inspect_image_url

ROOT = Path(__file__).resolve().parents[2]
KEY = {"Authorization": "Bearer test-key"}


@pytest.fixture(scope="module")
def emu() -> Iterator[ProviderEmulator]:
    with ProviderEmulator(latency_s=0.0, max_lifetime_s=120) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def post(
    client: httpx.Client,
    emu: ProviderEmulator,
    provider: str,
    path: str,
    body: Any,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return client.post(emu.base_urls[provider] + path, json=body, headers={**KEY, **(headers or {})})


def chat(client: httpx.Client, emu: ProviderEmulator, provider: str, model: str, text: str, **extra: Any) -> Any:
    headers = extra.pop("headers", None)
    body = {"model": model, "messages": [{"role": "user", "content": text}], **extra}
    resp = post(client, emu, provider, "/chat/completions", body, headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


def sse_events(resp: httpx.Response) -> list[Any]:
    """Parsed ``data:`` payloads (``"[DONE]"`` kept as a string)."""
    events: list[Any] = []
    for block in resp.text.split("\n\n"):
        block = block.strip()
        if block.startswith("data: "):
            data = block[len("data: ") :]
            events.append(data if data == "[DONE]" else json.loads(data))
    return events


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def embed(client: httpx.Client, emu: ProviderEmulator, body: dict[str, Any], provider: str = "stackit") -> Any:
    resp = post(client, emu, provider, "/embeddings", body)
    assert resp.status_code == 200, resp.text
    return resp.json()


def tool(name: str, description: str, props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    params = {"type": "object", "properties": props, "required": required}
    return {"type": "function", "function": {"name": name, "description": description, "parameters": params}}


WEATHER = tool("get_weather", "Get the weather at a location.", {"location": {"type": "string"}}, ["location"])
ADDER = tool(
    "my_adder_tool", "Adds two integers a and b.", {"a": {"type": "integer"}, "b": {"type": "integer"}}, ["a", "b"]
)
MAGIC = tool(
    "magic_function",
    "Applies a magic function to an input.",
    {"input": {"type": "integer", "exclusiveMinimum": -1000, "exclusiveMaximum": 1000}},
    ["input"],
)


# --- auth and listing -------------------------------------------------------------------------


def test_stackit_auth_is_empty_403(emu: ProviderEmulator, client: httpx.Client) -> None:
    for method, path in (("GET", "/models"), ("POST", "/chat/completions"), ("POST", "/embeddings")):
        resp = client.request(method, emu.base_urls["stackit"] + path, json={"model": "openai/gpt-oss-120b"})
        assert resp.status_code == 403
        assert resp.headers["content-length"] == "0"
        assert resp.content == b""
    resp = client.get(emu.base_urls["stackit"] + "/models", headers={"Authorization": "Bearer"})
    assert resp.status_code == 403
    # a wrong non-empty key: unverified live, 401 or 403 with an empty body
    resp = client.get(emu.base_urls["stackit"] + "/models", headers={"Authorization": "Bearer invalid"})
    assert resp.status_code in (401, 403) and resp.content == b""
    listing = client.get(emu.base_urls["stackit"] + "/models", headers=KEY).json()
    assert listing["object"] == "list"
    ids = {m["id"] for m in listing["data"]}
    assert {"openai/gpt-oss-120b", "intfloat/e5-mistral-7b-instruct", "Qwen/Qwen3-VL-Embedding-8B"} <= ids
    assert all(m["owned_by"] == "vllm" and m["max_model_len"] > 0 for m in listing["data"])


def test_chutes_auth_shapes_and_public_models(emu: ProviderEmulator, client: httpx.Client) -> None:
    url = emu.base_urls["chutes"] + "/chat/completions"
    resp = client.post(url, json={"model": "zai-org/GLM-5-TEE"})
    assert (resp.status_code, resp.json()) == (401, {"detail": "Authentication required."})
    # api/user/service.py: a non-cpk_ bearer takes the JWT path; a malformed cpk_ key the key path
    resp = client.post(url, json={}, headers={"Authorization": "Bearer invalid"})
    assert (resp.status_code, resp.json()) == (401, {"detail": "Invalid token."})
    resp = client.post(url, json={}, headers={"Authorization": "Bearer cpk_invalid"})
    assert (resp.status_code, resp.json()) == (401, {"detail": "Missing or invalid authorization header(s)"})
    resp = client.post(emu.base_urls["chutes_embeddings"] + "/embeddings", json={})
    assert resp.status_code == 401
    listing = client.get(emu.base_urls["chutes"] + "/models").json()  # no key needed
    entry = next(m for m in listing["data"] if m["id"] == "Qwen/Qwen3-32B-TEE")
    assert entry["price"]["input"]["usd"] == pytest.approx(0.104)
    assert entry["pricing"]["prompt"] == pytest.approx(0.104)
    assert entry["confidential_compute"] is True
    assert {"context_length", "max_output_length", "input_modalities", "supported_features"} <= entry.keys()
    nemo = next(m for m in listing["data"] if m["id"] == "unsloth/Mistral-Nemo-Instruct-2407-TEE")
    assert "context_length" not in nemo and nemo["max_model_len"] == 131_072


def test_requests_are_captured_with_headers(emu: ProviderEmulator, client: httpx.Client) -> None:
    emu.clear_requests()
    chat(client, emu, "chutes", "zai-org/GLM-5-TEE", "hi", headers={"X-Title": "probe"})
    (captured,) = emu.requests_for("chutes")
    assert captured.method == "POST" and captured.path == "/v1/chat/completions"
    assert captured.headers["authorization"] == "Bearer test-key"
    assert captured.headers["x-title"] == "probe"
    assert captured.body["model"] == "zai-org/GLM-5-TEE"


def test_unknown_models_and_wrong_hosts(emu: ProviderEmulator, client: httpx.Client) -> None:
    body = {"model": "nope/model", "messages": [{"role": "user", "content": "hi"}]}
    resp = post(client, emu, "stackit", "/chat/completions", body)
    assert resp.status_code == 404
    assert resp.json() == {
        "error": {
            "message": "The model `nope/model` does not exist.",
            "type": "NotFoundError",
            "param": None,
            "code": 404,
        }
    }
    resp = post(client, emu, "chutes", "/chat/completions", body)
    assert (resp.status_code, resp.json()) == (404, {"detail": "model not found: nope/model"})
    resp = post(client, emu, "chutes", "/embeddings", {"model": "Qwen/Qwen3-Embedding-8B", "input": "x"})
    assert resp.status_code == 404
    resp = post(client, emu, "chutes_embeddings", "/chat/completions", {**body, "model": "zai-org/GLM-5-TEE"})
    assert resp.status_code == 404


# --- chat ---------------------------------------------------------------------------------------


def test_chat_non_stream_shapes(emu: ProviderEmulator, client: httpx.Client) -> None:
    stackit = chat(client, emu, "stackit", "cortecs/Llama-3.3-70B-Instruct-FP8-Dynamic", "Hello")
    assert stackit["id"].startswith("chatcmpl-")
    assert stackit["choices"][0]["message"]["content"].startswith("Hello!")
    assert stackit["usage"]["prompt_tokens_details"] is None
    usage = stackit["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    chutes = chat(client, emu, "chutes", "Qwen/Qwen3-235B-A22B-Instruct-2507", "Hello")
    assert not chutes["id"].startswith("chatcmpl-")
    int(chutes["id"], 16)
    assert {"chutes_verification", "prompt_sha256", "metadata"} <= chutes.keys()
    assert "matched_stop" in chutes["choices"][0]
    assert chutes["model"] == "Qwen/Qwen3-235B-A22B-Instruct-2507"


@pytest.mark.parametrize("provider,model", [("stackit", "openai/gpt-oss-20b"), ("chutes", "zai-org/GLM-5-TEE")])
# STACKIT sends a usage chunk only when asked; Chutes' gateway forces include_usage on every stream.
def test_stream_usage_chunk_only_when_requested(
    emu: ProviderEmulator, client: httpx.Client, provider: str, model: str
) -> None:
    body = {"model": model, "messages": [{"role": "user", "content": "Tell me about Berlin"}], "stream": True}
    plain = sse_events(post(client, emu, provider, "/chat/completions", body))
    assert plain[-1] == "[DONE]"
    assert plain[0]["choices"][0]["delta"]["role"] == "assistant"
    assert plain[0]["choices"][0]["delta"]["content"] == ""
    if provider == "stackit":
        assert all(not e.get("usage") for e in plain[:-1])
    else:
        assert plain[-2]["choices"] == [] and plain[-2]["usage"]["total_tokens"] > 0
        assert all(not e.get("usage") for e in plain[:-2])
        plain = plain[:-2] + plain[-1:]
    content = "".join(e["choices"][0]["delta"].get("content") or "" for e in plain[:-1] if e["choices"])
    assert sum(1 for e in plain[:-1] if e["choices"][0]["delta"].get("content")) >= 3
    non_stream = chat(client, emu, provider, model, "Tell me about Berlin")
    assert content == non_stream["choices"][0]["message"]["content"]
    with_usage = sse_events(
        post(client, emu, provider, "/chat/completions", {**body, "stream_options": {"include_usage": True}})
    )
    *chunks, usage_chunk, done = with_usage
    assert done == "[DONE]"
    assert usage_chunk["choices"] == [] and usage_chunk["usage"]["total_tokens"] > 0
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    if provider == "chutes":
        assert all("chutes_verification" in c for c in with_usage[:-1])
        delta = chunks[0]["choices"][0]["delta"]
        assert delta["tool_calls"] is None and delta["reasoning_content"] is None


def test_tool_args_follow_schema_and_prompt(emu: ProviderEmulator, client: httpx.Client) -> None:
    def calls(provider: str, text: str, tools: list[Any], **extra: Any) -> list[Any]:
        model = "openai/gpt-oss-120b" if provider == "stackit" else "zai-org/GLM-5-TEE"
        resp = chat(client, emu, provider, model, text, tools=tools, **extra)
        assert resp["choices"][0]["finish_reason"] == "tool_calls"
        return cast(list[Any], resp["choices"][0]["message"]["tool_calls"])

    (call,) = calls("stackit", "What is the value of magic_function(3)? Use the tool.", [MAGIC], tool_choice="required")
    assert json.loads(call["function"]["arguments"]) == {"input": 3}
    assert call["id"].startswith("chatcmpl-tool-")
    (call,) = calls("chutes", "What is 3 + 4", [ADDER], tool_choice="required")
    assert json.loads(call["function"]["arguments"]) == {"a": 3, "b": 4}
    assert call["id"].startswith("call_")
    (call,) = calls("stackit", "What is the weather in San Francisco, CA?", [WEATHER])
    assert json.loads(call["function"]["arguments"]) == {"location": "San Francisco, CA"}
    pair = calls("chutes", "What is the weather in Paris and London?", [WEATHER])
    assert [json.loads(c["function"]["arguments"])["location"] for c in pair] == ["Paris", "London"]
    assert [c["index"] for c in pair] == [0, 0]  # documented Chutes quirk
    again = calls("chutes", "What is the weather in Paris and London?", [WEATHER])
    assert [c["id"] for c in again] == [c["id"] for c in pair]  # deterministic ids
    one = calls("chutes", "What is the weather in Paris and London?", [WEATHER], parallel_tool_calls=False)
    assert len(one) == 1
    named = {"type": "function", "function": {"name": "magic_function"}}
    (call,) = calls("stackit", "Hello!", [WEATHER, MAGIC], tool_choice=named)
    assert call["function"]["name"] == "magic_function"
    no_args = tool("ping", "Ping the server.", {}, [])
    (call,) = calls("chutes", "ping it", [no_args], tool_choice="required")
    assert call["function"]["arguments"] == "{}"
    text = chat(client, emu, "stackit", "openai/gpt-oss-120b", "Hello", tools=[WEATHER])
    assert text["choices"][0]["message"]["tool_calls"] == []


def test_stackit_stream_tool_fragments_and_double_fragment_delta(emu: ProviderEmulator, client: httpx.Client) -> None:
    body = {
        "model": "Qwen/Qwen3-VL-235B-A22B-Instruct-FP8",
        "messages": [{"role": "user", "content": "What is the weather in Paris and London?"}],
        "tools": [WEATHER],
        "stream": True,
    }
    events = sse_events(post(client, emu, "stackit", "/chat/completions", body))
    args: dict[int, str] = {}
    heads: dict[int, dict[str, Any]] = {}
    doubled = False
    for event in events[:-1]:
        entries = event["choices"][0]["delta"].get("tool_calls") or []
        doubled |= len(entries) == 2 and entries[0]["index"] == entries[1]["index"]
        for entry in entries:
            if "id" in entry:
                heads[entry["index"]] = entry
            args[entry["index"]] = args.get(entry["index"], "") + entry["function"]["arguments"]
    assert doubled
    assert {i: h["function"]["name"] for i, h in heads.items()} == {0: "get_weather", 1: "get_weather"}
    assert [json.loads(args[i]) for i in sorted(args)] == [{"location": "Paris"}, {"location": "London"}]
    assert events[-2]["choices"][0]["finish_reason"] == "tool_calls"


def test_tool_results_and_empty_tools(emu: ProviderEmulator, client: httpx.Client) -> None:
    messages = [
        {"role": "user", "content": "What is 1 + 2"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "abc",
                    "type": "function",
                    "function": {"name": "my_adder_tool", "arguments": '{"a": 1, "b": 2}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "abc", "content": [{"type": "text", "text": '{"result": 3}'}]},
    ]
    for provider, model in (("stackit", "openai/gpt-oss-120b"), ("chutes", "Qwen/Qwen3-32B-TEE")):
        body = {"model": model, "messages": messages, "tools": [ADDER]}
        resp = post(client, emu, provider, "/chat/completions", body).json()
        assert resp["choices"][0]["message"]["content"] == "The result is 3."
    # STACKIT accepts an empty tools list (the package never sends one: its FAQ warns of hallucinated calls)
    body = {"model": "openai/gpt-oss-120b", "messages": messages[:1], "tools": []}
    resp = post(client, emu, "stackit", "/chat/completions", body)
    assert resp.status_code == 200 and resp.json()["choices"][0]["message"]["content"]


def _validate(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> None:
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].split("/")[-1]]
    if "anyOf" in schema:
        errors = []
        for option in schema["anyOf"]:
            try:
                _validate(value, option, root)
                return
            except AssertionError as exc:
                errors.append(exc)
        raise AssertionError(errors)
    if "enum" in schema:
        assert value in schema["enum"]
    kind = schema.get("type")
    checks: dict[str, type | tuple[type, ...]] = {
        "string": str,
        "integer": int,
        "number": (int, float),
        "boolean": bool,
        "array": list,
        "object": dict,
    }
    if kind == "null":
        assert value is None
    elif kind:
        assert isinstance(value, checks[kind]), (value, schema)
    if kind == "object":
        assert set(schema.get("required", [])) <= value.keys()
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                _validate(value[key], sub, root)
    if kind == "array":
        for item in value:
            _validate(item, schema["items"], root)


def test_structured_output(emu: ProviderEmulator, client: httpx.Client) -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 0},
            "mood": {"type": "string", "enum": ["happy", "sad"]},
            "address": {"$ref": "#/$defs/Address"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "nickname": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        },
        "required": ["name", "age", "mood", "address", "tags"],
        "$defs": {"Address": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "Person", "schema": schema, "strict": True}}
    resp = chat(
        client,
        emu,
        "chutes",
        "zai-org/GLM-5-TEE",
        "Alice is 30 years old, sad, and lives in Berlin.",
        response_format=fmt,
    )
    doc = json.loads(resp["choices"][0]["message"]["content"])
    _validate(doc, schema, schema)
    assert doc["name"] == "Alice" and doc["age"] == 30 and doc["mood"] == "sad"
    joke = {
        "type": "object",
        "properties": {"setup": {"type": "string"}, "punchline": {"type": "string"}},
        "required": ["setup", "punchline"],
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "Joke", "schema": joke}}
    resp = chat(
        client,
        emu,
        "stackit",
        "cortecs/Llama-3.3-70B-Instruct-FP8-Dynamic",
        "Tell me a joke about cats.",
        response_format=fmt,
        stream=False,
    )
    assert set(json.loads(resp["choices"][0]["message"]["content"])) == {"setup", "punchline"}
    prompt = "Tell me a joke about cats. Return the result as a JSON with 'setup' and 'punchline' keys."
    resp = chat(client, emu, "stackit", "openai/gpt-oss-120b", prompt, response_format={"type": "json_object"})
    assert set(json.loads(resp["choices"][0]["message"]["content"])) == {"setup", "punchline"}


def test_reasoning_in_three_forms(emu: ProviderEmulator, client: httpx.Client) -> None:
    msg = chat(client, emu, "stackit", "openai/gpt-oss-120b", "Why is the sky blue?")["choices"][0]["message"]
    assert msg["reasoning"] and "reasoning_content" not in msg
    # no per-model split on STACKIT: recent vLLM emits `reasoning` for every model
    msg = chat(client, emu, "stackit", "Qwen/Qwen3.8-27B", "Why is the sky blue?")["choices"][0]["message"]
    assert msg["reasoning"] and "reasoning_content" not in msg
    thinking = "Qwen/Qwen3-235B-A22B-Thinking-2507-TEE"
    assert chat(client, emu, "chutes", thinking, "Why?")["choices"][0]["message"]["reasoning_content"]
    msg = chat(client, emu, "chutes", "deepseek-ai/DeepSeek-R1-0528", "Why?")["choices"][0]["message"]
    assert msg["content"].startswith("<think>\n") and "</think>" in msg["content"]
    assert msg["reasoning_content"] is None
    body = {"model": thinking, "messages": [{"role": "user", "content": "Why?"}], "stream": True}
    events = [e for e in sse_events(post(client, emu, "chutes", "/chat/completions", body))[:-1] if e["choices"]]
    pieces = [
        e["choices"][0]["delta"]["reasoning_content"] for e in events if e["choices"][0]["delta"]["reasoning_content"]
    ]
    assert len(pieces) >= 2
    first_content = next(i for i, e in enumerate(events) if e["choices"][0]["delta"]["content"])
    first_reasoning = next(i for i, e in enumerate(events) if e["choices"][0]["delta"]["reasoning_content"])
    assert first_reasoning < first_content


def test_reasoning_toggles(emu: ProviderEmulator, client: httpx.Client) -> None:
    def reasoning(model: str, **extra: Any) -> Any:
        return chat(client, emu, "chutes", model, "Why?", **extra)["choices"][0]["message"]["reasoning_content"]

    assert reasoning("deepseek-ai/DeepSeek-V3.1") is None
    assert reasoning("deepseek-ai/DeepSeek-V3.1:THINKING")
    assert reasoning("deepseek-ai/DeepSeek-V3.1", headers={"X-Enable-Thinking": "true"})
    assert reasoning("deepseek-ai/DeepSeek-V3.1", chat_template_kwargs={"thinking": True})
    assert reasoning("Qwen/Qwen3-32B-TEE")
    assert reasoning("Qwen/Qwen3-32B-TEE", chat_template_kwargs={"enable_thinking": False}) is None
    low = chat(client, emu, "stackit", "openai/gpt-oss-20b", "Why?", reasoning_effort="low")
    high = chat(client, emu, "stackit", "openai/gpt-oss-20b", "Why?", reasoning_effort="high")
    assert len(low["choices"][0]["message"]["reasoning"]) < len(high["choices"][0]["message"]["reasoning"])
    body = {"model": "openai/gpt-oss-20b", "messages": [{"role": "user", "content": "x"}], "reasoning_effort": "max"}
    assert post(client, emu, "stackit", "/chat/completions", body).status_code == 400


def test_max_tokens_stop_and_pools(emu: ProviderEmulator, client: httpx.Client) -> None:
    resp = chat(client, emu, "stackit", "openai/gpt-oss-120b", "Tell me about Rome", max_completion_tokens=3)
    assert resp["choices"][0]["finish_reason"] == "length"
    assert len(resp["choices"][0]["message"]["content"].split()) == 3
    resp = chat(client, emu, "chutes", "zai-org/GLM-5-TEE", "Tell me about Rome", max_tokens=3, max_completion_tokens=1)
    assert len(resp["choices"][0]["message"]["content"].split()) == 3  # Chutes ignores max_completion_tokens
    resp = chat(client, emu, "stackit", "openai/gpt-oss-120b", "hi", stop=["you"])
    assert "you" not in resp["choices"][0]["message"]["content"]
    # the answer names the chute that served it, not the raw request string
    pool = "unknown/model,zai-org/GLM-5-TEE:latency"
    assert chat(client, emu, "chutes", pool, "hi")["model"] == "zai-org/GLM-5-TEE"
    assert (
        chat(client, emu, "chutes", "deepseek-ai/DeepSeek-V3.1:THINKING", "hi")["model"] == "deepseek-ai/DeepSeek-V3.1"
    )
    # the suffix is case-sensitive: ":thinking" is not a known model
    lower = post(
        client,
        emu,
        "chutes",
        "/chat/completions",
        {"model": "deepseek-ai/DeepSeek-V3.1:thinking", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert (lower.status_code, lower.json()) == (404, {"detail": "model not found: deepseek-ai/DeepSeek-V3.1:thinking"})
    text = chat(client, emu, "chutes", "zai-org/GLM-5-TEE", "Please repeat 'Grüße aus Köln 🎉'")
    assert text["choices"][0]["message"]["content"] == "Grüße aus Köln 🎉"
    rag = (
        "Context:\nThe Eiffel Tower is in Paris.\nThe Colosseum is located in Rome.\n\n"
        "Question: Where is the Colosseum?"
    )
    answer = chat(client, emu, "stackit", "openai/gpt-oss-120b", rag)["choices"][0]["message"]["content"]
    assert answer == "The Colosseum is located in Rome."


def test_image_input(emu: ProviderEmulator, client: httpx.Client) -> None:
    def parts(n: int, rgb: tuple[int, int, int]) -> list[Any]:
        image = {"type": "image_url", "image_url": {"url": png_data_uri(8, 8, rgb)}}
        return [{"type": "text", "text": "Describe the image."}, *[image] * n]

    def ask(provider: str, model: str, content: list[Any]) -> httpx.Response:
        body = {"model": model, "messages": [{"role": "user", "content": content}]}
        return post(client, emu, provider, "/chat/completions", body)

    resp = ask("stackit", "Qwen/Qwen3-VL-235B-A22B-Instruct-FP8", parts(1, (230, 20, 20)))
    assert "red" in resp.json()["choices"][0]["message"]["content"]
    resp = ask("chutes", "moonshotai/Kimi-K2.5-TEE", parts(1, (20, 20, 230)))
    assert "blue" in resp.json()["choices"][0]["message"]["content"]
    resp = ask("stackit", "openai/gpt-oss-120b", parts(1, (0, 0, 0)))
    assert resp.status_code == 400 and "multimodal" in resp.json()["error"]["message"]
    resp = ask("chutes", "zai-org/GLM-5-TEE", parts(1, (0, 0, 0)))
    assert resp.status_code == 400 and "detail" in resp.json()
    assert ask("stackit", "google/gemma-3-27b-it", parts(11, (0, 0, 0))).status_code == 400
    url = [{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]
    resp = ask("stackit", "google/gemma-3-27b-it", url)
    assert "https://example.com/cat.png" in resp.json()["choices"][0]["message"]["content"]


def test_context_overflow(emu: ProviderEmulator, client: httpx.Client) -> None:
    huge = "word " * 40_000  # ~50k estimated tokens
    body = {"model": "google/gemma-3-27b-it", "messages": [{"role": "user", "content": huge}]}
    resp = post(client, emu, "stackit", "/chat/completions", body)
    assert resp.status_code == 400
    assert resp.json()["error"]["message"].startswith("This model's maximum context length is 37000 tokens.")
    resp = post(client, emu, "chutes", "/chat/completions", {**body, "model": "Qwen/Qwen3-32B-TEE"})
    assert resp.status_code == 400 and "maximum context length" in json.dumps(resp.json()["detail"])


# --- embeddings ---------------------------------------------------------------------------------


def test_embeddings_deterministic_and_ranked(emu: ProviderEmulator, client: httpx.Client) -> None:
    docs = ["Paris is the capital of France.", "Dogs are loyal animals.", "The stock market fell today."]
    body = {"model": "intfloat/e5-mistral-7b-instruct", "input": docs}
    first, second = embed(client, emu, body), embed(client, emu, body)
    assert first["id"].startswith("embd-") and first["object"] == "list"
    assert [d["index"] for d in first["data"]] == [0, 1, 2]
    vectors = [d["embedding"] for d in first["data"]]
    assert vectors == [d["embedding"] for d in second["data"]]
    assert all(len(v) == 4096 and math.isclose(cosine(v, v), 1.0, abs_tol=1e-6) for v in vectors)
    query = "Instruct: Given a web search query, retrieve relevant passages\nQuery: capital city of France"
    q = embed(client, emu, {"model": "intfloat/e5-mistral-7b-instruct", "input": query})["data"][0]["embedding"]
    scores = [cosine(q, v) for v in vectors]
    assert scores.index(max(scores)) == 0 and scores[0] > 0.3
    usage = first["usage"]
    assert usage["completion_tokens"] == 0 and usage["prompt_tokens"] == usage["total_tokens"] > 0


def test_embedding_dimensions_and_base64(emu: ProviderEmulator, client: httpx.Client) -> None:
    base = {"model": "Qwen/Qwen3-VL-Embedding-8B", "input": "cats on mats"}
    full = embed(client, emu, base)["data"][0]["embedding"]
    short = embed(client, emu, {**base, "dimensions": 256})["data"][0]["embedding"]
    assert len(short) == 256 and math.isclose(cosine(short, short), 1.0, abs_tol=1e-6)
    norm = math.sqrt(sum(x * x for x in full[:256]))
    assert short == pytest.approx([x / norm for x in full[:256]], abs=1e-6)  # Matryoshka truncation
    resp = post(
        client, emu, "stackit", "/embeddings", {**base, "model": "intfloat/e5-mistral-7b-instruct", "dimensions": 256}
    )
    assert resp.status_code == 400 and resp.json()["error"]["code"] == 400
    assert post(client, emu, "stackit", "/embeddings", {**base, "dimensions": 8}).status_code == 400
    packed = embed(client, emu, {**base, "encoding_format": "base64"})["data"][0]["embedding"]
    raw = base64.b64decode(packed)
    assert list(struct.unpack(f"<{len(raw) // 4}f", raw)) == pytest.approx(full, abs=1e-6)
    chutes = embed(
        client,
        emu,
        {"model": "Qwen/Qwen3-Embedding-8B", "input": ["a", "b"], "dimensions": 1024},
        provider="chutes_embeddings",
    )
    assert [len(d["embedding"]) for d in chutes["data"]] == [1024, 1024]
    # unknown embedding ids are rejected like the gateway does, whatever their name
    unknown = post(client, emu, "chutes_embeddings", "/embeddings", {"model": "acme/My-Embedding-v1", "input": "x"})
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "model not found: acme/My-Embedding-v1"})
    # the LLM host has no cord for /v1/embeddings: a known chat model gets "No matching cord found!"
    cord = post(client, emu, "chutes", "/embeddings", {"model": "zai-org/GLM-5-TEE", "input": "x"})
    assert (cord.status_code, cord.json()) == (404, {"detail": "No matching cord found!"})


def test_embedding_messages_with_png(emu: ProviderEmulator, client: httpx.Client) -> None:
    def image_doc(rgb: tuple[int, int, int]) -> list[float]:
        body = {
            "model": "Qwen/Qwen3-VL-Embedding-8B",
            "messages": [
                {"role": "system", "content": [{"type": "text", "text": "Represent the user's input."}]},
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": png_data_uri(6, 6, rgb)}},
                        {"type": "text", "text": ""},
                    ],
                },
                {"role": "assistant", "content": [{"type": "text", "text": ""}]},
            ],
            "encoding_format": "float",
            "continue_final_message": True,
            "add_special_tokens": True,
        }
        result = embed(client, emu, body)
        assert len(result["data"]) == 1
        return cast(list[float], result["data"][0]["embedding"])

    red, blue = image_doc((210, 30, 30)), image_doc((30, 30, 210))
    query_body = {
        "model": "Qwen/Qwen3-VL-Embedding-8B",
        "messages": [
            {"role": "system", "content": "Retrieve images or text relevant to the user's query."},
            {"role": "user", "content": "a red square"},
        ],
    }
    q = embed(client, emu, query_body)["data"][0]["embedding"]
    assert cosine(q, red) > cosine(q, blue) + 0.2


@pytest.mark.parametrize(
    "body,fragment",
    [
        (
            {
                "model": "intfloat/e5-mistral-7b-instruct",
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "https://example.com/x.png"}}],
                    }
                ],
            },
            "multimodal",
        ),
        ({"model": "Qwen/Qwen3-VL-Embedding-8B", "input": "x", "messages": []}, "not both"),
        (
            {
                "model": "Qwen/Qwen3-VL-Embedding-8B",
                "messages": [{"role": "user", "content": "x"}],
                "add_generation_prompt": True,
                "continue_final_message": True,
            },
            "Cannot set both",
        ),
        ({"model": "Qwen/Qwen3-VL-Embedding-8B", "input": "x", "normalize": True}, "use_activation"),
        ({"model": "Qwen/Qwen3-VL-Embedding-8B", "input": [[1, 2, 3]]}, "token"),
        ({"model": "Qwen/Qwen3-VL-Embedding-8B", "input": ["x"] * 2049}, "Too many"),
    ],
)
def test_embedding_request_errors(emu: ProviderEmulator, client: httpx.Client, body: Any, fragment: str) -> None:
    resp = post(client, emu, "stackit", "/embeddings", body)
    assert resp.status_code == 400
    assert fragment in resp.json()["error"]["message"]


# --- scenarios ----------------------------------------------------------------------------------


def test_error_scenarios(emu: ProviderEmulator, client: httpx.Client) -> None:
    body = {"model": "openai/gpt-oss-120b", "messages": [{"role": "user", "content": "hi"}]}

    def hit(provider: str, scenario: str, **extra: Any) -> httpx.Response:
        payload = {**body, **extra}
        if provider == "chutes":
            payload["model"] = "zai-org/GLM-5-TEE"
        return post(client, emu, provider, "/chat/completions", payload, {"X-Emulator-Scenario": scenario})

    # STACKIT's 429 body and Retry-After are undocumented: nothing is invented
    resp = hit("stackit", "rate_limit")
    assert resp.status_code == 429 and resp.content == b""
    assert resp.headers["x-ratelimit-remaining-requests"] == "0" and "retry-after" not in resp.headers
    # Chutes' 429s carry no Retry-After or rate-limit headers, and have three texts
    for scenario, text in (
        ("rate_limit", "Infrastructure is at maximum capacity, try again later"),
        ("maintenance", "model is under maintenance"),
        ("spam", "Stop spamming this prompt, please..."),
    ):
        resp = hit("chutes", scenario)
        assert (resp.status_code, resp.json()) == (429, {"detail": text})
        assert not any(h == "retry-after" or h.startswith("x-ratelimit") for h in resp.headers)
    resp = hit("chutes", "quota")
    assert resp.status_code == 402
    assert resp.json()["detail"]["quota_reset_timestamp"].endswith("T00:00:00+00:00")
    legacy = hit("stackit", "legacy_error").json()
    assert legacy["object"] == "error" and legacy["code"] == 400
    assert hit("stackit", "server_error").status_code == 500
    emu.clear_requests()
    statuses = [hit("stackit", "rate_limit:1").status_code for _ in range(3)]
    assert statuses == [429, 200, 200]
    assert hit("stackit", "stream_error").status_code == 200  # ignored for non-streams
    assert hit("stackit", "nonsense").status_code == 400


def test_stream_failure_scenarios(emu: ProviderEmulator, client: httpx.Client) -> None:
    body = {
        "model": "zai-org/GLM-5-TEE",
        "messages": [{"role": "user", "content": "Tell me about Paris"}],
        "stream": True,
    }
    resp = post(client, emu, "chutes", "/chat/completions", body, {"X-Emulator-Scenario": "stream_abort"})
    assert resp.status_code == 200
    assert '{"error": "Unhandled exception during response stream: boom"}' in resp.text
    assert "[DONE]" not in resp.text
    assert 'data: {"error"' not in resp.text
    resp = post(
        client,
        emu,
        "stackit",
        "/chat/completions",
        {**body, "model": "openai/gpt-oss-120b"},
        {"X-Emulator-Scenario": "stream_error"},
    )
    events = sse_events(resp)
    assert events[-1] == "[DONE]" and events[-2]["error"]["code"] == 500


# --- server lifecycle, concurrency, images ------------------------------------------------------


def test_concurrent_requests_are_parallel() -> None:
    with ProviderEmulator(latency_s=0.2, max_lifetime_s=30) as emu, httpx.Client(timeout=10) as c:
        body = {"model": "Qwen/Qwen3-VL-Embedding-8B", "input": "x"}

        def one(_: int) -> int:
            return c.post(emu.base_urls["stackit"] + "/embeddings", json=body, headers=KEY).status_code

        start = time.monotonic()
        with cf.ThreadPoolExecutor(20) as pool:
            assert set(pool.map(one, range(20))) == {200}
        assert time.monotonic() - start < 1.5


def test_close_and_max_lifetime_stop_the_servers() -> None:
    emu = ProviderEmulator(max_lifetime_s=30)
    url = emu.base_urls["chutes"] + "/models"
    assert httpx.get(url, timeout=5).status_code == 200
    emu.close()
    emu.close()  # idempotent
    assert emu.closed
    with pytest.raises(httpx.TransportError):
        httpx.get(url, timeout=2)
    short = ProviderEmulator(max_lifetime_s=0.2)
    assert short.wait_closed(timeout=5)
    with pytest.raises(httpx.TransportError):
        httpx.get(short.base_urls["stackit"] + "/models", timeout=2)


def test_module_entry_point_prints_urls_and_exits() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.emulator", "--max-lifetime", "0.3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    urls = json.loads(proc.stdout)
    assert set(urls) == {"stackit", "chutes", "chutes_embeddings"}


def _png(width: int, height: int, ctype: int, rows: list[bytes], filters: list[int]) -> bytes:
    """Encode raw scanlines with the given PNG filter types (reference encoder for the test)."""
    bpp = {0: 1, 2: 3, 6: 4}[ctype]
    out, prev = bytearray(), bytes(len(rows[0]))
    for row, ftype in zip(rows, filters, strict=True):
        enc = bytearray()
        for i, value in enumerate(row):
            left = row[i - bpp] if i >= bpp else 0
            up, ul = prev[i], prev[i - bpp] if i >= bpp else 0
            p = left + up - ul
            paeth = min((abs(p - left), 0, left), (abs(p - up), 1, up), (abs(p - ul), 2, ul))[2]
            pred = [0, left, up, (left + up) // 2, paeth][ftype]
            enc.append((value - pred) & 0xFF)
        out += bytes([ftype]) + enc
        prev = row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, ctype, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(out))) + chunk(b"IEND", b"")


@pytest.mark.parametrize("ctype", [0, 2, 6])
def test_png_decoder_handles_all_filter_types(ctype: int) -> None:
    channels = {0: 1, 2: 3, 6: 4}[ctype]
    width, height = 5, 5
    pixels = [
        [tuple((40 * x + 70 * y + 50 * c) % 256 if c < 3 else 255 for c in range(channels)) for x in range(width)]
        for y in range(height)
    ]
    rows = [bytes(v for px in row for v in px) for row in pixels]
    width_, height_, samples = decode_png_samples(_png(width, height, ctype, rows, [0, 1, 2, 3, 4]))
    assert (width_, height_) == (width, height)
    expected = [(px[0], px[0], px[0], 255) if ctype == 0 else (*px[:3], 255) for row in pixels for px in row]
    assert samples == expected
    solid = _png(4, 4, 2, [bytes([20, 200, 30]) * 4] * 4, [4, 3, 2, 1])
    info = inspect_image_url("data:image/png;base64," + base64.b64encode(solid).decode())
    assert info.colour == "green" and "green" in info.describe()
