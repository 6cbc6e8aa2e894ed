"""Streamed LlamaIndex responses whose cumulative text is joined only when read.

LlamaIndex hands out the whole text so far with every streamed ``ChatResponse`` (``message.content``)
and ``CompletionResponse`` (``text``). Building that string for every chunk makes a stream of N
chunks cost O(N^2); most consumers only read ``delta``. So the text fields of the blocks (and of
the completion) are *deferred*: the object is built without them and fills them in from a
:class:`~stackit_chutes_core.StreamSnapshot` the first time anything reads them, including
pydantic's own serialisation, copying, pickling and comparison, which all go through ``__dict__``.
To every reader they are ordinary ``TextBlock`` / ``ThinkingBlock`` / ``CompletionResponse`` objects.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, ClassVar

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    TextBlock,
)
from llama_index.core.bridge.pydantic import PrivateAttr

from llama_index_stackit_chutes._convert import ThinkingBlock, assistant_message
from stackit_chutes_core import StreamSnapshot

__all__ = ["astream_completions", "stream_completions", "streamed_message"]


class _Deferred:
    """Mixin: the field named ``_deferred_field`` is computed by ``_source()`` on first access."""

    _deferred_field: ClassVar[str]

    def __getattribute__(self, name: str) -> Any:
        # pydantic serialises, copies, pickles and compares through ``__dict__``: fill it first.
        if name == "__dict__" or name == type(self)._deferred_field:
            _fill(self)
        return object.__getattribute__(self, name)

    def __eq__(self, other: object) -> bool:
        # pydantic compares exact classes; a deferred block equals the plain block with its values.
        if isinstance(other, _Deferred) or type(other) in type(self).__mro__:
            return bool(self.__dict__ == other.__dict__)
        return NotImplemented

    def __getstate__(self) -> dict[Any, Any]:
        # pydantic pickles the private attributes (our source closure) before reading __dict__.
        _fill(self)
        return super().__getstate__()  # type: ignore[misc, no-any-return]

    __hash__ = None  # type: ignore[assignment]  # mutable pydantic models are unhashable too


def _fill(obj: Any) -> None:
    values = object.__getattribute__(obj, "__dict__")
    field = type(obj)._deferred_field
    if field not in values:
        private = object.__getattribute__(obj, "__pydantic_private__")
        values[field] = private["_source"]()
        private["_source"] = None  # drop the reference to the stream's buffers


class _DeferredText(_Deferred, TextBlock):
    _deferred_field: ClassVar[str] = "text"
    _source: Any = PrivateAttr(default=None)


class _DeferredCompletion(_Deferred, CompletionResponse):
    _deferred_field: ClassVar[str] = "text"
    _source: Any = PrivateAttr(default=None)


_DeferredThinking: Any = None
if ThinkingBlock is not None:

    class _DeferredThinkingBlock(_Deferred, ThinkingBlock):  # type: ignore[misc, valid-type]
        _deferred_field: ClassVar[str] = "content"
        _source: Any = PrivateAttr(default=None)

    _DeferredThinking = _DeferredThinkingBlock


def _deferred(cls: Any, source: Callable[[], str], **values: Any) -> Any:
    obj = cls.model_construct(**values)
    field = cls._deferred_field
    object.__getattribute__(obj, "__dict__").pop(field, None)  # a default (None) would hide it
    object.__getattribute__(obj, "__pydantic_fields_set__").add(field)  # it will be set when read
    obj._source = source
    return obj


def streamed_message(snapshot: StreamSnapshot) -> ChatMessage:
    """The assistant message of a stream so far, its text and reasoning joined only when read."""
    result = snapshot.result(with_text=False)
    text_block = thinking_block = None
    if snapshot.has_text:
        text_block = _deferred(_DeferredText, lambda: snapshot.text)
    if snapshot.has_reasoning and _DeferredThinking is not None:
        tokens = snapshot.usage.reasoning_tokens if snapshot.usage is not None else None
        thinking_block = _deferred(_DeferredThinking, lambda: snapshot.reasoning or "", num_tokens=tokens)
    elif snapshot.has_reasoning:  # llama-index-core without ThinkingBlock: a plain string in kwargs
        result.reasoning = snapshot.reasoning
    return assistant_message(result, text_block=text_block, thinking_block=thinking_block)


def _completion(response: ChatResponse) -> CompletionResponse:
    # The same fields as llama-index's stream_chat_response_to_completion_response, text deferred.
    additional = response.message.additional_kwargs
    additional.update(response.additional_kwargs)
    completion: CompletionResponse = _deferred(
        _DeferredCompletion,
        lambda: response.message.content or "",
        delta=response.delta,
        raw=response.raw,
        additional_kwargs=additional,
        logprobs=None,
    )
    return completion


def stream_completions(responses: Iterator[ChatResponse]) -> CompletionResponseGen:
    """Streamed chat responses as completion responses (``text`` joined only when read)."""
    for response in responses:
        yield _completion(response)


async def astream_completions(responses: AsyncIterator[ChatResponse]) -> CompletionResponseAsyncGen:
    """Async :func:`stream_completions`."""
    async for response in responses:
        yield _completion(response)
