"""Stream normalisation: raw ``chat.completion.chunk`` dicts -> :class:`ChatDelta` events.

Tool-call fragments are renumbered 0, 1, 2 ... per distinct call: a new ``id`` at an index already
taken starts a new call (Chutes numbers parallel calls all ``0``), fragments without an id continue
the call at their index, string or missing indices are tolerated, and several fragments of one call
inside a single delta (vLLM speculative decoding) are coalesced. Reasoning comes from the provider's
reasoning fields or from ``<think>`` tags in the content. Usage is emitted once, on the last event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stackit_chutes_core._accumulate import CallMark, StreamSnapshot, TextAccumulator
from stackit_chutes_core._reasoning import ThinkTagSplitter, reasoning_of
from stackit_chutes_core.errors import InvalidResponseError, StreamError
from stackit_chutes_core.types import (
    ChatDelta,
    ChatResult,
    ToolCallDelta,
    Usage,
    arguments_to_str,
)

if TYPE_CHECKING:
    from stackit_chutes_core.routing import Endpoint

__all__ = ["ChatStreamState"]


@dataclass(slots=True)
class _CallBuffer:
    id: str | None
    name: str = ""
    arguments: TextAccumulator = field(default_factory=TextAccumulator)


def _coerce_index(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


class ChatStreamState:
    """Normalises one stream and aggregates it into a :class:`ChatResult`."""

    def __init__(self, endpoint: Endpoint, *, require_finish: bool = True) -> None:
        self._endpoint = endpoint
        self._provider = endpoint.provider_config
        self._require_finish = require_finish
        info = endpoint.route.info
        self._splitter = ThinkTagSplitter(expect_reasoning=info is not None and info.capabilities.reasoning_in_content)
        self._calls: list[_CallBuffer] = []
        self._by_raw_index: dict[int | None, int] = {}
        self._by_id: dict[str, int] = {}
        # Accumulators, not lists re-joined per chunk: snapshots per chunk stay O(1) (LlamaIndex).
        self._text = TextAccumulator()
        self._reasoning = TextAccumulator()
        self._usage: Usage | None = None
        self._finish_reason: str | None = None
        self._model: str | None = None
        self._id: str | None = None
        self._announced = False

    def _slot_for(self, raw: Mapping[str, Any]) -> tuple[int, bool]:
        """Normalised index for a raw tool-call fragment, and whether it starts a new call."""
        raw_index = _coerce_index(raw.get("index"))
        call_id = raw.get("id") or None
        if call_id is not None and call_id in self._by_id:
            return self._by_id[call_id], False
        if call_id is not None:
            known = self._by_raw_index.get(raw_index)
            if known is not None and self._calls[known].id is None:
                self._calls[known].id = call_id
                self._by_id[call_id] = known
                return known, False
        elif raw_index in self._by_raw_index:
            return self._by_raw_index[raw_index], False
        elif raw_index is None and self._calls:
            return len(self._calls) - 1, False
        slot = len(self._calls)
        self._calls.append(_CallBuffer(id=call_id))
        self._by_raw_index[raw_index] = slot
        if call_id is not None:
            self._by_id[call_id] = slot
        return slot, True

    def _tool_deltas(self, raw_calls: Any) -> list[ToolCallDelta]:
        merged: dict[int, ToolCallDelta] = {}
        for raw in raw_calls or ():
            if not isinstance(raw, Mapping):
                continue
            slot, is_new = self._slot_for(raw)
            buffer = self._calls[slot]
            function = raw.get("function") or {}
            name = function.get("name") or None
            fragment = function.get("arguments")
            if fragment is not None and not isinstance(fragment, str):
                fragment = arguments_to_str(fragment)
            fragment = fragment or ""
            if name and not buffer.name:
                buffer.name = name
            else:
                name = None
            buffer.arguments.append(fragment)
            previous = merged.get(slot)
            new_id = buffer.id if is_new or (raw.get("id") and previous is None) else None
            if previous is None:
                merged[slot] = ToolCallDelta(index=slot, id=new_id, name=name, arguments=fragment)
            else:
                merged[slot] = ToolCallDelta(
                    index=slot,
                    id=previous.id or new_id,
                    name=previous.name or name,
                    arguments=previous.arguments + fragment,
                )
        return list(merged.values())

    def process(self, chunk: Mapping[str, Any]) -> ChatDelta | None:
        """Normalise one raw chunk; ``None`` when it carries nothing to emit (e.g. usage only)."""
        if chunk.get("usage"):
            self._usage = Usage.from_wire(chunk["usage"], provider=self._provider.name, model=self._endpoint.model_id)
        delta = ChatDelta()
        if not self._announced and (chunk.get("model") or chunk.get("id")):
            self._model = chunk.get("model") or self._endpoint.model_id
            self._id = chunk.get("id")
            delta.model, delta.id = self._model, self._id
            self._announced = True
        choices = chunk.get("choices") or ()
        if not isinstance(choices, (list, tuple)):
            raise self._invalid(f"choices is a {type(choices).__name__}, not a list", chunk)
        for choice in choices[:1]:
            raw_delta = choice.get("delta") if isinstance(choice, Mapping) else None
            if not isinstance(choice, Mapping) or not isinstance(raw_delta or {}, Mapping):
                raise self._invalid("choices[0] and its delta must be objects", chunk)
            raw_delta = raw_delta or {}
            reasoning = reasoning_of(raw_delta, self._provider) or ""
            # Reasoning in its own field: any content held for a bare "</think>" is plain answer text.
            text = self._splitter.release() if reasoning else ""
            content = raw_delta.get("content")
            if isinstance(content, str) and content:
                fed, tagged = self._splitter.feed(content)
                text += fed
                reasoning += tagged
            delta.text, delta.reasoning = text, reasoning
            raw_calls = raw_delta.get("tool_calls")
            if raw_calls is not None and not isinstance(raw_calls, list):
                raise self._invalid(f"delta.tool_calls is a {type(raw_calls).__name__}, not a list", chunk)
            delta.tool_calls = self._tool_deltas(raw_calls)
            delta.logprobs = choice.get("logprobs") or None
            if choice.get("finish_reason"):
                delta.finish_reason = self._finish_reason = choice["finish_reason"]
        self._record(delta)
        if chunk.get("system_fingerprint"):
            delta.system_fingerprint = chunk["system_fingerprint"]
        if delta.text or delta.reasoning or delta.tool_calls or delta.finish_reason or delta.model or delta.logprobs:
            return delta
        return None

    def _invalid(self, problem: str, chunk: Mapping[str, Any]) -> InvalidResponseError:
        return InvalidResponseError(
            f"the stream sent an unusable chunk: {problem}",
            provider=self._provider.name,
            model=self._endpoint.model_id,
            body=dict(chunk),
        )

    def _record(self, delta: ChatDelta) -> None:
        if delta.text:
            self._text.append(delta.text)
        if delta.reasoning:
            self._reasoning.append(delta.reasoning)

    def finish(self) -> ChatDelta | None:
        """Flush held-back text and emit usage; raises :class:`StreamError` on a truncated stream."""
        if self._require_finish and self._finish_reason is None:
            raise StreamError(
                "the stream ended before the model finished (no finish_reason); "
                "the provider may have hit an error mid-stream",
                provider=self._provider.name,
                model=self._endpoint.model_id,
            )
        text, reasoning = self._splitter.flush()
        delta = ChatDelta(text=text, reasoning=reasoning, usage=self._usage)
        self._record(delta)
        if text or reasoning or self._usage is not None:
            return delta
        return None

    def snapshot(self) -> StreamSnapshot:
        """The stream so far, in O(number of tool calls); its text is joined only when read."""
        return StreamSnapshot(
            text=self._text,
            reasoning=self._reasoning,
            calls=[CallMark(b.id, b.name, b.arguments, len(b.arguments)) for b in self._calls],
            finish_reason=self._finish_reason,
            usage=self._usage,
            model=self._model or self._endpoint.model_id,
            id=self._id,
            provider=self._provider.name,
        )

    def result(self) -> ChatResult:
        """Everything streamed so far, aggregated."""
        return self.snapshot().result()
