"""Reasoning carried inside ``content`` as ``<think>...</think>`` (Chutes R1-style models).

Models served without a reasoning parser put their chain of thought in the content. Two forms
occur: a full ``<think>...</think>`` block, and a bare ``...</think>`` when the chat template
already opened the tag in the prompt. :func:`split_think` handles complete texts;
:class:`ThinkTagSplitter` does the same incrementally for streams, where a tag may be cut across
chunks. :func:`reasoning_of` reads reasoning from its own field (``reasoning`` on newer vLLM,
``reasoning_content`` on SGLang and older vLLM), for messages and stream deltas alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stackit_chutes_core.providers import Provider

__all__ = ["ThinkTagSplitter", "reasoning_of", "split_think"]

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"


def split_think(content: str) -> tuple[str, str | None]:
    """Split ``content`` into ``(answer, reasoning)``; reasoning is ``None`` without think tags."""
    stripped = content.lstrip()
    if stripped.startswith(OPEN_TAG):
        body = stripped[len(OPEN_TAG) :]
        reasoning, closed, answer = body.partition(CLOSE_TAG)
        if not closed:  # unterminated: everything is reasoning (output was cut off)
            return "", reasoning.strip()
        return answer.lstrip(), reasoning.strip()
    if CLOSE_TAG in content and OPEN_TAG not in content:
        reasoning, _, answer = content.partition(CLOSE_TAG)
        return answer.lstrip(), reasoning.strip()
    return content, None


class ThinkTagSplitter:
    """Incremental :func:`split_think` for streamed content.

    Feed each content delta to :meth:`feed`; it returns ``(text, reasoning)`` parts that are safe to
    emit now, holding back only a possible partial tag. Call :meth:`flush` at the end of the stream.
    A stream that never shows a tag is passed through unchanged after its first characters.

    With ``expect_reasoning=True`` (the catalog says the model reasons inside its content, R1-style),
    content without an opening tag is held back until a bare ``</think>`` splits it (the chat
    template opened the tag in the prompt), until :meth:`release` is called (the reasoning came in a
    separate field after all), or until :meth:`flush`; only such models pay for the buffering.
    """

    def __init__(self, *, expect_reasoning: bool = False) -> None:
        self._buffer = ""
        self._expect_reasoning = expect_reasoning
        # start -> thinking -> answer_lead -> answer; start -> answer; start -> bare -> answer_lead -> answer
        self._state = "start"

    def feed(self, delta: str) -> tuple[str, str]:
        """Consume a content delta; return ``(text, reasoning)`` to emit."""
        self._buffer += delta
        text_out: list[str] = []
        reasoning_out: list[str] = []
        while True:
            if self._state == "start":
                stripped = self._buffer.lstrip()
                if not stripped:
                    return "", ""
                if stripped.startswith(OPEN_TAG):
                    self._buffer = stripped[len(OPEN_TAG) :]
                    self._state = "thinking"
                    continue
                if OPEN_TAG.startswith(stripped):  # could still become "<think>"
                    return "", ""
                if self._expect_reasoning:
                    self._state = "bare"
                    continue
                # No opening tag: it may still be an implicit "...</think>" stream, but we cannot
                # hold the whole answer back, so treat it as plain text from here on.
                self._state = "answer"
                continue
            if self._state == "thinking":
                head, closed, tail = self._buffer.partition(CLOSE_TAG)
                if closed:
                    reasoning_out.append(head)
                    self._buffer = tail
                    self._state = "answer_lead"
                    continue
                safe = _safe_prefix(self._buffer, CLOSE_TAG)
                reasoning_out.append(self._buffer[:safe])
                self._buffer = self._buffer[safe:]
                break
            if self._state == "bare":
                head, closed, tail = self._buffer.partition(CLOSE_TAG)
                if not closed:
                    break
                reasoning_out.append(head.strip())
                self._buffer = tail
                self._state = "answer_lead"
                continue
            if self._state == "answer_lead":  # drop whitespace right after </think>
                self._buffer = self._buffer.lstrip()
                if not self._buffer:
                    break
                self._state = "answer"
                continue
            text_out.append(self._buffer)
            self._buffer = ""
            break
        return "".join(text_out), "".join(reasoning_out)

    def release(self) -> str:
        """Stop waiting for a bare ``</think>``: return the held-back content as answer text."""
        if self._state != "bare":
            return ""
        held, self._buffer = self._buffer, ""
        self._state = "answer"
        return held

    def flush(self) -> tuple[str, str]:
        """Emit whatever is held back at the end of the stream."""
        rest, self._buffer = self._buffer, ""
        if self._state == "thinking":
            return "", rest
        return rest, ""


def _safe_prefix(buffer: str, tag: str) -> int:
    """Length of ``buffer`` that cannot be the start of ``tag``."""
    for keep in range(min(len(tag) - 1, len(buffer)), 0, -1):
        if tag.startswith(buffer[-keep:]):
            return len(buffer) - keep
    return len(buffer)


def reasoning_of(container: Mapping[str, Any], provider: Provider) -> str | None:
    """The first non-empty reasoning field of a message or delta."""
    for name in provider.reasoning_fields:
        value = container.get(name)
        if isinstance(value, str) and value:
            return value
    return None
