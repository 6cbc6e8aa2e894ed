"""Call parameters -> :class:`ChatRequest`: the one place that decides what a chat call sends.

Both adapters hand their framework's keyword arguments here (constructor defaults and per-call
values as two layers), so field names, aliases, the reasoning-effort policy, tool choice and
response format mean the same in LangChain and LlamaIndex. Anything that is not a known request
field is sent verbatim in the body (``top_k``, ``chat_template_kwargs``, ``repetition_penalty``...).
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from stackit_chutes_core.catalog import ModelInfo
from stackit_chutes_core.errors import CapabilityError, InvalidParameterError
from stackit_chutes_core.types import ChatRequest, Message, ResponseFormat, ToolChoice, ToolSpec

__all__ = [
    "REQUEST_FIELDS",
    "build_chat_request",
    "response_format_of",
    "tool_choice_of",
    "tool_spec_of",
]

REQUEST_FIELDS = frozenset(
    {
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "temperature",
        "max_tokens",
        "top_p",
        "stop",
        "seed",
        "frequency_penalty",
        "presence_penalty",
        "n",
        "logprobs",
        "top_logprobs",
        "reasoning_effort",
        "thinking",
        "include_usage",
        "extra_headers",
    }
)
"""Keyword arguments with a meaning of their own; every other keyword goes into the body verbatim."""

_ALIASES = {"max_completion_tokens": "max_tokens", "stop_sequences": "stop", "stream_usage": "include_usage"}
_CHOICE_MODES = {"auto": "auto", "none": "none", "required": "required", "any": "required"}
_warned_effort: set[str] = set()


def tool_choice_of(value: Any, tool_names: Sequence[str] = ()) -> ToolChoice | None:
    """Any framework's ``tool_choice`` as a :class:`ToolChoice`.

    Accepts ``None``; ``True`` / ``"any"`` / ``"required"`` (some tool); ``False`` / ``"none"``;
    ``"auto"``; a tool name; OpenAI's ``{"type": "function", "function": {"name": ...}}``; and the
    ``{"type": "tool", "name": ...}`` form. A name that is not among ``tool_names`` (when given) raises
    :class:`InvalidParameterError` naming the bound tools.
    """
    if value is None or isinstance(value, ToolChoice):
        return value
    if value is True:
        return ToolChoice("required")
    if value is False:
        return ToolChoice("none")
    name: Any = None
    if isinstance(value, str):
        if value in _CHOICE_MODES:
            return ToolChoice(_CHOICE_MODES[value])  # type: ignore[arg-type]
        name = value
    elif isinstance(value, Mapping):
        function = value.get("function")
        name = function.get("name") if isinstance(function, Mapping) else value.get("name")
        if name is None and value.get("type") in _CHOICE_MODES:
            return ToolChoice(_CHOICE_MODES[value["type"]])  # type: ignore[arg-type]
    if not isinstance(name, str) or not name:
        raise InvalidParameterError(
            f"Unrecognised tool_choice {value!r}; use 'auto', 'none', 'required' (or 'any'/True) or a tool name."
        )
    if tool_names and name not in tool_names:
        raise InvalidParameterError(f"tool_choice={name!r} names no bound tool; bound tools: {', '.join(tool_names)}.")
    return ToolChoice("function", name)


def response_format_of(value: Any) -> ResponseFormat | None:
    """OpenAI's ``response_format`` dict (or a :class:`ResponseFormat`) as a :class:`ResponseFormat`."""
    if value is None or isinstance(value, ResponseFormat):
        return value
    if not isinstance(value, Mapping) or value.get("type") not in ("text", "json_object", "json_schema"):
        raise InvalidParameterError(
            f"Unrecognised response_format {value!r}; use {{'type': 'json_object'}} or "
            "{'type': 'json_schema', 'json_schema': {'name': ..., 'schema': {...}}}."
        )
    if value["type"] != "json_schema":
        return ResponseFormat(value["type"])
    spec = value.get("json_schema")
    if not isinstance(spec, Mapping) or not isinstance(spec.get("schema"), Mapping):
        raise InvalidParameterError(
            "response_format of type 'json_schema' needs json_schema={'name': ..., 'schema': {...}}."
        )
    return ResponseFormat(
        "json_schema",
        schema=spec["schema"],
        name=str(spec.get("name") or "response"),
        description=spec.get("description"),
        strict=spec.get("strict"),
    )


