"""Translation between LangChain objects and the core's neutral chat types.

LangChain messages / tools -> :class:`stackit_chutes_core.Message` / :class:`~stackit_chutes_core.ToolSpec`;
core :class:`~stackit_chutes_core.ChatResult` / :class:`~stackit_chutes_core.ChatDelta` ->
``AIMessage`` / ``AIMessageChunk``. No wire format lives here: the core builds every request body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata
from langchain_core.messages.tool import invalid_tool_call, tool_call, tool_call_chunk
from langchain_core.utils.function_calling import convert_to_openai_tool

from stackit_chutes_core import (
    ChatDelta,
    ChatResult,
    ImagePart,
    InvalidInputError,
    Message,
    ModelInfo,
    TextPart,
    ToolCall,
    Usage,
    cost_metadata,
    to_image_url,
)
from stackit_chutes_core.types import Role

__all__ = [
    "delta_to_chunk",
    "image_block_to_url",
    "messages_to_core",
    "result_to_message",
    "tool_to_openai",
    "openai_tools",
    "usage_to_metadata",
]

_ROLES: dict[str, Role] = {"human": "user", "user": "user", "ai": "assistant", "assistant": "assistant"}
_ROLES.update({"system": "system", "developer": "developer", "tool": "tool"})
# Blocks that only restate what tool_calls / additional_kwargs already carry: never sent as content.
_SKIPPED_BLOCKS = {"tool_use", "tool_call", "tool_call_chunk", "invalid_tool_call", "thinking", "reasoning"}
_SKIPPED_BLOCKS.update({"reasoning_content", "redacted_thinking", "server_tool_call", "server_tool_result"})


def image_block_to_url(block: Mapping[str, Any]) -> str | None:
    """The ``http(s)``/``data:`` URL of any LangChain or OpenAI image block; ``None`` if it is none.

    Accepts OpenAI ``{"type": "image_url", "image_url": {"url": ...}}``, LangChain v1
    ``{"type": "image", "url" | "base64" (+ "mime_type")}``, LangChain v0
    ``{"type": "image", "source_type": "url" | "base64", ...}`` and Anthropic-style
    ``{"type": "image", "source": {"type": "base64" | "url", ...}}``.
    """
    kind = block.get("type")
    if kind == "image_url":
        image = block.get("image_url")
        url = image.get("url") if isinstance(image, Mapping) else image
        return _checked_url(url)
    if kind != "image":
        return None
    source = block.get("source")
    if isinstance(source, Mapping):
        if source.get("type") == "url":
            return _checked_url(source.get("url"))
        return _data_url(source.get("data"), source.get("media_type"))
    if block.get("file_id"):
        raise InvalidInputError("Image blocks with a provider file_id are not supported; pass a URL or base64 data.")
    if block.get("source_type") == "base64" or "base64" in block or "data" in block:
        return _data_url(block.get("base64") or block.get("data"), block.get("mime_type"))
    return _checked_url(block.get("url"))


def _checked_url(url: Any) -> str:
    if not isinstance(url, str) or not url:
        raise InvalidInputError("An image block carries no URL or data.")
    return to_image_url(url) if url.startswith("data:") else url


def _data_url(data: Any, mime_type: Any) -> str:
    if not isinstance(data, str) or not data:
        raise InvalidInputError("An image block carries no base64 data.")
    # The core validates the bytes and corrects a wrong or missing MIME type.
    return to_image_url(f"data:{mime_type or 'image/png'};base64,{data}")


def _user_content(content: str | list[str | dict[str, Any]]) -> str | list[TextPart | ImagePart]:
    if isinstance(content, str):
        return content
    parts: list[TextPart | ImagePart] = []
    for block in content:
        if isinstance(block, str):
            parts.append(TextPart(block))
            continue
        kind = block.get("type")
        if kind == "text":
            parts.append(TextPart(str(block.get("text", ""))))
            continue
        url = image_block_to_url(block)
        if url is not None:
            image = block.get("image_url")
            detail = image.get("detail") if isinstance(image, Mapping) else None
            parts.append(ImagePart(url, detail if isinstance(detail, str) else None))
            continue
        if kind in _SKIPPED_BLOCKS:
            continue
        raise InvalidInputError(
            f"Content blocks of type {kind!r} are not supported by STACKIT/Chutes chat models; "
            "send text and images (image_url, or image blocks with url/base64)."
        )
    if all(isinstance(part, TextPart) for part in parts):
        return "".join(part.text for part in parts if isinstance(part, TextPart))
    return parts


def _text_only(message: BaseMessage, role: str) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    texts: list[str] = []
    for block in content:
        if isinstance(block, str):
            texts.append(block)
        elif block.get("type") == "text":
            texts.append(str(block.get("text", "")))
        elif image_block_to_url(block) is not None:
            raise InvalidInputError(f"Images in {role} messages are not supported; put them in a user message.")
    return "".join(texts)


def _reasoning_of(message: AIMessage) -> str | None:
    value = message.additional_kwargs.get("reasoning_content")
    if isinstance(value, str) and value:
        return value
    if isinstance(message.content, list):
        parts = [
            str(b.get("reasoning", "")) for b in message.content if isinstance(b, dict) and b.get("type") == "reasoning"
        ]
        return "".join(parts) or None
    return None


def _assistant(message: AIMessage) -> Message:
    calls = [
        ToolCall(id=call.get("id") or "", name=call["name"], arguments=json.dumps(call["args"], ensure_ascii=False))
        for call in message.tool_calls
    ]
    calls += [
        ToolCall(id=call.get("id") or "", name=call.get("name") or "", arguments=call.get("args") or "")
        for call in message.invalid_tool_calls
    ]
    return Message(
        role="assistant",
        content=_text_only(message, "assistant"),
        tool_calls=calls,
        name=message.name,
        reasoning=_reasoning_of(message),
    )


def _tool_content(message: ToolMessage) -> str:
    text = _text_only(message, "tool")
    if text or not message.content or isinstance(message.content, str):
        return text
    return json.dumps(message.content, ensure_ascii=False)  # only non-text items (e.g. JSON blocks)


def messages_to_core(messages: Sequence[BaseMessage]) -> list[Message]:
    """LangChain messages as neutral core messages."""
    converted: list[Message] = []
    for message in messages:
        if isinstance(message, AIMessage):
            converted.append(_assistant(message))
        elif isinstance(message, HumanMessage):
            converted.append(Message(role="user", content=_user_content(message.content), name=message.name))
        elif isinstance(message, SystemMessage):
            system: Role = "developer" if message.additional_kwargs.get("__openai_role__") == "developer" else "system"
            converted.append(Message(role=system, content=_text_only(message, system)))
        elif isinstance(message, ToolMessage):
            converted.append(Message(role="tool", content=_tool_content(message), tool_call_id=message.tool_call_id))
        elif isinstance(message, ChatMessage) and message.role in _ROLES:
            role = _ROLES[message.role]
            content = _user_content(message.content) if role == "user" else _text_only(message, role)
            converted.append(Message(role=role, content=content, name=message.name))
        else:
            raise InvalidInputError(
                f"Unsupported message type {type(message).__name__} for STACKIT/Chutes chat models."
            )
    return converted


def tool_to_openai(tool: Any, *, strict: bool | None = None) -> dict[str, Any]:
    """Any LangChain tool form (BaseTool, function, Pydantic, TypedDict, dict) as an OpenAI tool dict."""
    return convert_to_openai_tool(tool, strict=strict)


def openai_tools(tools: Sequence[Any]) -> list[dict[str, Any]]:
    """Tools as OpenAI tool dicts: those :meth:`bind_tools` stored pass as they are, other forms are converted."""
    return [
        dict(tool)
        if isinstance(tool, Mapping) and tool.get("type") == "function" and "function" in tool
        else convert_to_openai_tool(tool)
        for tool in tools
    ]


def usage_to_metadata(usage: Usage) -> UsageMetadata:
    """Core usage as LangChain ``UsageMetadata`` (reasoning and cached-token details where reported)."""
    metadata: dict[str, Any] = {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
    }
    if usage.cached_input_tokens is not None:
        metadata["input_token_details"] = InputTokenDetails(cache_read=usage.cached_input_tokens)
    if usage.reasoning_tokens is not None:
        metadata["output_token_details"] = OutputTokenDetails(reasoning=usage.reasoning_tokens)
    # The detail keys are optional at run time; the installed stubs mark them required.
    return cast(UsageMetadata, metadata)


def result_to_message(result: ChatResult, info: ModelInfo | None) -> AIMessage:
    """A complete core answer as an ``AIMessage``."""
    calls, invalid = [], []
    for call in result.tool_calls:
        try:
            calls.append(tool_call(name=call.name, args=call.parsed_arguments(), id=call.id))
        except ValueError as exc:
            invalid.append(invalid_tool_call(name=call.name, args=call.arguments, id=call.id, error=str(exc)))
    metadata: dict[str, Any] = {
        "model_provider": result.provider,
        "model_name": f"{result.provider}/{result.model}",
        "finish_reason": result.finish_reason,
    }
    if result.raw_usage is not None:
        metadata["token_usage"] = dict(result.raw_usage)
    if result.system_fingerprint:
        metadata["system_fingerprint"] = result.system_fingerprint
    if result.logprobs is not None:
        metadata["logprobs"] = result.logprobs
    if (cost := cost_metadata(info, result.usage)) is not None:
        metadata["cost"] = cost
    return AIMessage(
        content=result.text,
        additional_kwargs={"reasoning_content": result.reasoning} if result.reasoning else {},
        tool_calls=calls,
        invalid_tool_calls=invalid,
        usage_metadata=usage_to_metadata(result.usage) if result.usage else None,
        response_metadata=metadata,
        id=result.id,
    )


def delta_to_chunk(
    delta: ChatDelta, *, provider: str, info: ModelInfo | None, output_version: str | None
) -> AIMessageChunk:
    """One normalised stream event as an ``AIMessageChunk``.

    ``model_provider`` is on every chunk; ``model_name`` only on the first (the one carrying the
    model), usage only on the last, so that aggregation never doubles them. With
    ``output_version="v1"`` the content is a list of v1 blocks with ``lc_``-prefixed indices, so that
    reasoning, text and each tool call aggregate into separate blocks.
    """
    metadata: dict[str, Any] = {"model_provider": provider}
    if delta.model:
        metadata["model_name"] = f"{provider}/{delta.model}"
    if delta.finish_reason:
        metadata["finish_reason"] = delta.finish_reason
    if delta.usage is not None and (cost := cost_metadata(info, delta.usage)) is not None:
        metadata["cost"] = cost
    if delta.logprobs is not None:
        metadata["logprobs"] = delta.logprobs
    if delta.system_fingerprint:
        metadata["system_fingerprint"] = delta.system_fingerprint
    chunks = [
        tool_call_chunk(name=call.name, args=call.arguments, id=call.id, index=call.index) for call in delta.tool_calls
    ]
    content: str | list[str | dict[str, Any]] = delta.text
    if output_version == "v1":
        metadata["output_version"] = "v1"
        blocks: list[str | dict[str, Any]] = []
        if delta.reasoning:
            blocks.append({"type": "reasoning", "reasoning": delta.reasoning, "index": "lc_reasoning"})
        if delta.text:
            blocks.append({"type": "text", "text": delta.text, "index": "lc_text"})
        for call in delta.tool_calls:
            block = {"type": "tool_call_chunk", "id": call.id, "name": call.name, "args": call.arguments}
            blocks.append({**block, "index": f"lc_tc_{call.index}"})
        content = blocks
    return AIMessageChunk(
        content=content,
        additional_kwargs={"reasoning_content": delta.reasoning} if delta.reasoning else {},
        tool_call_chunks=chunks,
        usage_metadata=usage_to_metadata(delta.usage) if delta.usage is not None else None,
        response_metadata=metadata,
        id=delta.id,
    )
