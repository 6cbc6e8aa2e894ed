"""Linear-cost aggregation of streamed text: append-only pieces, joined incrementally and lazily.

A stream of N chunks must cost O(N) overall, also for frameworks (LlamaIndex) that hand out the
cumulative text with every chunk. Re-joining every piece on every chunk is O(N^2); so pieces are
appended to a list, a prefix is joined only when someone reads it, and the longest prefix joined so
far is kept so that reading in stream order copies each new piece once more at most (the string
grows in place when nobody else holds it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from stackit_chutes_core.types import ChatResult, ToolCall, Usage, fallback_call_id

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["CallMark", "StreamSnapshot", "TextAccumulator"]


class TextAccumulator:
    """Append-only text made of pieces; :meth:`text` joins a prefix of them on demand."""

    __slots__ = ("_joined", "_joined_count", "_pieces")

    def __init__(self) -> None:
        self._pieces: list[str] = []
        self._joined = ""
        self._joined_count = 0

    def append(self, piece: str) -> None:
        """Add a piece (empty pieces are ignored)."""
        if piece:
            self._pieces.append(piece)

    def __len__(self) -> int:
        """The number of pieces so far: a cheap marker for :meth:`text`."""
        return len(self._pieces)

    def text(self, count: int | None = None) -> str:
        """The first ``count`` pieces (all by default) joined; extends the cached prefix when it can."""
        count = len(self._pieces) if count is None else count
        if count == self._joined_count:
            return self._joined
        if count < self._joined_count:  # an older snapshot read after a newer one
            return "".join(self._pieces[:count])
        joined = self._joined
        self._joined = ""  # drop our reference so that `+=` can grow the string in place
        joined += "".join(self._pieces[self._joined_count : count])
        self._joined, self._joined_count = joined, count
        return joined


@dataclass(frozen=True, slots=True)
class CallMark:
    """A tool call as of a snapshot: its id and name then, and how many argument pieces it had."""

    id: str | None
    name: str
    arguments: TextAccumulator
    count: int


class StreamSnapshot:
    """The state of a stream after some chunk, readable later at the cost of what is read.

    Taking a snapshot is O(number of tool calls); :attr:`text` and :attr:`reasoning` are joined only
    when read. Returned by :meth:`ChatStreamState.snapshot`.
    """

    __slots__ = (
        "_calls",
        "_reasoning",
        "_reasoning_count",
        "_text",
        "_text_count",
        "finish_reason",
        "id",
        "model",
        "provider",
        "usage",
    )

    def __init__(
        self,
        *,
        text: TextAccumulator,
        reasoning: TextAccumulator,
        calls: Sequence[CallMark],
        finish_reason: str | None,
        usage: Usage | None,
        model: str,
        id: str | None,
        provider: str,
    ) -> None:
        self._text, self._text_count = text, len(text)
        self._reasoning, self._reasoning_count = reasoning, len(reasoning)
        self._calls = tuple(calls)
        self.finish_reason = finish_reason
        """The finish reason, once the provider sent it."""
        self.usage = usage
        """Token usage, once the provider sent it (the last event)."""
        self.model = model
        """The model id the provider reported (the requested one until it did)."""
        self.id = id
        """The response id, when the provider sent one."""
        self.provider = provider
        """The provider's name."""

    @property
    def has_text(self) -> bool:
        """Whether any answer text arrived so far (without joining it)."""
        return self._text_count > 0

    @property
    def has_reasoning(self) -> bool:
        """Whether any reasoning arrived so far (without joining it)."""
        return self._reasoning_count > 0

    @property
    def text(self) -> str:
        """The answer text so far (joined now)."""
        return self._text.text(self._text_count)

    @property
    def reasoning(self) -> str | None:
        """The reasoning so far (joined now), ``None`` when there is none."""
        return self._reasoning.text(self._reasoning_count) if self._reasoning_count else None

    @property
    def tool_calls(self) -> list[ToolCall]:
        """The tool calls so far, arguments possibly incomplete JSON mid-stream."""
        calls = []
        for position, mark in enumerate(self._calls):
            arguments = mark.arguments.text(mark.count)
            call_id = mark.id or fallback_call_id(self.id, position, mark.name, arguments)
            calls.append(ToolCall(id=call_id, name=mark.name, arguments=arguments))
        return calls

    def result(self, *, with_text: bool = True) -> ChatResult:
        """Everything up to this snapshot as a :class:`ChatResult`.

        ``with_text=False`` leaves ``text`` empty and ``reasoning`` ``None`` (for callers that read
        them lazily through :attr:`text` / :attr:`reasoning`).
        """
        return ChatResult(
            text=self.text if with_text else "",
            reasoning=self.reasoning if with_text else None,
            tool_calls=self.tool_calls,
            finish_reason=self.finish_reason,
            usage=self.usage,
            model=self.model,
            id=self.id,
            provider=self.provider,
        )
