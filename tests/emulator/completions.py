"""``POST /v1/completions`` (legacy text completions; listed for both providers).

Minimal: ``prompt`` (string or list of strings) -> one ``text_completion`` choice per prompt,
with ``max_tokens``/``stop`` honoured and optional streaming.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

from tests.emulator.chat_render import text_pieces
from tests.emulator.errors import Provider, Reply, context_overflow, provider_error
from tests.emulator.models import resolve
from tests.emulator.text import estimate_tokens, plain_answer, word_count


def _complete(prompt: str, max_tokens: int | None, stop: list[str]) -> tuple[str, str]:
    text = " " + plain_answer(prompt)
    finish = "stop"
    if max_tokens is not None and word_count(text) > max_tokens:
        text, finish = " " + " ".join(text.split()[:max_tokens]), "length"
    for s in stop:
        if s in text:
            text, finish = text[: text.find(s)], "stop"
    return text, finish


def handle_completions(provider: Provider, body: Any, headers: dict[str, str]) -> Reply:
    """Answer a legacy completions request."""
    del headers
    if not isinstance(body, dict):
        raise provider_error(provider, "request body must be a JSON object")
    resolved = resolve(provider, body.get("model"), "chat")
    prompt = body.get("prompt")
    prompts = [prompt] if isinstance(prompt, str) else prompt
    if not isinstance(prompts, list) or not prompts or not all(isinstance(p, str) for p in prompts):
        raise provider_error(provider, "`prompt` must be a string or a list of strings")
    stop_raw = body.get("stop")
    stop = [stop_raw] if isinstance(stop_raw, str) else [s for s in stop_raw or [] if isinstance(s, str) and s]
    max_tokens = body.get("max_tokens", 16)
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
        raise provider_error(provider, "max_tokens must be a positive integer")
    prompt_tokens = sum(estimate_tokens(p) for p in prompts)
    if prompt_tokens > resolved.spec.context:
        raise context_overflow(provider, resolved.spec.context, prompt_tokens, None)
    outs = [_complete(p, max_tokens, stop) for p in prompts]
    completion_tokens = sum(max(1, word_count(t)) for t, _ in outs)
    seed = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    cid = f"cmpl-{seed[:32]}" if provider == "stackit" else seed[:32]
    base = {"id": cid, "object": "text_completion", "created": int(time.time()), "model": resolved.served}
    usage = {
        "prompt_tokens": prompt_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "completion_tokens": completion_tokens,
    }
    if not body.get("stream"):
        choices = [
            {"index": i, "text": t, "logprobs": None, "finish_reason": f, "stop_reason": None}
            for i, (t, f) in enumerate(outs)
        ]
        return Reply.json({**base, "choices": choices, "usage": usage})

    def events() -> Iterator[bytes]:
        for i, (text, finish) in enumerate(outs):
            for piece in text_pieces(text):
                choice = {"index": i, "text": piece, "logprobs": None, "finish_reason": None}
                yield b"data: " + json.dumps({**base, "choices": [choice]}, ensure_ascii=False).encode() + b"\n\n"
            choice = {"index": i, "text": "", "logprobs": None, "finish_reason": finish}
            yield b"data: " + json.dumps({**base, "choices": [choice]}).encode() + b"\n\n"
        opts = body.get("stream_options")
        # Chutes forces include_usage on every stream (see chat_render)
        if provider != "stackit" or (isinstance(opts, dict) and opts.get("include_usage")):
            yield b"data: " + json.dumps({**base, "choices": [], "usage": usage}).encode() + b"\n\n"
        yield b"data: [DONE]\n\n"

    return Reply.sse(events())
