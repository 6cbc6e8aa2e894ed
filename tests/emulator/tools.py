"""Tool-call planning: whether to call tools, which ones, and with which arguments."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from tests.emulator.errors import Provider, provider_error
from tests.emulator.schema_fill import PromptFacts, SchemaFiller, dumps
from tests.emulator.text import FILLER, STOPWORDS, content_words, stem

_OPERATOR_WORDS = {
    "+": "add sum plus addition",
    "-": "subtract minus difference",
    "*": "multiply product times",
    "\u00d7": "multiply product times",
    "/": "divide quotient division",
}
_LIST_SEP = re.compile(r"^\s*(?:,|and|&|or|,\s*and|,\s*or|as well as)\s*$", re.IGNORECASE)


@dataclass
class ToolCall:
    """One planned tool call."""

    id: str
    name: str
    arguments: str


def parse_tools(provider: Provider, tools: Any) -> list[dict[str, Any]]:
    """Validate ``tools`` and return the list of ``function`` objects."""
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise provider_error(provider, "`tools` must be a list", 400)
    out = []
    for i, tool in enumerate(tools):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
            raise provider_error(provider, f"tools[{i}]: expected {{'type': 'function', 'function': {{'name': ...}}}}")
        if tool.get("type", "function") != "function":
            raise provider_error(provider, f"tools[{i}].type must be 'function'")
        out.append(fn)
    return out


def _name_tokens(name: str) -> set[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name).replace("_", " ").replace("-", " ")
    return {stem(w) for w in spaced.lower().split() if w not in STOPWORDS and w not in FILLER}


def _has_numeric_param(fn: dict[str, Any]) -> bool:
    props = (fn.get("parameters") or {}).get("properties") or {}
    return any(isinstance(p, dict) and p.get("type") in ("integer", "number") for p in props.values())


def _score(fn: dict[str, Any], text: str) -> tuple[int, int]:
    """(total score, name-based score) of a tool against the user text."""
    words = set(content_words(text, drop_filler=True))
    for op, extra in _OPERATOR_WORDS.items():
        if re.search(rf"\d\s*{re.escape(op)}\s*\d", text):
            words |= set(extra.split())
    name = fn["name"]
    name_score = 5 if name.lower() in text.lower() else 0
    name_score += 2 * len(_name_tokens(name) & words)
    desc = set(content_words(str(fn.get("description") or ""), drop_filler=True))
    score = name_score + len(desc & words)
    if re.search(r"\d", text) and _has_numeric_param(fn):
        score += 1
    return score, name_score


def _forced_name(provider: Provider, tool_choice: Any, fns: list[dict[str, Any]]) -> str | None:
    if not isinstance(tool_choice, dict):
        return None
    inner = tool_choice.get("function")
    fn: dict[str, Any] = inner if isinstance(inner, dict) else tool_choice
    name = fn.get("name")
    if not isinstance(name, str) or name not in {f["name"] for f in fns}:
        raise provider_error(provider, f"Tool '{name}' has not been passed in `tools`.", 400)
    return name


def validate_tool_choice(provider: Provider, tool_choice: Any, fns: list[dict[str, Any]]) -> None:
    """Reject malformed ``tool_choice`` values like vLLM/SGLang do."""
    if tool_choice is None or tool_choice in ("auto", "none"):
        return
    if not fns:
        raise provider_error(provider, "When using `tool_choice`, `tools` must be set.", 400)
    if tool_choice in ("required", "any"):
        return
    if isinstance(tool_choice, dict):
        _forced_name(provider, tool_choice, fns)
        return
    raise provider_error(provider, f"Invalid tool_choice: {tool_choice!r}", 400)


def _entity_list(facts: PromptFacts) -> list[str]:
    """Entities of the prompt that form an enumeration ("Paris and London")."""
    ents = facts.quoted if len(facts.quoted) >= 2 else facts.phrases
    if len(ents) < 2:
        return []
    text, pos, spans = facts.text, 0, []
    for ent in ents:
        start = text.find(ent, pos)
        if start < 0:
            return []
        spans.append((start, start + len(ent)))
        pos = start + len(ent)
    listed = [ents[0]]
    for (_, end), (start, _), ent in zip(spans, spans[1:], ents[1:], strict=False):
        between = text[end:start].strip("'\" \u201c\u201d\u2018\u2019")
        if not _LIST_SEP.match(between):
            break
        listed.append(ent)
    return listed if len(listed) >= 2 else []


def _first_string_param(fn: dict[str, Any]) -> str | None:
    params: dict[str, Any] = fn.get("parameters") or {}
    props: dict[str, Any] = params.get("properties") or {}
    required: list[str] = [r for r in params.get("required", []) if r in props]
    for prop in required + [p for p in props if p not in required]:
        if isinstance(props[prop], dict) and props[prop].get("type") == "string" and "enum" not in props[prop]:
            return prop
    return None


def _arguments(fn: dict[str, Any], text: str, preset: dict[str, Any] | None = None) -> dict[str, Any]:
    params = fn.get("parameters")
    if not isinstance(params, dict) or not params.get("properties"):
        return {}
    facts = PromptFacts(text, exclude=sorted(_name_tokens(fn["name"])))
    if preset:
        facts.quoted = [q for q in facts.quoted if q not in preset.values()]
        facts.phrases = [p for p in facts.phrases if p not in preset.values()]
        props = dict(params.get("properties") or {})
        reduced = {**params, "properties": {k: v for k, v in props.items() if k not in preset}}
        args: dict[str, Any] = SchemaFiller(facts, params, "tool").fill(reduced)
        return {k: (preset[k] if k in preset else args.get(k)) for k in props if k in preset or k in args}
    result: dict[str, Any] = SchemaFiller(facts, params, "tool").fill(params)
    return result


def call_id(provider: Provider, seed: str, index: int) -> str:
    """Deterministic tool call id (hash of the request body and the call index)."""
    digest = hashlib.sha256(f"{seed}#{index}".encode()).hexdigest()
    return f"chatcmpl-tool-{digest[:32]}" if provider == "stackit" else f"call_{digest[:24]}"


def plan_tool_calls(
    provider: Provider,
    fns: list[dict[str, Any]],
    tool_choice: Any,
    last_role: str,
    user_text: str,
    *,
    parallel: bool,
    seed: str,
) -> list[ToolCall]:
    """Decide the tool calls for this turn (empty list -> answer with text)."""
    if not fns or tool_choice == "none":
        return []
    forced_name = _forced_name(provider, tool_choice, fns)
    forced = forced_name is not None or tool_choice in ("required", "any")
    if not forced and last_role != "user":
        return []
    scored = [(*_score(fn, user_text), -i, fn) for i, fn in enumerate(fns)]
    if forced_name is not None:
        chosen = [next(fn for fn in fns if fn["name"] == forced_name)]
    else:
        best = max(scored, key=lambda s: (s[0], s[2]))
        if best[0] <= 0 and not forced:
            return []
        chosen = [best[3]]
        if parallel and not forced:
            chosen += [fn for score, name_score, _, fn in scored if name_score >= 2 and fn is not best[3]]
    planned: list[tuple[str, dict[str, Any]]] = []
    for fn in chosen:
        facts = PromptFacts(user_text, exclude=sorted(_name_tokens(fn["name"])))
        param = _first_string_param(fn)
        items = _entity_list(facts) if parallel and param else []
        if items and param:
            planned.extend((fn["name"], _arguments(fn, user_text, {param: item})) for item in items)
        else:
            planned.append((fn["name"], _arguments(fn, user_text)))
    return [ToolCall(call_id(provider, seed, i), name, dumps(args)) for i, (name, args) in enumerate(planned)]


def tool_result_answer(results: list[str]) -> str:
    """Final answer after tool results: mention every result verbatim."""
    values = []
    for raw in results:
        value: Any = raw
        try:
            parsed = json.loads(raw)
        except (ValueError, TypeError):
            parsed = None
        if isinstance(parsed, dict) and len(parsed) == 1:
            value = next(iter(parsed.values()))
        elif isinstance(parsed, int | float | str) and not isinstance(parsed, bool):
            value = parsed
        values.append(str(value).strip().rstrip("."))
    if len(values) == 1:
        return f"The result is {values[0]}."
    return "The results are " + ", ".join(values[:-1]) + f" and {values[-1]}."
