"""Streams cost O(chunks): the cumulative text is built incrementally, never re-joined per chunk.

Counted, not timed: a spy records every join of the accumulated text. A quadratic implementation
(re-joining all pieces on every chunk) joins sum(1..N) pieces; a linear one joins each piece a
bounded number of times.
"""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from stackit_chutes_core import ChatStreamState, resolve_endpoint
from stackit_chutes_core._accumulate import TextAccumulator

N = 3000


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


class JoinSpy:
    """Counts the pieces joined by every TextAccumulator.text call."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.pieces_joined = 0
        self.calls = 0
        real = TextAccumulator.text

        def spy(acc: TextAccumulator, count: int | None = None) -> str:
            before = acc._joined_count
            target = len(acc) if count is None else count
            self.calls += 1
            self.pieces_joined += target - before if target >= before else target
            return real(acc, count)

        monkeypatch.setattr(TextAccumulator, "text", spy)


def test_accumulator_prefixes_in_any_order() -> None:
    acc = TextAccumulator()
    for piece in ("ab", "", "c", "def"):
        acc.append(piece)
    assert len(acc) == 3  # empty pieces are not kept
    assert acc.text(1) == "ab"
    assert acc.text() == "abcdef"
    assert acc.text(2) == "abc"  # older prefix after a newer one
    assert acc.text(0) == ""
    assert acc.text() == "abcdef"


def test_snapshot_per_chunk_joins_nothing_until_read(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = JoinSpy(monkeypatch)
    state = ChatStreamState(resolve_endpoint("chutes/x/y", api_key="k"))
    snapshots = []
    for i in range(N):
        state.process(_chunk({"content": f"w{i} ", "reasoning_content": "r"}))
        snapshots.append(state.snapshot())
    state.process(_chunk({}, "stop"))
    assert spy.calls == 0  # taking N snapshots joined no text at all
    # Reading every snapshot in stream order joins each piece once (incremental prefix).
    texts = [snap.text for snap in snapshots]
    assert spy.pieces_joined <= N
    assert texts[9] == "".join(f"w{i} " for i in range(10))
    assert texts[-1] == "".join(f"w{i} " for i in range(N))
    assert snapshots[-1].reasoning == "r" * N
    assert snapshots[0].has_text and snapshots[0].text == "w0 "  # an older prefix after newer ones
    assert state.result().text == texts[-1]


def test_result_per_chunk_is_incremental(monkeypatch: pytest.MonkeyPatch) -> None:
    """Even callers that aggregate after every chunk (result()) join each new piece once."""
    spy = JoinSpy(monkeypatch)
    state = ChatStreamState(resolve_endpoint("chutes/x/y", api_key="k"))
    for i in range(N):
        state.process(_chunk({"content": "x"}))
        assert len(state.result().text) == i + 1
    assert spy.pieces_joined <= N  # quadratic re-joining would be N * (N + 1) / 2


def test_tool_call_arguments_snapshot() -> None:
    state = ChatStreamState(resolve_endpoint("chutes/x/y", api_key="k"))
    state.process(
        _chunk({"tool_calls": [{"index": 0, "id": "call_1", "function": {"name": "f", "arguments": '{"a"'}}]})
    )
    early = state.snapshot()
    state.process(_chunk({"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}, "tool_calls"))
    late = state.snapshot()
    assert early.tool_calls[0].arguments == '{"a"'
    assert late.tool_calls[0].arguments == '{"a": 1}'
    assert late.result().tool_calls[0].id == "call_1"
    assert not late.has_text and late.text == "" and late.reasoning is None


def test_snapshot_result_pickles() -> None:
    state = ChatStreamState(resolve_endpoint("chutes/x/y", api_key="k"))
    state.process(_chunk({"content": "hi"}, "stop"))
    assert pickle.loads(pickle.dumps(state.snapshot().result())).text == "hi"
