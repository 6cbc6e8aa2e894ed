"""Token and cost tracking for LangChain, like ``get_openai_callback()``.

.. code-block:: python

    with get_stackit_chutes_callback() as cb:
        chain.invoke(...)
    print(cb.total_cost)  # {"EUR": Decimal("0.00021"), "USD": Decimal("0.00004")}: never added together

The accounting lives in the core (:class:`stackit_chutes_core.UsageLedger`); this module only reads
LangChain's ``on_llm_end`` results. Embedding calls fire no LangChain callback: the core reports them to
the ledger made active by the context manager.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from langchain_core.tracers.context import register_configure_hook

from stackit_chutes_core import UsageLedger, UsageView, track_usage

__all__ = ["StackitChutesCallbackHandler", "get_stackit_chutes_callback"]


class StackitChutesCallbackHandler(UsageView, BaseCallbackHandler):
    """Counts tokens, requests and cost of STACKIT and Chutes calls (see :class:`UsageView` for the totals).

    ``total_cost`` maps currency to amount; ``by_model`` breaks the totals down per ``provider/model``.
    Other integrations' models in the same run are ignored. Thread- and asyncio-safe: one handler can
    watch concurrent ``batch``/``abatch`` calls.
    """

    run_inline: bool = True  # counting is cheap and lock-protected: no executor hop for async runs

    def __init__(self, ledger: UsageLedger | None = None) -> None:
        super().__init__()
        self.ledger = ledger or UsageLedger()
        self._also: tuple[UsageLedger, ...] = ()  # enclosing handlers' ledgers (nested context managers)

    def __repr__(self) -> str:
        return self.ledger.summary()

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        """Count one finished model run (a stream ends once, with its aggregated message)."""
        generation = response.generations[0][0] if response.generations and response.generations[0] else None
        if not isinstance(generation, ChatGeneration) or not isinstance(generation.message, AIMessage):
            return
        message = generation.message
        model = message.response_metadata.get("model_name") or (response.llm_output or {}).get("model_name")
        if not isinstance(model, str):
            return
        usage: Any = message.usage_metadata
        for ledger in (*self._also, self.ledger):
            ledger.record_counts(model, usage)


_current: ContextVar[StackitChutesCallbackHandler | None] = ContextVar("stackit_chutes_callback", default=None)
register_configure_hook(_current, inheritable=True)


@contextlib.contextmanager
def get_stackit_chutes_callback() -> Iterator[StackitChutesCallbackHandler]:
    """Count every STACKIT/Chutes chat and embedding call made inside the ``with`` block.

    The handler is attached to every LangChain run started in this context (threads started by
    LangChain's own executors and asyncio tasks included); nested blocks count into both handlers.
    """
    handler = StackitChutesCallbackHandler()
    outer = _current.get()
    if outer is not None:
        handler._also = (*outer._also, outer.ledger)
    token = _current.set(handler)
    try:
        with track_usage(handler.ledger):
            yield handler
    finally:
        _current.reset(token)
