"""Framework-neutral chat types: what adapters translate LangChain / LlamaIndex objects to and from."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from stackit_chutes_core.errors import InvalidResponseError

__all__ = [
    "ChatDelta",
    "ChatRequest",
    "ChatResult",
    "ContentPart",
    "ImagePart",
    "InputRole",
    "Message",
    "ResponseFormat",
    "Role",
    "TextPart",
    "ToolCall",
    "ToolCallDelta",
    "ToolChoice",
    "ToolSpec",
    "Usage",
    "arguments_to_str",
    "fallback_call_id",
]

Role = Literal["system", "developer", "user", "assistant", "tool"]
"""Who speaks a chat message."""
InputRole = Literal["document", "query"]
"""What an embedded text is: a document to store or a query to search with (queries get an instruction)."""


@dataclass(frozen=True, slots=True)
class TextPart:
    """A text part of a message."""

    text: str


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image part: an ``http(s)`` URL or a ``data:`` URI."""

    url: str
    detail: str | None = None


ContentPart = TextPart | ImagePart


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A complete tool call requested by the model."""

    id: str
    name: str
    arguments: str
    """The raw JSON arguments string as the model produced it."""

    def parsed_arguments(self) -> dict[str, Any]:
        """Arguments as a dict; ``{}`` for empty arguments. Raises ``ValueError`` on invalid JSON."""
        if not self.arguments.strip():
            return {}
        value = json.loads(self.arguments)
        if not isinstance(value, dict):
            raise ValueError(f"Tool call {self.name!r} arguments are not a JSON object: {self.arguments!r}")
        return value


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message."""

    role: Role
    content: str | Sequence[ContentPart] | None = None
    tool_calls: Sequence[ToolCall] = ()
    """Assistant turns: the calls the model made."""
    tool_call_id: str | None = None
    """Tool turns: the call this message answers."""
    name: str | None = None
    reasoning: str | None = None
    """Assistant turns: reasoning to send back (only where the provider reads it)."""


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A function the model may call."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    """JSON Schema of the arguments."""
    strict: bool | None = None


@dataclass(frozen=True, slots=True)
class ToolChoice:
    """Whether and which tool the model must call.

    ``mode`` is ``"auto"`` (the model decides), ``"none"`` (no tool), ``"required"`` (some tool) or
    ``"function"`` (the tool called :attr:`name`). Build one from any framework form with
    :func:`stackit_chutes_core.tool_choice_of`.
    """

    mode: Literal["auto", "none", "required", "function"]
    name: str | None = None
    """The tool to call when ``mode == "function"``."""


@dataclass(frozen=True, slots=True)
class ResponseFormat:
    """The shape the answer must take: free JSON (``json_object``) or a JSON Schema (``json_schema``)."""

    type: Literal["text", "json_object", "json_schema"]
    schema: Mapping[str, Any] | None = None
    """JSON Schema of the answer (``json_schema`` only)."""
    name: str = "response"
    """Schema name sent to the provider (``json_schema`` only)."""
    description: str | None = None
    strict: bool | None = None


@dataclass(slots=True)
class ChatRequest:
    """Everything a chat call sends; ``None`` fields are left out of the request body.

    Adapters build it with :func:`stackit_chutes_core.build_chat_request`, which owns the field
    split, aliases and policies; the wire body is made from it by the core alone.
    """

    messages: Sequence[Message]
    tools: Sequence[ToolSpec] = ()
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    """Output-token limit; sent under the provider's field name."""
    top_p: float | None = None
    stop: Sequence[str] | None = None
    seed: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    n: int | None = None
    """Number of answers (choices) to generate."""
    logprobs: bool | None = None
    """Return the log probabilities of the output tokens."""
    top_logprobs: int | None = None
    """With ``logprobs``: also return this many most likely alternatives per token."""
    reasoning_effort: str | None = None
    thinking: bool | None = None
    """Hybrid models: switch thinking on/off (``chat_template_kwargs`` and Chutes' header)."""
    include_usage: bool = True
    """Streams: ask for the trailing usage chunk."""
    extra_body: Mapping[str, Any] | None = None
    """Provider-specific fields merged into the body verbatim (``top_k``, ``chat_template_kwargs``...)."""
    extra_headers: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one call."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    reasoning_tokens: int | None = None
    cached_input_tokens: int | None = None

    @classmethod
    def from_wire(
        cls, raw: Mapping[str, Any] | None, *, provider: str = "unknown", model: str | None = None
    ) -> Usage | None:
        """Parse an OpenAI-style ``usage`` object (``None`` in, ``None`` out).

        Counts must be non-negative integers below ``MAX_USAGE_TOKENS`` (integral floats such as
        ``12.0`` are accepted); anything else (strings, ``NaN``, negatives, absurd sizes, a non-object)
        raises :class:`~stackit_chutes_core.errors.InvalidResponseError` naming ``provider``/``model``,
        so that no cost is ever computed from garbage.
        """
        if not raw:
            return None
        try:
            if not isinstance(raw, Mapping):
                raise ValueError(f"usage is a {type(raw).__name__}, not an object")
            prompt = _count(raw, "prompt_tokens") or 0
            completion = _count(raw, "completion_tokens") or 0
            total = _count(raw, "total_tokens")
            prompt_details = raw.get("prompt_tokens_details") or {}
            completion_details = raw.get("completion_tokens_details") or {}
            cached = _count(prompt_details, "cached_tokens") if isinstance(prompt_details, Mapping) else None
            reasoning = (
                _count(completion_details, "reasoning_tokens") if isinstance(completion_details, Mapping) else None
            )
        except ValueError as exc:
            raise InvalidResponseError(
                f"the answer is unusable: {exc}", provider=provider, model=model, body=raw
            ) from None
        return cls(
            input_tokens=prompt,
            output_tokens=completion,
            total_tokens=total or prompt + completion,
            reasoning_tokens=reasoning,
            cached_input_tokens=cached,
        )


