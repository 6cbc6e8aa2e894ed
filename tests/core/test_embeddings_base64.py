"""base64 embeddings: asked where the provider supports it, decoded exactly, floats as the fallback."""

from __future__ import annotations

import asyncio
import base64
import json
import struct
from collections.abc import Iterator

import httpx2
import pytest

from stackit_chutes_core import APIError, BadRequestError, embed_texts, resolve_endpoint
from stackit_chutes_core._embeddings import aembed_texts
from stackit_chutes_core._vectors import decode_vector, forget_rejections
from tests._http import Recorder, json_response
from tests.emulator import ProviderEmulator
from tests.emulator.embeddings import text_tokens, vectorize

E5 = "stackit/intfloat/e5-mistral-7b-instruct"
VECTOR = [0.0167388916015625, 0.005096435546875, -0.01406097412109375]


@pytest.fixture(autouse=True)
def _fresh_rejections() -> Iterator[None]:
    forget_rejections()
    yield
    forget_rejections()


def _ep(recorder: Recorder, model: str = E5) -> object:
    return resolve_endpoint(
        model,
        api_key="k",
        purpose="embeddings",
        max_retries=0,
        http_client=recorder.client(),
        http_async_client=recorder.async_client(),
    )


def _b64(values: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


def _answer(request: httpx2.Request) -> httpx2.Response:
    body = json.loads(request.content)
    encode = body.get("encoding_format") == "base64"
    data = [
        {"index": i, "object": "embedding", "embedding": _b64(VECTOR) if encode else VECTOR}
        for i in range(len(body["input"]))
    ]
    return json_response({"object": "list", "data": data, "usage": {"prompt_tokens": 2, "total_tokens": 2}})


def _refusing(request: httpx2.Request) -> httpx2.Response:
    if json.loads(request.content).get("encoding_format") == "base64":
        error = {"message": "encoding_format 'base64' is not supported", "type": "BadRequestError", "code": 400}
        return json_response({"error": error}, status=400)
    return _answer(request)


def test_stackit_asks_base64_and_decodes_it_exactly() -> None:
    recorder = Recorder(_answer)
    result = embed_texts(_ep(recorder), ["a", "b"])
    assert recorder.last_body()["encoding_format"] == "base64"
    assert result.vectors == [VECTOR, VECTOR]
    assert all(type(x) is float for x in result.vectors[0])


def test_chutes_keeps_floats() -> None:
    recorder = Recorder(_answer)
    embed_texts(_ep(recorder, "chutes/Qwen/Qwen3-Embedding-8B"), ["a"])
    assert recorder.last_body()["encoding_format"] == "float"


def test_rejection_falls_back_to_floats_and_is_remembered() -> None:
    recorder = Recorder(_refusing)
    endpoint = _ep(recorder)
    assert embed_texts(endpoint, ["a"]).vectors == [VECTOR]
    assert [b["encoding_format"] for b in recorder.bodies()] == ["base64", "float"]
    assert embed_texts(endpoint, ["b"]).vectors == [VECTOR]
    assert [b["encoding_format"] for b in recorder.bodies()] == ["base64", "float", "float"]  # no second try


def test_async_rejection_falls_back() -> None:
    recorder = Recorder(_refusing)
    result = asyncio.run(aembed_texts(_ep(recorder), ["a", "b"]))
    assert result.vectors == [VECTOR, VECTOR]
    assert [b["encoding_format"] for b in recorder.bodies()] == ["base64", "float"]


def test_other_bad_requests_are_not_retried() -> None:
    recorder = Recorder(json_response({"error": {"message": "input is too long", "code": 400}}, status=400))
    with pytest.raises(BadRequestError, match="too long"):
        embed_texts(_ep(recorder), ["a"])
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [("***", "invalid base64"), (base64.b64encode(b"12345").decode(), "5 bytes"), (7, "type int")],
)
def test_malformed_vectors_are_typed_errors(value: object, message: str) -> None:
    endpoint = resolve_endpoint(E5, api_key="k", purpose="embeddings")
    with pytest.raises(APIError, match=message):
        decode_vector(value, endpoint)


def test_emulator_base64_equals_its_float_vectors() -> None:
    """Against the emulator (vLLM-like): the base64 answer decodes to the very floats it would send."""
    texts = ["The Rhine flows north.", "Bees make honey."]
    with ProviderEmulator(latency_s=0.0, max_lifetime_s=60) as emu:
        endpoint = resolve_endpoint(E5, api_key="k", purpose="embeddings", base_url=emu.base_urls["stackit"])
        vectors = embed_texts(endpoint, texts).vectors
        sent = [r.body for r in emu.requests]
    assert [b["encoding_format"] for b in sent] == ["base64"]
    assert vectors == [vectorize(text_tokens(t), 4096) for t in texts]
