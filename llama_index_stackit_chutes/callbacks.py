"""Token and cost tracking for LlamaIndex, used like ``TokenCountingHandler``.

.. code-block:: python

    cost = StackitChutesCostHandler()
    Settings.callback_manager = CallbackManager([cost])
    index = VectorStoreIndex.from_documents(docs)  # embeddings counted
    index.as_query_engine().query("...")             # chat counted
    print(cost.total_cost)  # {"EUR": Decimal(...), "USD": Decimal(...)}: never added together

The accounting lives in the core (:class:`stackit_chutes_core.UsageLedger`); this module only reads
LlamaIndex's ``LLM`` and ``EMBEDDING`` events. Provider usage is counted, not a local tokenizer's guess.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from llama_index.core.callbacks.base_handler import BaseCallbackHandler
from llama_index.core.callbacks.schema import CBEventType, EventPayload

from stackit_chutes_core import (
    StackitChutesError,
    UsageLedger,
    UsageView,
    activate_ledger,
    deactivate_ledger,
    parse_model,
)

__all__ = ["StackitChutesCostHandler"]


def _qualified(model: Any) -> str | None:
    if not isinstance(model, str):
        return None
    try:
        return parse_model(model).qualified_name
    except StackitChutesError:  # another integration's model: not ours to count
        return None


def _counts(response: Any) -> Mapping[str, Any] | None:
    """Usage of a ``ChatResponse``/``CompletionResponse``: ``additional_kwargs`` first, then ``raw``."""
    extra = getattr(response, "additional_kwargs", None) or {}
    if "prompt_tokens" in extra:
        return dict(extra)
    raw = getattr(response, "raw", None)
    usage = raw.get("usage") if isinstance(raw, Mapping) else None
    return usage if isinstance(usage, Mapping) else None


class StackitChutesCostHandler(UsageView, BaseCallbackHandler):
    """Counts tokens, requests and cost of STACKIT and Chutes calls, embeddings included.

    Same totals as LangChain's handler (``prompt_tokens``, ``completion_tokens``, ``reasoning_tokens``,
    ``total_tokens``, ``successful_requests``, ``total_cost`` per currency, ``by_model``), plus
    ``TokenCountingHandler``'s names. A stream is counted once, when it ends.
    """

    def __init__(
        self,
        ledger: UsageLedger | None = None,
        event_starts_to_ignore: list[CBEventType] | None = None,
        event_ends_to_ignore: list[CBEventType] | None = None,
    ) -> None:
        super().__init__(event_starts_to_ignore or [], event_ends_to_ignore or [])
        self.ledger = ledger or UsageLedger()
        self._lock = threading.Lock()
        self._models: dict[str, str] = {}  # LLM event id -> "provider/model" named at its start

    def on_event_start(
        self,
        event_type: CBEventType,
        payload: dict[str, Any] | None = None,
        event_id: str = "",
        parent_id: str = "",
        **kwargs: Any,
    ) -> str:
        """Bracket embedding calls (the core reports their usage) and remember each LLM call's model."""
        if event_type == CBEventType.EMBEDDING:
            activate_ledger(self.ledger)
        elif event_type == CBEventType.LLM and payload:
            call_kwargs = payload.get(EventPayload.ADDITIONAL_KWARGS) or {}
            serialized = payload.get(EventPayload.SERIALIZED) or {}
            model = _qualified(call_kwargs.get("model")) or _qualified(serialized.get("model_name"))
            if model is not None:
                with self._lock:
                    self._models[event_id] = model
        return event_id

    def on_event_end(
        self,
        event_type: CBEventType,
        payload: dict[str, Any] | None = None,
        event_id: str = "",
        **kwargs: Any,
    ) -> None:
        """Count a finished LLM call (failed ones are not counted)."""
        if event_type == CBEventType.EMBEDDING:
            deactivate_ledger(self.ledger)
            return
        if event_type != CBEventType.LLM:
            return
        with self._lock:
            started = self._models.pop(event_id, None)
        if not payload or EventPayload.EXCEPTION in payload:
            return
        response = payload.get(EventPayload.RESPONSE) or payload.get(EventPayload.COMPLETION)
        # The response names the model that answered (maybe a fallback); a completion loses that name.
        answered = _qualified((getattr(response, "additional_kwargs", None) or {}).get("model_name"))
        model = answered or started
        if response is not None and model is not None:
            self.ledger.record_counts(model, _counts(response))

    def start_trace(self, trace_id: str | None = None) -> None:
        """Nothing to do: totals span traces."""

    def end_trace(self, trace_id: str | None = None, trace_map: dict[str, list[str]] | None = None) -> None:
        """Nothing to do: totals span traces."""

    # -- TokenCountingHandler's names -----------------------------------------------------

    @property
    def prompt_llm_token_count(self) -> int:
        """Prompt tokens of chat calls."""
        return self.prompt_tokens - self.embedding_tokens

    @property
    def completion_llm_token_count(self) -> int:
        """Completion tokens of chat calls."""
        return self.completion_tokens

    @property
    def total_llm_token_count(self) -> int:
        """Prompt plus completion tokens of chat calls."""
        return self.prompt_llm_token_count + self.completion_llm_token_count

    @property
    def total_embedding_token_count(self) -> int:
        """Tokens embedded."""
        return self.embedding_tokens

    def reset_counts(self) -> None:
        """Forget everything counted so far (``TokenCountingHandler.reset_counts``)."""
        self.reset()
