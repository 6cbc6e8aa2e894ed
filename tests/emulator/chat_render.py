"""Render a :class:`~tests.emulator.chat.Generation` as provider-shaped JSON or SSE chunks.

STACKIT (vLLM): ids ``chatcmpl-<hex>``, tool call ids ``chatcmpl-tool-<hex>``, ``usage`` with
``prompt_tokens_details: null``; in streams, one delta per call carries two argument fragments of
the same index (speculative-decoding quirk, openai-python #3203).

Chutes (SGLang behind a gateway): plain-hex ids, ``chutes_verification`` / ``prompt_sha256`` /
``template_sha256`` / ``metadata`` extras, ``matched_stop`` per choice, ``"tool_calls": null`` and
``"reasoning_content": null`` in deltas, ``"usage": null`` in every chunk, and every parallel tool
call with ``"index": 0`` in non-streaming responses (providers.md section 4.6).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.emulator.chat import ChatRequest, Generation

_EOS_TOKEN = 151645


def _h(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _completion_id(req: ChatRequest) -> str:
    digest = _h("completion", req.seed)[:32]
    return f"chatcmpl-{digest}" if req.provider == "stackit" else digest


def usage_of(req: ChatRequest, gen: Generation) -> dict[str, Any]:
    """The ``usage`` object (STACKIT adds ``prompt_tokens_details: null``)."""
    usage: dict[str, Any] = {
        "prompt_tokens": req.prompt_tokens,
        "total_tokens": req.prompt_tokens + gen.completion_tokens,
        "completion_tokens": gen.completion_tokens,
    }
    if req.provider == "stackit":
        usage["prompt_tokens_details"] = None
    return usage


def _chutes_extras(req: ChatRequest) -> dict[str, Any]:
    messages = json.dumps(req.body.get("messages"), sort_keys=True, ensure_ascii=False)
    return {
        "metadata": {"weight_version": "default"},
        "chutes_verification": _h("verification", req.seed)[:32],
        "prompt_sha256": hashlib.sha256(messages.encode()).hexdigest(),
        "template_sha256": _h("template", req.resolved.spec.id),
    }


def _reasoning_key(req: ChatRequest) -> str:
    # STACKIT: recent vLLM emits only `reasoning` (vLLM PR #33402); no capture shows a per-model split.
    # Chutes (SGLang/vLLM behind the gateway): `reasoning_content`.
    return "reasoning" if req.provider == "stackit" else "reasoning_content"


def render_completion(req: ChatRequest, gen: Generation) -> dict[str, Any]:
    """Non-streaming ``chat.completion`` object."""
    created = int(time.time())
    calls: list[dict[str, Any]] = [
        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}} for c in gen.tool_calls
    ]
    if req.provider == "stackit":
        message: dict[str, Any] = {
            "role": "assistant",
            "content": gen.content,
            "refusal": None,
            "annotations": None,
            "audio": None,
            "function_call": None,
            "tool_calls": calls,
            _reasoning_key(req): gen.reasoning,
        }
        choice = {
            "index": 0,
            "message": message,
            "logprobs": None,
            "finish_reason": gen.finish_reason,
            "stop_reason": gen.stop_reason,
            "token_ids": None,
        }
        return {
            "id": _completion_id(req),
            "object": "chat.completion",
            "created": created,
            "model": req.resolved.served,
            "choices": [choice],
            "service_tier": None,
            "system_fingerprint": None,
            "usage": usage_of(req, gen),
            "prompt_logprobs": None,
            "prompt_token_ids": None,
            "kv_transfer_params": None,
        }
    for call in calls:
        call["index"] = 0  # documented Chutes quirk: every parallel call reports index 0
    message = {
        "role": "assistant",
        "content": gen.content,
        "reasoning_content": gen.reasoning,
        "tool_calls": calls or None,
    }
    matched = gen.stop_reason if gen.stop_reason else (_EOS_TOKEN if gen.finish_reason == "stop" else None)
    choice = {
        "index": 0,
        "message": message,
        "logprobs": None,
        "finish_reason": gen.finish_reason,
        "matched_stop": matched,
    }
    return {
        "id": _completion_id(req),
        "object": "chat.completion",
        "created": created,
        "model": req.resolved.served,
        "choices": [choice],
        "usage": usage_of(req, gen),
        **_chutes_extras(req),
    }


def text_pieces(text: str, words_per_piece: int = 2) -> list[str]:
    """Split text into small pieces whose concatenation is exactly ``text``."""
    tokens = re.findall(r"\S+\s*|\s+", text)
    return ["".join(tokens[i : i + words_per_piece]) for i in range(0, len(tokens), words_per_piece)]


def arg_fragments(arguments: str) -> list[str]:
    """Split a JSON arguments string into 2-4 fragments (concatenation == original)."""
    if len(arguments) <= 2:
        return [arguments[:1], arguments[1:]] if len(arguments) == 2 else [arguments]
    n = min(4, max(3, len(arguments) // 6))
    size = -(-len(arguments) // n)
    return [arguments[i : i + size] for i in range(0, len(arguments), size)]


def _tool_call_deltas(req: ChatRequest, gen: Generation) -> list[dict[str, Any]]:
    deltas: list[dict[str, Any]] = []
    for index, call in enumerate(gen.tool_calls):
        frags = arg_fragments(call.arguments)
        head = {
            "id": call.id,
            "type": "function",
            "index": index,
            "function": {"name": call.name, "arguments": frags[0]},
        }
        deltas.append({"tool_calls": [head]})
        rest = frags[1:]
        if req.provider == "stackit" and len(rest) >= 2:
            for frag in rest[:-2]:
                deltas.append({"tool_calls": [{"index": index, "function": {"arguments": frag}}]})
            deltas.append({"tool_calls": [{"index": index, "function": {"arguments": frag}} for frag in rest[-2:]]})
        else:
            deltas.extend({"tool_calls": [{"index": index, "function": {"arguments": f}}]} for f in rest)
    return deltas


def _deltas(req: ChatRequest, gen: Generation) -> list[dict[str, Any]]:
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    if gen.reasoning:
        key = _reasoning_key(req)
        deltas.extend({key: piece} for piece in text_pieces(gen.reasoning, 3))
    content = gen.content or ""
    if content.startswith("<think>\n") and "\n</think>\n\n" in content:
        thought, _, content = content[len("<think>\n") :].partition("\n</think>\n\n")
        deltas.append({"content": "<think>\n"})
        deltas.extend({"content": piece} for piece in text_pieces(thought, 3))
        deltas.append({"content": "\n</think>\n\n"})
    deltas.extend({"content": piece} for piece in text_pieces(content))
    deltas.extend(_tool_call_deltas(req, gen))
    return deltas


def render_stream(req: ChatRequest, gen: Generation, scenario: str | None) -> Iterator[bytes]:
    """SSE byte chunks for a streamed completion (honours ``stream_abort`` / ``stream_error``)."""
    chutes = req.provider != "stackit"
    base = {
        "id": _completion_id(req),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": req.resolved.served,
    }
    verification = _chutes_extras(req)["chutes_verification"] if chutes else ""

    def frame(payload: dict[str, Any]) -> bytes:
        return b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n"

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        if chutes:
            full = {"role": delta["role"]} if "role" in delta else {}
            full.update({"content": None, "reasoning_content": None, "tool_calls": None})
            full.update(delta)
            choice["delta"] = full
            matched = gen.stop_reason or (_EOS_TOKEN if finish == "stop" else None)
            choice["matched_stop"] = matched if finish else None
            return {**base, "choices": [choice], "usage": None, "chutes_verification": verification}
        if finish is not None:
            choice["stop_reason"] = gen.stop_reason
        return {**base, "choices": [choice]}

    payloads = [chunk(d) for d in _deltas(req, gen)]
    payloads.append(chunk({}, gen.finish_reason))
    # Chutes' gateway forces stream_options.include_usage on every streamed request ("Force usage
    # metrics", api/invocation/router.py): the usage chunk arrives even when it was not asked for.
    if req.include_usage or chutes:
        usage_chunk: dict[str, Any] = {**base, "choices": [], "usage": usage_of(req, gen)}
        if chutes:
            usage_chunk["chutes_verification"] = verification
        payloads.append(usage_chunk)
    for i, payload in enumerate(payloads):
        if scenario in ("stream_abort", "stream_error") and i == 2:
            if scenario == "stream_abort":
                yield b'{"error": "Unhandled exception during response stream: boom"}\n\n'
                return
            error = {
                "error": {
                    "message": "Unhandled exception during response stream: boom",
                    "type": "InternalServerError",
                    "param": None,
                    "code": 500,
                }
            }
            yield frame(error)
            break
        yield frame(payload)
    yield b"data: [DONE]\n\n"
