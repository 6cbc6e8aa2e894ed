"""``POST /v1/chat/completions``: request validation and deterministic generation."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from tests.emulator.chat_render import render_completion, render_stream
from tests.emulator.errors import EmulatorError, Provider, Reply, context_overflow, provider_error
from tests.emulator.images import ImageError, ImageInfo, inspect_image_url
from tests.emulator.models import Resolved, resolve
from tests.emulator.schema_fill import PromptFacts, dumps, fill_schema, json_object_for_prompt
from tests.emulator.text import estimate_tokens, parts_text, plain_answer, reasoning_text, word_count
from tests.emulator.tools import ToolCall, parse_tools, plan_tool_calls, tool_result_answer, validate_tool_choice

_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}
_USER_PART_TYPES = {"text", "image_url", "input_text"}
_EFFORTS = {"low", "medium", "high"}
IMAGE_TOKENS = 256


@dataclass
class ChatRequest:
    """A validated chat request plus facts extracted from its messages."""

    provider: Provider
    body: dict[str, Any]
    resolved: Resolved
    headers: dict[str, str]
    seed: str
    system_texts: list[str] = field(default_factory=list)
    last_role: str = "user"
    user_text: str = ""
    last_user_images: list[ImageInfo] = field(default_factory=list)
    tool_results: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    max_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    reasoning_on: bool = False
    effort: str | None = None

    @property
    def stream(self) -> bool:
        """Whether the client asked for SSE."""
        return bool(self.body.get("stream"))

    @property
    def include_usage(self) -> bool:
        """``stream_options.include_usage``."""
        opts = self.body.get("stream_options")
        return isinstance(opts, dict) and bool(opts.get("include_usage"))


@dataclass
class Generation:
    """The emulated model output for one request."""

    content: str | None
    reasoning: str | None
    tool_calls: list[ToolCall]
    finish_reason: str
    stop_reason: str | None
    completion_tokens: int


def _err(req_provider: Provider, message: str, status: int = 400) -> EmulatorError:
    return provider_error(req_provider, message, status)


def _images_in(provider: Provider, content: Any, *, user: bool) -> list[ImageInfo]:
    if not isinstance(content, list):
        if content is not None and not isinstance(content, str):
            raise _err(provider, "message content must be a string or a list of content parts")
        return []
    images = []
    for part in content:
        if not isinstance(part, dict):
            raise _err(provider, "content parts must be objects")
        ptype = part.get("type")
        if ptype == "image_url":
            url_obj = part.get("image_url")
            url = url_obj.get("url") if isinstance(url_obj, dict) else url_obj
            if not isinstance(url, str):
                raise _err(provider, "image_url part needs image_url.url")
            try:
                images.append(inspect_image_url(url))
            except ImageError as exc:
                raise _err(provider, str(exc)) from exc
        elif user and ptype not in _USER_PART_TYPES:
            raise _err(provider, f"Unknown part type: {ptype}")
    return images


def _reasoning_enabled(
    provider: Provider, body: dict[str, Any], resolved: Resolved, headers: dict[str, str], effort: str | None
) -> bool:
    spec = resolved.spec
    if spec.reasoning_field is None or spec.reasoning_mode is None:
        return False
    raw_kwargs = body.get("chat_template_kwargs")
    kwargs: dict[str, Any] = raw_kwargs if isinstance(raw_kwargs, dict) else {}
    explicit = kwargs.get("enable_thinking", kwargs.get("thinking"))
    if provider != "stackit" and (resolved.thinking_suffix or headers.get("x-enable-thinking", "").lower() == "true"):
        explicit = True
    if provider == "stackit" and effort is not None and explicit is None:
        explicit = True
    if spec.reasoning_mode == "always":
        return True
    if spec.reasoning_mode == "on":
        return explicit is not False
    return explicit is True


def parse_chat_request(provider: Provider, body: Any, headers: dict[str, str]) -> ChatRequest:
    """Validate the body like vLLM (STACKIT) / the Chutes gateway and extract prompt facts."""
    if not isinstance(body, dict):
        raise _err(provider, "request body must be a JSON object")
    resolved = resolve(provider, body.get("model"), "chat")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _err(provider, "`messages` must be a non-empty list")
    seed = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    req = ChatRequest(provider, body, resolved, headers, seed)
    texts: list[str] = []
    n_images = 0
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or msg.get("role") not in _ROLES:
            raise _err(provider, f"messages[{i}]: invalid message (role must be one of {sorted(_ROLES)})")
        role, content = msg["role"], msg.get("content")
        images = _images_in(provider, content, user=role == "user")
        n_images += len(images)
        text = parts_text(content)
        texts.append(text)
        if role in ("system", "developer"):
            req.system_texts.append(text)
        if role == "user":
            req.user_text, req.last_user_images, req.tool_results = text, images, []
        elif role in ("tool", "function"):
            req.tool_results.append(text if text or not images else images[0].describe())
        elif role == "assistant":
            req.tool_results = []
            texts.append(json.dumps(msg.get("tool_calls") or "", ensure_ascii=False))
        req.last_role = role
    spec = resolved.spec
    if n_images and not spec.vision:
        msg = f"{spec.id} is not a multimodal model"
        raise _err(provider, msg if provider == "stackit" else f"{msg}; image inputs are not supported", 400)
    if spec.max_images is not None and n_images > spec.max_images:
        raise _err(provider, f"At most {spec.max_images} image(s) may be provided in one prompt.", 400)
    if provider == "stackit":
        mct = body.get("max_completion_tokens")
        req.max_tokens = mct if mct is not None else body.get("max_tokens")
    else:
        req.max_tokens = body.get("max_tokens")
    if req.max_tokens is not None and (not isinstance(req.max_tokens, int) or req.max_tokens < 1):
        raise _err(provider, "max_tokens must be a positive integer")
    stop = body.get("stop")
    if isinstance(stop, str):
        req.stop = [stop]
    elif isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        req.stop = [s for s in stop if s]
    elif stop is not None:
        raise _err(provider, "`stop` must be a string or a list of strings")
    effort = body.get("reasoning_effort")
    if effort is not None and provider == "stackit" and effort not in _EFFORTS:
        raise _err(provider, f"Invalid reasoning_effort {effort!r}: expected one of 'low', 'medium', 'high'")
    req.effort = effort if isinstance(effort, str) else None
    req.reasoning_on = _reasoning_enabled(provider, body, resolved, headers, req.effort)
    tools = body.get("tools")
    # STACKIT accepts `tools: []` (its FAQ warns it makes models hallucinate tool calls, which is why
    # the package never sends it); it is treated like no tools here.
    fns = parse_tools(provider, tools)
    validate_tool_choice(provider, body.get("tool_choice"), fns)
    if fns and not spec.tools and provider == "stackit" and body.get("tool_choice") in (None, "auto"):
        raise _err(provider, '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set')
    tool_text = json.dumps(tools, ensure_ascii=False) if fns else ""
    req.prompt_tokens = estimate_tokens("\n".join(texts) + tool_text) + IMAGE_TOKENS * n_images + 3 * len(messages)
    if req.prompt_tokens > spec.context or (req.max_tokens and req.prompt_tokens + req.max_tokens > spec.context):
        raise context_overflow(provider, spec.context, req.prompt_tokens, req.max_tokens)
    return req


def _structured_content(req: ChatRequest, answer: str) -> str | None:
    fmt = req.body.get("response_format")
    if fmt is None:
        return None
    if not isinstance(fmt, dict) or fmt.get("type") not in ("text", "json_object", "json_schema"):
        raise _err(req.provider, "response_format.type must be one of 'text', 'json_object', 'json_schema'")
    if fmt["type"] == "json_object":
        return dumps(json_object_for_prompt(req.user_text, answer))
    if fmt["type"] == "json_schema":
        spec = fmt.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise _err(req.provider, "response_format.json_schema.schema must be a JSON schema object")
        return dumps(fill_schema(schema, PromptFacts(req.user_text, answer=answer), "structured"))
    return None


def _text_answer(req: ChatRequest) -> str:
    if req.last_role in ("tool", "function") and req.tool_results:
        return tool_result_answer(req.tool_results)
    if req.last_user_images:
        descriptions = [img.describe() for img in req.last_user_images]
        if len(descriptions) == 1:
            return descriptions[0]
        return f"There are {len(descriptions)} images. " + " ".join(
            f"Image {i}: {d}" for i, d in enumerate(descriptions, 1)
        )
    return plain_answer(req.user_text, req.system_texts)


def generate(req: ChatRequest) -> Generation:
    """Produce the (deterministic) model output for a validated request."""
    fns = parse_tools(req.provider, req.body.get("tools"))
    calls = plan_tool_calls(
        req.provider,
        fns,
        req.body.get("tool_choice"),
        req.last_role,
        req.user_text,
        parallel=req.body.get("parallel_tool_calls") is not False,
        seed=req.seed,
    )
    content: str | None = None
    if calls:
        names = ", ".join(dict.fromkeys(c.name for c in calls))
        plan = f"I should call the {names} tool with arguments taken from the request."
    else:
        answer = _text_answer(req)
        structured = _structured_content(req, answer)
        content = structured if structured is not None else answer
        plan = (
            "I should reply with JSON that matches the requested format, nothing else."
            if structured is not None
            else "I should answer briefly, clearly and accurately."
        )
    reasoning = reasoning_text(req.user_text, req.effort, plan) if req.reasoning_on else None
    finish, stop_reason = ("tool_calls" if calls else "stop"), None
    if content is not None and req.max_tokens is not None and word_count(content) > req.max_tokens:
        content = " ".join(content.split()[: req.max_tokens])
        finish = "length"
    if content is not None and req.stop:
        hits = [(content.find(s), s) for s in req.stop if s in content]
        if hits:
            pos, stop_reason = min(hits)
            content = content[:pos]
            finish = "stop"
    if reasoning is not None and req.resolved.spec.reasoning_field == "think":
        content = f"<think>\n{reasoning}\n</think>\n\n{content or ''}"
        reasoning = None
    if req.provider == "stackit" and req.body.get("include_reasoning") is False:
        reasoning = None
    tokens = word_count(content or "") + word_count(reasoning or "") + sum(word_count(c.arguments) for c in calls)
    return Generation(content, reasoning, calls, finish, stop_reason, max(1, tokens))


def handle_chat(provider: Provider, body: Any, headers: dict[str, str], scenario: str | None) -> Reply:
    """Full handler: validate, generate, render JSON or SSE."""
    req = parse_chat_request(provider, body, headers)
    gen = generate(req)
    if req.stream:
        return Reply.sse(render_stream(req, gen, scenario))
    return Reply.json(render_completion(req, gen))
