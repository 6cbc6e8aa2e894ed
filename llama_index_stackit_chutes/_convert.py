"""LlamaIndex objects <-> the core's neutral chat types.

Only translation lives here: ``ChatMessage`` blocks and ``BaseTool`` objects become the core's
:class:`~stackit_chutes_core.Message` / :class:`~stackit_chutes_core.ToolSpec`, and the core's
:class:`~stackit_chutes_core.ChatResult` becomes a ``ChatMessage`` with ``ThinkingBlock``,
``TextBlock`` and ``ToolCallBlock`` blocks. The wire format is the core's business.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from llama_index.core.base.llms import types as _types
from llama_index.core.base.llms.types import ChatMessage, ImageBlock, MessageRole, TextBlock
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.llms.utils import parse_partial_json
from llama_index.core.tools.types import BaseTool

from stackit_chutes_core import (
    ChatResult,
    ImagePart,
    InvalidInputError,
    Message,
    TextPart,
    ToolCall,
    ToolSpec,
    Usage,
    to_image_url,
)

# Blocks that only newer llama-index-core 0.14.x releases have: looked up, never required. Without
# ThinkingBlock, reasoning goes to additional_kwargs["reasoning_content"]; without ToolCallBlock, tool
# calls live in additional_kwargs["tool_calls"] only (which every LlamaIndex consumer reads as well).
ThinkingBlock: Any = getattr(_types, "ThinkingBlock", None)
ToolCallBlock: Any = getattr(_types, "ToolCallBlock", None)
CachePoint: Any = getattr(_types, "CachePoint", None)
CitableBlock: Any = getattr(_types, "CitableBlock", None)
CitationBlock: Any = getattr(_types, "CitationBlock", None)

__all__ = [
    "assistant_message",
    "keep_first_tool_call",
    "resolve_tool_choice",
    "to_core_messages",
    "to_tool_spec",
    "tool_calls_of",
    "tool_selections",
    "usage_dict",
]

_ROLES: dict[str, Any] = {
    MessageRole.SYSTEM.value: "system",
    MessageRole.DEVELOPER.value: "developer",
    MessageRole.USER.value: "user",
    MessageRole.ASSISTANT.value: "assistant",
    MessageRole.TOOL.value: "tool",
    MessageRole.FUNCTION.value: "tool",
    MessageRole.CHATBOT.value: "assistant",
    MessageRole.MODEL.value: "assistant",
}


def _is(block: Any, kind: Any) -> bool:
    return kind is not None and isinstance(block, kind)


def _image_part(block: ImageBlock) -> ImagePart:
    """An ``ImageBlock`` as an ``image_url`` part: URLs pass through, paths and bytes become data URIs."""
    if block.url is not None and str(block.url).startswith(("http://", "https://", "data:")):
        url = to_image_url(str(block.url))
    elif block.path is not None:
        url = to_image_url(block.path)
    else:
        url = to_image_url(block.resolve_image(as_base64=False).read())
    return ImagePart(url=url, detail=block.detail)


def _arguments(kwargs: Any) -> str:
    if isinstance(kwargs, str):
        return kwargs
    return json.dumps(kwargs if kwargs is not None else {}, ensure_ascii=False)


def _legacy_call(raw: Any) -> ToolCall | None:
    """A call from ``additional_kwargs["tool_calls"]`` (dicts or SDK objects)."""
    if not isinstance(raw, Mapping):
        raw = raw.model_dump() if hasattr(raw, "model_dump") else None
    if not raw:
        return None
    function = raw.get("function") or {}
    name = function.get("name") or raw.get("name")
    if not name:
        return None
    return ToolCall(id=str(raw.get("id") or ""), name=name, arguments=_arguments(function.get("arguments")))


def _assistant_calls(message: ChatMessage) -> list[ToolCall]:
    blocks: list[Any] = [block for block in message.blocks if _is(block, ToolCallBlock)]
    calls = [
        ToolCall(id=block.tool_call_id or "", name=block.tool_name, arguments=_arguments(block.tool_kwargs))
        for block in blocks
    ]
    if calls:
        return calls
    legacy = message.additional_kwargs.get("tool_calls") or ()
    return [call for call in (_legacy_call(raw) for raw in legacy) if call is not None]


def _parts(message: ChatMessage) -> tuple[list[TextPart | ImagePart], list[str]]:
    """Content parts and reasoning texts of one message."""
    parts: list[TextPart | ImagePart] = []
    reasoning: list[str] = []
    blocks: list[Any] = list(message.blocks)  # the optional block types are looked up at run time
    for block in blocks:
        if isinstance(block, TextBlock):
            parts.append(TextPart(block.text))
        elif isinstance(block, ImageBlock):
            parts.append(_image_part(block))
        elif _is(block, ThinkingBlock):
            if block.content:
                reasoning.append(block.content)
        elif _is(block, ToolCallBlock) or _is(block, CachePoint):
            continue
        elif _is(block, CitableBlock):
            parts.extend(TextPart(b.text) for b in block.content if isinstance(b, TextBlock))
        elif _is(block, CitationBlock):
            if isinstance(block.cited_content, TextBlock):
                parts.append(TextPart(block.cited_content.text))
        else:
            raise InvalidInputError(
                f"{type(block).__name__} content is not supported by STACKIT or Chutes chat models; "
                "send text and images (ImageBlock) only."
            )
    return parts, reasoning


def _content(parts: list[TextPart | ImagePart]) -> str | list[TextPart | ImagePart] | None:
    if any(isinstance(part, ImagePart) for part in parts):
        return parts
    texts = [part.text for part in parts if isinstance(part, TextPart)]
    return "\n".join(texts) if texts else None


def to_core_message(message: ChatMessage) -> Message:
    """One LlamaIndex ``ChatMessage`` as a core :class:`Message`."""
    role = _ROLES.get(message.role.value if isinstance(message.role, MessageRole) else str(message.role))
    if role is None:
        raise InvalidInputError(f"Unsupported message role {message.role!r}.")
    parts, reasoning = _parts(message)
    legacy_reasoning = message.additional_kwargs.get("reasoning_content")
    if not reasoning and isinstance(legacy_reasoning, str) and legacy_reasoning:
        reasoning.append(legacy_reasoning)
    content = _content(parts)
    name = message.additional_kwargs.get("name")
    if role == "tool":
        call_id = message.additional_kwargs.get("tool_call_id")
        text = content if isinstance(content, str) else "\n".join(p.text for p in parts if isinstance(p, TextPart))
        return Message(role="tool", content=text or "", tool_call_id=call_id, name=name)
    if role != "user" and not isinstance(content, (str, type(None))):
        raise InvalidInputError(f"Images are only accepted in user messages, not in {role!r} messages.")
    return Message(
        role=role,
        content=content,
        tool_calls=tuple(_assistant_calls(message)) if role == "assistant" else (),
        name=name if isinstance(name, str) else None,
        reasoning=("".join(reasoning) or None) if role == "assistant" else None,
    )


def to_core_messages(messages: Sequence[ChatMessage]) -> list[Message]:
    """LlamaIndex messages as core messages."""
    return [to_core_message(message) for message in messages]


def to_tool_spec(tool: Any, strict: bool = False) -> ToolSpec:
    """A LlamaIndex ``BaseTool``, an OpenAI-style tool dict or a ``ToolSpec`` as a core ``ToolSpec``."""
    if isinstance(tool, ToolSpec):
        return tool
    if isinstance(tool, BaseTool):
        metadata = tool.metadata
        parameters = dict(metadata.get_parameters_dict())
        if strict:
            parameters["additionalProperties"] = False
        return ToolSpec(
            name=metadata.get_name(),
            description=metadata.description,
            parameters=parameters,
            strict=True if strict else None,
        )
    if isinstance(tool, Mapping):
        function = tool.get("function", tool)
        return ToolSpec(
            name=function["name"],
            description=function.get("description") or "",
            parameters=function.get("parameters") or {"type": "object", "properties": {}},
            strict=function.get("strict"),
        )
    raise InvalidInputError(f"Unsupported tool {tool!r}: pass a LlamaIndex BaseTool, a ToolSpec or a tool dict.")


def resolve_tool_choice(tool_choice: str | Mapping[str, Any] | None, tool_required: bool) -> Any:
    """LlamaIndex's ``tool_choice`` (None, a mode, a tool name or a dict) in the core's form."""
    if tool_choice is None:
        return "required" if tool_required else "auto"
    if isinstance(tool_choice, str):
        if tool_choice in ("auto", "none", "required"):
            return tool_choice
        return {"type": "function", "function": {"name": tool_choice}}
    return dict(tool_choice)


def tool_calls_of(calls: Sequence[ToolCall]) -> list[dict[str, Any]]:
    """Tool calls in the legacy ``additional_kwargs["tool_calls"]`` form LlamaIndex programs read."""
    return [
        {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
        for call in calls
    ]


def _kwargs_of(arguments: str) -> dict[str, Any] | str:
    """Arguments as a dict when they parse (also partially, mid-stream), else the raw string."""
    if not arguments.strip():
        return {}
    try:
        value = json.loads(arguments)
    except ValueError:
        try:
            value = parse_partial_json(arguments)
        except ValueError:
            return arguments
    return value if isinstance(value, dict) else arguments


def assistant_message(result: ChatResult, *, text_block: Any = None, thinking_block: Any = None) -> ChatMessage:
    """A core result (complete or cumulative-so-far) as an assistant ``ChatMessage``.

    ``text_block`` / ``thinking_block``: prebuilt blocks used instead of ``result.text`` /
    ``result.reasoning`` (streams pass blocks whose text is joined only when read).
    """
    blocks: list[Any] = []
    additional: dict[str, Any] = {}
    if thinking_block is not None:
        blocks.append(thinking_block)
    elif result.reasoning and ThinkingBlock is not None:
        tokens = result.usage.reasoning_tokens if result.usage is not None else None
        blocks.append(ThinkingBlock(content=result.reasoning, num_tokens=tokens))
    elif result.reasoning:
        additional["reasoning_content"] = result.reasoning
    if text_block is not None:
        blocks.append(text_block)
    elif result.text or not result.tool_calls or ToolCallBlock is None:
        blocks.append(TextBlock(text=result.text))
    if ToolCallBlock is not None:
        blocks.extend(
            ToolCallBlock(tool_call_id=call.id, tool_name=call.name, tool_kwargs=_kwargs_of(call.arguments))
            for call in result.tool_calls
        )
    if result.tool_calls:
        additional["tool_calls"] = tool_calls_of(result.tool_calls)
    return ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks, additional_kwargs=additional)


def keep_first_tool_call(message: ChatMessage) -> None:
    """Drop every tool call but the first (blocks and the legacy key), in place."""
    calls = [block for block in message.blocks if _is(block, ToolCallBlock)]
    if len(calls) > 1:
        message.blocks = [b for b in message.blocks if not _is(b, ToolCallBlock) or b is calls[0]]
    legacy = message.additional_kwargs.get("tool_calls")
    if isinstance(legacy, list) and len(legacy) > 1:
        message.additional_kwargs["tool_calls"] = legacy[:1]


def tool_selections(message: ChatMessage) -> list[ToolSelection]:
    """Every tool call of a message as ``ToolSelection`` (blocks first, then the legacy key)."""
    selections = []
    for call in _assistant_calls(message):
        kwargs = _kwargs_of(call.arguments)
        selections.append(
            ToolSelection(
                tool_id=call.id,
                tool_name=call.name,
                tool_kwargs=kwargs if isinstance(kwargs, dict) else {},
            )
        )
    return selections


def usage_dict(usage: Usage | None) -> dict[str, Any]:
    """Usage under the OpenAI key names ``TokenCountingHandler`` reads."""
    if usage is None:
        return {}
    data: dict[str, Any] = {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
    }
    if usage.reasoning_tokens is not None:
        data["reasoning_tokens"] = usage.reasoning_tokens
    if usage.cached_input_tokens is not None:
        data["cached_tokens"] = usage.cached_input_tokens
    return data
