"""Generate JSON values that satisfy a JSON schema, using facts found in the prompt.

Used for tool-call arguments and for ``response_format`` structured output. Numbers come from
the prompt in reading order, strings from quoted phrases / capitalised names / keywords, enums
pick a value the prompt mentions (else the first), ``$ref``/``$defs``/``anyOf``/``allOf`` are
resolved. Everything is deterministic.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from tests.emulator.text import (
    FILLER,
    JOKE_PUNCHLINE,
    JOKE_SETUP,
    STOPWORDS,
    WORD_RE,
    capitalised_phrases,
    numbers_in,
    question_of,
    quoted_strings,
)

_TEXTY = {
    "answer",
    "response",
    "reply",
    "summary",
    "text",
    "content",
    "explanation",
    "reasoning",
    "message",
    "output",
    "result",
    "comment",
    "body",
}
_QUERYISH = {"query", "question", "prompt", "input", "search", "q", "keywords", "topic"}
_KNOWN = {"setup": JOKE_SETUP, "punchline": JOKE_PUNCHLINE, "joke": f"{JOKE_SETUP} {JOKE_PUNCHLINE}"}
_FORMATS = {
    "date": "2024-01-01",
    "date-time": "2024-01-01T00:00:00Z",
    "time": "12:00:00",
    "email": "user@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "127.0.0.1",
    "hostname": "example.com",
}


class PromptFacts:
    """Pools of values extracted from the prompt, consumed in order while filling a schema."""

    def __init__(self, text: str, exclude: Sequence[str] = (), answer: str | None = None) -> None:
        self.text = text
        self.answer = answer
        self.numbers = numbers_in(text)
        self.quoted = quoted_strings(text)
        inside = " ".join(self.quoted)
        self.phrases = [p for p in capitalised_phrases(text, exclude) if p not in inside]
        skip = STOPWORDS | FILLER | {e.lower() for e in exclude}
        self.keywords: list[str] = [w for w in WORD_RE.findall(text) if w.lower() not in skip and not w.isdigit()]
        self._num = 0
        self._fallback = 0
        self._entity = 0
        self._kw = 0

    def next_number(self) -> float:
        """Next prompt number, then 1, 2, 3, ... when the prompt has none left."""
        if self._num < len(self.numbers):
            self._num += 1
            return self.numbers[self._num - 1]
        self._fallback += 1
        return float(self._fallback)

    @property
    def entities(self) -> list[str]:
        """Quoted phrases first, then capitalised names."""
        return [*self.quoted, *self.phrases]

    def next_entity(self) -> str | None:
        """Next unused entity, if any."""
        ents = self.entities
        if self._entity < len(ents):
            self._entity += 1
            return ents[self._entity - 1]
        return None

    def next_keyword(self) -> str | None:
        """Next unused keyword (noun-ish word), if any."""
        if self._kw < len(self.keywords):
            self._kw += 1
            return self.keywords[self._kw - 1]
        return None

    def mentions(self, word: str) -> bool:
        """Whether the prompt mentions ``word`` as a whole word (case-insensitive)."""
        return bool(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", self.text, re.IGNORECASE))


class SchemaFiller:
    """Fill a JSON schema. ``mode`` is ``"tool"`` (arguments) or ``"structured"`` (documents)."""

    def __init__(self, facts: PromptFacts, root: dict[str, Any], mode: str = "tool") -> None:
        self.facts = facts
        self.root = root
        self.mode = mode

    def _resolve(self, schema: Any, depth: int = 0) -> dict[str, Any]:
        if not isinstance(schema, dict):
            return {}
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#") and depth < 20:
            node: Any = self.root
            for part in ref.lstrip("#/").split("/"):
                if part:
                    node = node.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(node, dict) else {}
            return {**self._resolve(node, depth + 1), **{k: v for k, v in schema.items() if k != "$ref"}}
        if "allOf" in schema and isinstance(schema["allOf"], list):
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
            for sub in schema["allOf"]:
                sub = self._resolve(sub, depth + 1)
                merged.setdefault("properties", {}).update(sub.get("properties", {}))
                merged["required"] = [*merged.get("required", []), *sub.get("required", [])]
                for key, val in sub.items():
                    merged.setdefault(key, val)
            return merged
        return schema

    def fill(self, schema: Any, name: str = "", depth: int = 0) -> Any:
        """Return a value valid against ``schema`` (``name`` is the property name, for hints)."""
        schema = self._resolve(schema)
        if depth > 8:
            return None
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            for option in schema["enum"]:
                if isinstance(option, str) and self.facts.mentions(option):
                    return option
            return schema["enum"][0]
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                resolved = [self._resolve(o) for o in options]
                non_null = [o for o in resolved if o.get("type") != "null"]
                if len(non_null) < len(resolved) and name and self.facts.mentions(f"no {name}"):
                    return None
                return self.fill(non_null[0] if non_null else resolved[0], name, depth + 1)
        typ = schema.get("type")
        if isinstance(typ, list):
            non_null = [t for t in typ if t != "null"]
            typ = non_null[0] if non_null else "null"
        if typ is None:
            typ = "object" if "properties" in schema else "array" if "items" in schema else "string"
        if typ == "object":
            return self._object(schema, depth)
        if typ == "array":
            return self._array(schema, name, depth)
        if typ in ("integer", "number"):
            return self._number(schema, integer=typ == "integer")
        if typ == "boolean":
            return True
        if typ == "null":
            return None
        return self._string(schema, name)

    def _object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        props = schema.get("properties") or {}
        if not isinstance(props, dict):
            return {}
        required = [r for r in schema.get("required", []) if r in props]
        order = required + [p for p in props if p not in required]
        values: dict[str, Any] = {}
        for prop in order:
            sub = self._resolve(props[prop])
            if prop not in required and self.facts.mentions(f"no {prop}"):
                if any(self._resolve(o).get("type") == "null" for o in sub.get("anyOf", [])):
                    values[prop] = None
                continue
            values[prop] = self.fill(sub, prop, depth + 1)
        return {p: values[p] for p in props if p in values}

    def _array(self, schema: dict[str, Any], name: str, depth: int) -> list[Any]:
        items = schema.get("prefixItems") or schema.get("items")
        if isinstance(items, list):
            return [self.fill(s, name, depth + 1) for s in items]
        max_items = schema.get("maxItems")
        if isinstance(max_items, int) and max_items <= 0:
            return []
        count = max(1, int(schema.get("minItems", 1) or 1))
        return [self.fill(items or {"type": "string"}, name.rstrip("s"), depth + 1) for _ in range(count)]

    def _number(self, schema: dict[str, Any], *, integer: bool) -> float | int:
        value: float = self.facts.next_number()
        low = schema.get("minimum")
        high = schema.get("maximum")
        ex_low = schema.get("exclusiveMinimum")
        ex_high = schema.get("exclusiveMaximum")
        step = 1 if integer else 0.5
        if isinstance(low, int | float) and value < low:
            value = low
        if isinstance(ex_low, int | float) and not isinstance(ex_low, bool) and value <= ex_low:
            value = ex_low + step
        if isinstance(high, int | float) and value > high:
            value = high
        if isinstance(ex_high, int | float) and not isinstance(ex_high, bool) and value >= ex_high:
            value = ex_high - step
        if integer:
            return round(value)
        return int(value) if float(value).is_integer() else value

    def _string(self, schema: dict[str, Any], name: str) -> str:
        key = name.lower()
        fmt = schema.get("format")
        if isinstance(fmt, str) and fmt in _FORMATS:
            value = _FORMATS[fmt]
        elif key in _KNOWN:
            value = _KNOWN[key]
        elif self.mode == "structured" and key in _TEXTY and self.facts.answer:
            value = self.facts.answer
        else:
            value = self.facts.next_entity() or ""
            if not value and key in _QUERYISH:
                value = question_of(self.facts.text).rstrip("?.! ") or self.facts.text
            if not value:
                value = self.facts.next_keyword() or (name or "example")
        min_len = schema.get("minLength")
        max_len = schema.get("maxLength")
        if isinstance(min_len, int) and len(value) < min_len:
            value = value + "x" * (min_len - len(value))
        if isinstance(max_len, int) and len(value) > max_len:
            value = value[:max_len]
        return value


def fill_schema(schema: dict[str, Any], facts: PromptFacts, mode: str = "tool") -> Any:
    """Convenience wrapper: a value for ``schema`` (its own root for ``$ref`` lookups)."""
    return SchemaFiller(facts, schema, mode).fill(schema)


def json_object_for_prompt(text: str, answer: str) -> dict[str, Any]:
    """``response_format: json_object``: use keys the prompt names, else ``{"answer": ...}``."""
    keys = [q for q in quoted_strings(text) if re.fullmatch(r"[A-Za-z_][\w-]{0,40}", q)]
    if keys and re.search(r"(?i)\b(keys?|fields?|properties|json)\b", text):
        facts = PromptFacts(text, exclude=keys, answer=answer)
        filler = SchemaFiller(facts, {}, "structured")
        return {k: filler.fill({"type": "string"}, k) for k in dict.fromkeys(keys)}
    return {"answer": answer}


def dumps(value: Any) -> str:
    """Compact-ish JSON as models emit it (keeps Unicode)."""
    return json.dumps(value, ensure_ascii=False)