MAX_USAGE_TOKENS = 10**9
"""More tokens than any single call can use; a usage count above it is treated as garbage."""


def _count(raw: Mapping[str, Any], name: str) -> int | None:
    """A usage count: ``None`` if absent, else a non-negative int below :data:`MAX_USAGE_TOKENS`."""
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if type(value) is not int or not 0 <= value < MAX_USAGE_TOKENS:
        raise ValueError(f"usage.{name} must be a non-negative token count, got {value!r}")
    return value


@dataclass(slots=True)
class ChatResult:
    """A complete chat answer (the first choice; further choices of ``n > 1`` in :attr:`alternatives`)."""

    text: str
    reasoning: str | None
    tool_calls: list[ToolCall]
    finish_reason: str | None
    usage: Usage | None
    model: str
    """The model id the provider reported."""
    id: str | None
    provider: str
    raw: Mapping[str, Any] | None = None
    """The response body as received (non-stream calls)."""
    logprobs: Mapping[str, Any] | None = None
    """The choice's ``logprobs`` object, when asked for and sent."""
    system_fingerprint: str | None = None
    raw_usage: Mapping[str, Any] | None = None
    """The ``usage`` object exactly as the provider sent it."""
    alternatives: list[ChatResult] = field(default_factory=list)
    """Choices 1..n-1 when ``n > 1`` was asked for (usage is on the first result only)."""


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A fragment of a streamed tool call; ``index`` is normalised (0, 1, 2 ... per call)."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(slots=True)
class ChatDelta:
    """One normalised stream event; fields are empty/``None`` when the chunk had no such part."""

    text: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCallDelta] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None
    model: str | None = None
    id: str | None = None
    logprobs: Mapping[str, Any] | None = None
    """The chunk's ``logprobs`` object, when asked for and sent."""
    system_fingerprint: str | None = None


def fallback_call_id(response_id: str | None, position: int, name: str, arguments: str) -> str:
    """A deterministic id for a tool call the provider sent without one.

    Deterministic, so that replaying a conversation sends byte-identical history.
    """
    digest = hashlib.sha256(f"{response_id}|{position}|{name}|{arguments}".encode()).hexdigest()
    return f"call_{digest[:24]}"


def arguments_to_str(arguments: Any) -> str:
    """Tool-call arguments as a JSON string (some servers send a dict or ``null``)."""
    if arguments is None:
        return ""
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments, ensure_ascii=False)
