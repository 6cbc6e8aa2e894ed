"""Chat completions: neutral request -> wire body, wire answer -> neutral result, and the calls.

Provider quirks handled here, once for both frameworks: the output-token field name (STACKIT
``max_completion_tokens``, Chutes ``max_tokens``), never sending an empty ``tools`` list (STACKIT: it
makes models hallucinate tool calls), the thinking toggle (``chat_template_kwargs`` and Chutes'
``X-Enable-Thinking`` header), reasoning read from ``reasoning``, ``reasoning_content`` or
``<think>`` tags, tool-call ids that are missing or duplicated, and unknown extra fields.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

from stackit_chutes_core import catalog
from stackit_chutes_core._capability import refuses_images
from stackit_chutes_core._inputs import check_messages
from stackit_chutes_core._params import response_format_of, tool_choice_of
from stackit_chutes_core._reasoning import reasoning_of, split_think
from stackit_chutes_core._streaming import ChatStreamState
from stackit_chutes_core._transport import apost_json, apost_stream, invalid_response, post_json, post_stream
from stackit_chutes_core.errors import CapabilityError
from stackit_chutes_core.providers import Provider
from stackit_chutes_core.routing import Endpoint, check_no_authorization
from stackit_chutes_core.types import (
    ChatDelta,
    ChatRequest,
    ChatResult,
    ImagePart,
    Message,
    ResponseFormat,
    TextPart,
    ToolCall,
    ToolChoice,
    ToolSpec,
    Usage,
    arguments_to_str,
    fallback_call_id,
)

__all__ = [
    "achat",
    "astream_chat",
    "build_chat_body",
    "chat",
    "message_to_wire",
    "parse_chat_response",
    "stream_chat",
    "tool_to_wire",
]

_CHAT_PATH = "/chat/completions"


def _content_to_wire(content: str | Sequence[TextPart | ImagePart] | None, role: str) -> Any:
    if content is None or isinstance(content, str):
        return content
    if role != "user" or all(isinstance(part, TextPart) for part in content):
        # Many OpenAI-compatible servers reject list content for system/assistant/tool turns.
        return "".join(part.text if isinstance(part, TextPart) else "" for part in content)
    parts: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, TextPart):
            parts.append({"type": "text", "text": part.text})
        else:
            image: dict[str, Any] = {"url": part.url}
            if part.detail:
                image["detail"] = part.detail
            parts.append({"type": "image_url", "image_url": image})
    return parts


def message_to_wire(message: Message, provider: Provider) -> dict[str, Any]:
    """One neutral message as an OpenAI chat message dict."""
    wire: dict[str, Any] = {"role": message.role}
    content = _content_to_wire(message.content, message.role)
    if message.role == "assistant" and message.tool_calls:
        wire["content"] = content or None
        wire["tool_calls"] = [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
            for call in message.tool_calls
        ]
    else:
        wire["content"] = "" if content is None else content
    if message.role == "tool":
        wire["tool_call_id"] = message.tool_call_id
    if message.name and message.role != "tool":
        wire["name"] = message.name
    if message.reasoning and message.role == "assistant" and provider.reasoning_history_field:
        wire[provider.reasoning_history_field] = message.reasoning
    return wire


def tool_to_wire(tool: ToolSpec) -> dict[str, Any]:
    """A neutral tool as an OpenAI ``tools`` entry."""
    function: dict[str, Any] = {"name": tool.name, "parameters": dict(tool.parameters)}
    if tool.description:
        function["description"] = tool.description
    if tool.strict is not None:
        function["strict"] = tool.strict
    return {"type": "function", "function": function}


def _check_capabilities(endpoint: Endpoint, request: ChatRequest) -> None:
    """Refuse before sending only on documented, dated catalog facts (see ``_capability``)."""
    info = endpoint.route.info
    if info is None:
        return
    has_image = any(
        isinstance(part, ImagePart)
        for message in request.messages
        if not isinstance(message.content, (str, type(None)))
        for part in message.content
    )
    if has_image and refuses_images(info):
        vision = [m.qualified_name for m in catalog.all_models(info.provider, "chat") if m.capabilities.image_input]
        raise CapabilityError(
            f"Model {info.qualified_name!r} does not accept images (text only, per {info.source}, {info.as_of}). "
            f"Models of {info.provider} that do: {', '.join(vision) or 'none known'}."
        )
    effort = request.reasoning_effort
    allowed = info.capabilities.reasoning_effort
    if effort is not None and allowed and effort not in allowed and info.documents("reasoning_effort"):
        raise CapabilityError(
            f"reasoning_effort={effort!r} is not accepted by {info.qualified_name!r}; "
            f"use one of {', '.join(allowed)} (per {info.source}, {info.as_of})."
        )


_OPTIONAL_FIELDS = (
    "temperature",
    "top_p",
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "n",
    "logprobs",
    "top_logprobs",
    "reasoning_effort",
)


def tool_choice_to_wire(choice: ToolChoice) -> str | dict[str, Any]:
    """A neutral :class:`ToolChoice` as OpenAI's ``tool_choice`` value."""
    if choice.mode == "function":
        return {"type": "function", "function": {"name": choice.name}}
    return choice.mode


