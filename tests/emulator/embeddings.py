"""``POST /v1/embeddings``: vLLM ``EmbeddingCompletionRequest`` / ``EmbeddingChatRequest``.

Vectors are hashed bag-of-words: stop-words dropped, light stemming, every token hashed
(SHA-256, never Python's salted ``hash``) into one signed bucket at each of the scales
64/256/1024/4096, so any Matryoshka prefix (``dimensions``) keeps every token; then
L2-normalised. Related texts share buckets, so retrieval ranks them first. The e5
``Instruct: ...\\nQuery: ...`` instruction and ``messages`` system prompts are ignored;
images contribute "<colour> image picture" (PNG data URIs) or a digest token.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
import time
from collections import Counter
from functools import lru_cache
from typing import Any

from tests.emulator.errors import EmulatorError, Provider, Reply, chutes_error, vllm_error, vllm_error_body
from tests.emulator.images import ImageError, inspect_image_url
from tests.emulator.models import ModelSpec, resolve
from tests.emulator.text import content_words, estimate_tokens, parts_text

MAX_INPUTS = 2048
_SCALES = (64, 256, 1024, 4096)
_EMPTY_TOKEN = "\x00empty"


def _err(provider: Provider, message: str, status: int = 400) -> EmulatorError:
    return vllm_error(message, status) if provider == "stackit" else chutes_error(message, status)


@lru_cache(maxsize=65536)
def _buckets(token: str) -> tuple[tuple[int, float], ...]:
    digest = hashlib.sha256(token.encode("utf-8")).digest()
    out = []
    for k, scale in enumerate(_SCALES):
        idx = int.from_bytes(digest[4 * k : 4 * k + 4], "little") % scale
        out.append((idx, 1.0 if digest[16 + k] & 1 else -1.0))
    return tuple(out)


def strip_instruction(text: str) -> str:
    """Drop an e5/Qwen ``Instruct: ...`` task prefix, keeping only the query."""
    stripped = text.lstrip()
    if stripped.startswith("Instruct:") and "Query:" in stripped:
        return stripped.split("Query:", 1)[1]
    return text


def vectorize(tokens: list[str], dim: int) -> list[float]:
    """Hashed bag-of-words -> L2-normalised vector of length ``dim`` (a prefix of 4096)."""
    if not tokens:
        tokens = [_EMPTY_TOKEN]
    vec = [0.0] * dim
    for token, tf in Counter(tokens).items():
        weight = 1.0 + math.log(tf)
        for idx, sign in _buckets(token):
            if idx < dim:
                vec[idx] += sign * weight
    norm = math.sqrt(sum(v * v for v in vec))
    if norm == 0.0:
        vec[0], norm = 1.0, 1.0
    # float32 values, as vLLM's tensors hold: the float and base64 encodings give identical vectors.
    return list(struct.unpack(f"<{dim}f", struct.pack(f"<{dim}f", *(round(v / norm, 8) for v in vec))))


def text_tokens(text: str) -> list[str]:
    """Embedding tokens of a plain text input."""
    return content_words(strip_instruction(text))


def _message_tokens(provider: Provider, spec: ModelSpec, messages: Any) -> tuple[list[str], int, int]:
    """Tokens, image count and token estimate for an ``EmbeddingChatRequest``."""
    if not isinstance(messages, list) or not messages:
        raise _err(provider, "`messages` must be a non-empty list")
    tokens: list[str] = []
    n_images, chars = 0, 0
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or msg.get("role") not in ("system", "developer", "user", "assistant"):
            raise _err(provider, f"messages[{i}]: invalid message")
        content = msg.get("content")
        text = parts_text(content)
        chars += len(text)
        if msg["role"] in ("system", "developer"):
            continue  # the task instruction must not dominate the vector
        tokens += text_tokens(text)
        for part in content if isinstance(content, list) else []:
            if not isinstance(part, dict):
                raise _err(provider, "content parts must be objects")
            if part.get("type") in ("text", "input_text"):
                continue
            if part.get("type") != "image_url":
                raise _err(provider, f"Unknown part type: {part.get('type')}")
            if not spec.vision:
                raise _err(provider, f"{spec.id} is not a multimodal model")
            url_obj = part.get("image_url")
            url = url_obj.get("url") if isinstance(url_obj, dict) else url_obj
            if not isinstance(url, str):
                raise _err(provider, "image_url part needs image_url.url")
            try:
                tokens += inspect_image_url(url).embedding_words()
            except ImageError as exc:
                raise _err(provider, str(exc)) from exc
            n_images += 1
    if spec.max_images is not None and n_images > spec.max_images:
        raise _err(provider, f"At most {spec.max_images} image(s) may be provided in one prompt.")
    return tokens, n_images, math.ceil(chars / 4) + 256 * n_images


def _dimensions(provider: Provider, spec: ModelSpec, body: dict[str, Any]) -> int:
    dims = body.get("dimensions")
    if dims is None:
        return spec.embed_dim
    if spec.dimensions_range is None:
        raise _err(
            provider,
            f'Model "{spec.id}" does not support matryoshka representation, changing output '
            "dimensions will lead to poor results.",
        )
    low, high = spec.dimensions_range
    if not isinstance(dims, int) or isinstance(dims, bool) or not low <= dims <= high:
        raise _err(provider, f"`dimensions` must be an integer between {low} and {high}, got {dims!r}")
    return dims


def _overflow(provider: Provider, spec: ModelSpec, tokens: int) -> EmulatorError:
    msg = (
        f"This model's maximum context length is {spec.context} tokens. However, you requested {tokens} "
        "tokens in the input for embedding generation. Please reduce the length of the input."
    )
    if provider == "stackit":
        return vllm_error(msg, 400)
    return chutes_error(vllm_error_body(msg, 400, legacy=True), 400)


def _inputs(provider: Provider, spec: ModelSpec, raw: Any) -> list[str]:
    if isinstance(raw, str):
        items = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(x, str) for x in raw):
        items = list(raw)
    elif isinstance(raw, list) and raw and all(isinstance(x, int | list) for x in raw):
        raise _err(provider, "token-id input (list of integers) is not supported; send text strings")
    elif isinstance(raw, list) and not raw:
        raise _err(provider, "`input` must not be empty")
    else:
        raise _err(provider, "`input` must be a string or a list of strings")
    if len(items) > MAX_INPUTS:
        raise _err(provider, f"Too many inputs: {len(items)} > {MAX_INPUTS} per request")
    for item in items:
        if estimate_tokens(item) > spec.context:
            raise _overflow(provider, spec, estimate_tokens(item))
    return items


def _encode(vec: list[float], encoding: str) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode("ascii")
    return vec


def handle_embeddings(provider: Provider, body: Any, headers: dict[str, str]) -> Reply:
    """Validate and answer an embeddings request."""
    del headers
    if not isinstance(body, dict):
        raise _err(provider, "request body must be a JSON object")
    resolved = resolve(provider, body.get("model"), "embedding")
    spec = resolved.spec
    if provider == "stackit" and "normalize" in body:
        raise _err(provider, "Parameter `normalize` was removed; use `use_activation` instead.")
    has_input, has_messages = "input" in body, "messages" in body
    if has_input and has_messages:
        raise _err(provider, "Either `input` or `messages` must be provided, not both.")
    if not has_input and not has_messages:
        raise _err(provider, "Field required: `input` (or `messages` for chat-style embedding requests)")
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise _err(provider, f"encoding_format must be 'float' or 'base64', got {encoding!r}")
    dim = _dimensions(provider, spec, body)
    if has_messages:
        if body.get("add_generation_prompt") and body.get("continue_final_message"):
            raise _err(provider, "Cannot set both `continue_final_message` and `add_generation_prompt` to True.")
        tokens, _n_images, prompt_tokens = _message_tokens(provider, spec, body["messages"])
        if prompt_tokens > spec.context:
            raise _overflow(provider, spec, prompt_tokens)
        vectors = [vectorize(tokens, dim)]
    else:
        items = _inputs(provider, spec, body["input"])
        prompt_tokens = sum(max(1, estimate_tokens(t)) for t in items)
        vectors = [vectorize(text_tokens(t), dim) for t in items]
    digest = hashlib.sha256(repr(sorted(body.items(), key=lambda kv: kv[0])).encode()).hexdigest()[:32]
    payload = {
        "id": f"embd-{digest}",
        "object": "list",
        "created": int(time.time()),
        "model": resolved.served,
        "data": [{"index": i, "object": "embedding", "embedding": _encode(v, encoding)} for i, v in enumerate(vectors)],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "total_tokens": prompt_tokens,
            "completion_tokens": 0,
            "prompt_tokens_details": None,
        },
    }
    return Reply.json(payload)