def tool_spec_of(value: Any, *, strict: bool | None = None) -> ToolSpec:
    """An OpenAI tool dict (``{"type": "function", "function": {...}}`` or the bare function) as a :class:`ToolSpec`."""
    if isinstance(value, ToolSpec):
        return value
    function = value.get("function", value) if isinstance(value, Mapping) else None
    if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
        raise InvalidParameterError(
            f"Unsupported tool {value!r}: pass a framework tool or an OpenAI tool dict with a name."
        )
    parameters = function.get("parameters") or {"type": "object", "properties": {}}
    chosen_strict = function.get("strict") if strict is None else strict
    if chosen_strict:
        parameters = {**parameters, "additionalProperties": False}
    return ToolSpec(
        name=function["name"],
        description=function.get("description") or "",
        parameters=parameters,
        strict=chosen_strict,
    )


def _layer(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """One parameter layer with aliases resolved and ``None`` values (meaning "not set") dropped."""
    layer: dict[str, Any] = {}
    for key, value in (params or {}).items():
        name = _ALIASES.get(key, key)
        if value is None:
            continue
        if name in layer and key != name and layer[name] != value:
            raise InvalidParameterError(f"Both {name!r} and its alias {key!r} were given with different values.")
        layer[name] = value
    return layer


def effort_for(info: ModelInfo | None, effort: str | None) -> str | None:
    """The reasoning effort to send for ``info``.

    Unknown models: sent as given (the provider decides). A model the catalog documents without effort
    control: not sent, with one warning per model. A value outside the documented set: refused.
    """
    if effort is None or info is None:
        return effort
    allowed = info.capabilities.reasoning_effort
    if not allowed:
        if info.qualified_name not in _warned_effort:
            _warned_effort.add(info.qualified_name)
            warnings.warn(
                f"{info.qualified_name!r} has no reasoning_effort control (per the catalog); "
                f"reasoning_effort={effort!r} is not sent.",
                stacklevel=4,
            )
        return None
    if effort not in allowed:
        raise CapabilityError(
            f"reasoning_effort={effort!r} is not accepted by {info.qualified_name!r}; use one of {', '.join(allowed)}."
        )
    return effort


def build_chat_request(
    messages: Sequence[Message],
    *,
    info: ModelInfo | None,
    defaults: Mapping[str, Any] | None = None,
    call: Mapping[str, Any] | None = None,
    ignore: Collection[str] = (),
) -> ChatRequest:
    """The :class:`ChatRequest` for one call.

    ``defaults`` are the model's configured values (constructor fields, ``model_kwargs`` /
    ``additional_kwargs``), ``call`` the per-call keyword arguments; call values win, ``None`` means
    "not set". Aliases: ``max_completion_tokens`` -> ``max_tokens``, ``stop_sequences`` -> ``stop``,
    ``stream_usage`` -> ``include_usage``. ``ignore`` names framework-internal keywords that are
    not API parameters. ``extra_body`` dicts of both layers are merged; unknown keywords join them.
    """
    base, override = _layer(defaults), _layer(call)
    extra_body = {**(base.pop("extra_body", None) or {}), **(override.pop("extra_body", None) or {})}
    params = {**base, **override}
    fields: dict[str, Any] = {}
    for key, value in params.items():
        if key in ignore:
            continue
        if key in REQUEST_FIELDS:
            fields[key] = value
        else:
            extra_body[key] = value
    tools = [tool_spec_of(tool) for tool in fields.pop("tools", None) or ()]
    stop = fields.pop("stop", None)
    return ChatRequest(
        messages=list(messages),
        tools=tools,
        tool_choice=tool_choice_of(fields.pop("tool_choice", None), [t.name for t in tools]),
        response_format=response_format_of(fields.pop("response_format", None)),
        stop=[stop] if isinstance(stop, str) else stop,
        reasoning_effort=effort_for(info, fields.pop("reasoning_effort", None)),
        include_usage=bool(fields.pop("include_usage", True)),
        extra_body=extra_body or None,
        **fields,
    )