def response_format_to_wire(response_format: ResponseFormat) -> dict[str, Any]:
    """A neutral :class:`ResponseFormat` as OpenAI's ``response_format`` object."""
    if response_format.type != "json_schema":
        return {"type": response_format.type}
    json_schema: dict[str, Any] = {"name": response_format.name, "schema": dict(response_format.schema or {})}
    if response_format.description:
        json_schema["description"] = response_format.description
    if response_format.strict is not None:
        json_schema["strict"] = response_format.strict
    return {"type": "json_schema", "json_schema": json_schema}


def build_chat_body(
    endpoint: Endpoint, request: ChatRequest, *, stream: bool = False
) -> tuple[dict[str, Any], dict[str, str]]:
    """The request body and extra headers for ``request``; raises before sending if it cannot work."""
    check_messages(request.messages)
    _check_capabilities(endpoint, request)
    provider = endpoint.provider_config
    body: dict[str, Any] = {
        "model": endpoint.model_id,
        "messages": [message_to_wire(m, provider) for m in request.messages],
    }
    for name in _OPTIONAL_FIELDS:
        value = getattr(request, name)
        if value is not None:
            body[name] = value
    if request.max_tokens is not None:
        body[provider.max_tokens_field] = request.max_tokens
    if request.stop:
        body["stop"] = list(request.stop)
    tool_choice = tool_choice_of(request.tool_choice, [t.name for t in request.tools])
    if request.tools:
        body["tools"] = [tool_to_wire(t) for t in request.tools]
        if tool_choice is not None:
            body["tool_choice"] = tool_choice_to_wire(tool_choice)
        if request.parallel_tool_calls is not None:
            body["parallel_tool_calls"] = request.parallel_tool_calls
    elif tool_choice is not None and tool_choice.mode not in ("none", "auto"):
        raise CapabilityError(f"tool_choice={request.tool_choice!r} was given without any tools.")
    response_format = response_format_of(request.response_format)
    if response_format is not None:
        body["response_format"] = response_format_to_wire(response_format)
    headers = dict(request.extra_headers or {})
    check_no_authorization(headers, "extra_headers")
    if request.thinking is not None:
        body["chat_template_kwargs"] = {"enable_thinking": request.thinking, "thinking": request.thinking}
        if provider.thinking_header and request.thinking:
            headers[provider.thinking_header] = "true"
    if stream:
        body["stream"] = True
        if request.include_usage and provider.supports_stream_usage:
            body["stream_options"] = {"include_usage": True}
    for key, value in (request.extra_body or {}).items():
        if key == "chat_template_kwargs" and isinstance(value, Mapping):
            body[key] = {**body.get(key, {}), **value}
        else:
            body[key] = value
    return body, headers


def _text_of(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # a few servers answer with content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)


def _mapping(value: Any, what: str, endpoint: Endpoint, raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """``value`` if it is an object (``None`` counts as empty), else an :class:`InvalidResponseError`."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise invalid_response(endpoint, f"{what} is a {type(value).__name__}, not an object", raw)
    return value


def _optional_str(value: Any, what: str, endpoint: Endpoint, raw: Mapping[str, Any]) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise invalid_response(endpoint, f"{what} is a {type(value).__name__}, not a string", raw)


def _tool_calls(raw_calls: Any, response_id: str | None, endpoint: Endpoint, raw: Mapping[str, Any]) -> list[ToolCall]:
    if raw_calls is None:
        return []
    if not isinstance(raw_calls, list):
        raise invalid_response(endpoint, f"message.tool_calls is a {type(raw_calls).__name__}, not a list", raw)
    calls = []
    for position, entry in enumerate(raw_calls):
        where = f"tool_calls[{position}]"
        call = _mapping(entry, where, endpoint, raw)
        function = _mapping(call.get("function"), f"{where}.function", endpoint, raw)
        name = _optional_str(function.get("name"), f"{where}.function.name", endpoint, raw) or ""
        arguments = arguments_to_str(function.get("arguments"))
        call_id = _optional_str(call.get("id"), f"{where}.id", endpoint, raw)
        call_id = call_id or fallback_call_id(response_id, position, name, arguments)
        calls.append(ToolCall(id=call_id, name=name, arguments=arguments))
    return calls


def _choice_result(entry: Any, position: int, raw: Mapping[str, Any], endpoint: Endpoint) -> ChatResult:
    provider = endpoint.provider_config
    choice = _mapping(entry, f"choices[{position}]", endpoint, raw)
    message = _mapping(choice.get("message"), f"choices[{position}].message", endpoint, raw)
    content = message.get("content")
    if content is not None and not isinstance(content, (str, list)):
        raise invalid_response(endpoint, f"choices[{position}].message.content is a {type(content).__name__}", raw)
    text = _text_of(content)
    reasoning = reasoning_of(message, provider)
    if reasoning is None:
        text, reasoning = split_think(text)
    response_id = _optional_str(raw.get("id"), "id", endpoint, raw)
    return ChatResult(
        text=text,
        reasoning=reasoning,
        tool_calls=_tool_calls(message.get("tool_calls"), response_id, endpoint, raw),
        finish_reason=_optional_str(choice.get("finish_reason"), f"choices[{position}].finish_reason", endpoint, raw),
        usage=None,
        model=_optional_str(raw.get("model"), "model", endpoint, raw) or endpoint.model_id,
        id=response_id,
        provider=provider.name,
        logprobs=choice.get("logprobs") or None,
        system_fingerprint=raw.get("system_fingerprint") or None,
    )


def parse_chat_response(raw: Mapping[str, Any], endpoint: Endpoint) -> ChatResult:
    """A non-stream ``chat.completion`` body as a :class:`ChatResult`.

    Parallel tool calls are kept as distinct calls in order, even when the provider numbers them
    all ``index: 0`` (Chutes). With ``n > 1`` the further choices are in ``alternatives``. A body of
    the wrong shape raises :class:`InvalidResponseError`.
    """
    choices = raw.get("choices")
    if not choices:
        raise invalid_response(endpoint, f"the answer has no choices: {json.dumps(raw)[:300]}", raw)
    if not isinstance(choices, list):
        raise invalid_response(endpoint, f"choices is a {type(choices).__name__}, not a list", raw)
    first, *others = (_choice_result(choice, i, raw, endpoint) for i, choice in enumerate(choices))
    raw_usage = raw.get("usage")
    first.usage = Usage.from_wire(raw_usage, provider=endpoint.provider, model=endpoint.model_id)
    first.raw_usage = raw_usage if isinstance(raw_usage, Mapping) else None
    first.raw = raw
    first.alternatives = others
    return first


def chat(endpoint: Endpoint, request: ChatRequest) -> ChatResult:
    """One chat completion."""
    body, headers = build_chat_body(endpoint, request)
    return parse_chat_response(post_json(endpoint, _CHAT_PATH, body, headers), endpoint)


async def achat(endpoint: Endpoint, request: ChatRequest) -> ChatResult:
    """Async :func:`chat`."""
    body, headers = build_chat_body(endpoint, request)
    return parse_chat_response(await apost_json(endpoint, _CHAT_PATH, body, headers), endpoint)


def stream_chat(endpoint: Endpoint, request: ChatRequest, state: ChatStreamState | None = None) -> Iterator[ChatDelta]:
    """Stream a chat completion as normalised deltas; the last one carries usage.

    Pass a :class:`ChatStreamState` to read the aggregated :class:`ChatResult` afterwards.
    """
    state = state or ChatStreamState(endpoint)
    body, headers = build_chat_body(endpoint, request, stream=True)
    for chunk in post_stream(endpoint, _CHAT_PATH, body, headers):
        delta = state.process(chunk)
        if delta is not None:
            yield delta
    final = state.finish()
    if final is not None:
        yield final


async def astream_chat(
    endpoint: Endpoint, request: ChatRequest, state: ChatStreamState | None = None
) -> AsyncIterator[ChatDelta]:
    """Async :func:`stream_chat`."""
    state = state or ChatStreamState(endpoint)
    body, headers = build_chat_body(endpoint, request, stream=True)
    async for chunk in apost_stream(endpoint, _CHAT_PATH, body, headers):
        delta = state.process(chunk)
        if delta is not None:
            yield delta
    final = state.finish()
    if final is not None:
        yield final
