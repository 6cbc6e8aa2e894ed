"""Usage and cost accounting shared by the LangChain and LlamaIndex cost handlers.

A :class:`UsageLedger` sums tokens, requests and cost per ``provider/model`` and per currency
(STACKIT bills in EUR, Chutes in USD: the two are never added). It is thread-safe, so one ledger can
watch concurrent calls from threads and asyncio tasks.

Chat calls reach a ledger through the framework handlers. Embedding calls fire no LangChain callback,
so the core's embedding calls themselves call :func:`report_usage`, which records into every ledger
made active for the current context with :func:`track_usage` or :func:`activate_ledger` (a ``ContextVar``:
it follows asyncio tasks and LangChain's context-copying thread pools).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Literal

from stackit_chutes_core import catalog
from stackit_chutes_core._pricing import estimate_cost
from stackit_chutes_core.providers import get_provider
from stackit_chutes_core.types import Usage

__all__ = [
    "ModelUsage",
    "UsageLedger",
    "UsageView",
    "activate_ledger",
    "deactivate_ledger",
    "report_usage",
    "track_usage",
]

CallKind = Literal["chat", "embedding"]


@dataclass(frozen=True, slots=True)
class ModelUsage:
    """What one model has consumed in a ledger (a snapshot)."""

    model: str
    """``"<provider>/<model id>"``."""
    kind: CallKind
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    total_tokens: int = 0
    cost: Decimal | None = None
    """Summed cost, ``None`` while no call of this model had a catalog price."""
    currency: str | None = None
    """The provider's billing currency (``EUR``/``USD``), ``None`` when unpriced."""

    @property
    def provider(self) -> str:
        """The provider name (the part before the first ``/``)."""
        return self.model.partition("/")[0]


def _usage_from_counts(counts: Mapping[str, Any]) -> Usage:
    prompt = int(counts.get("prompt_tokens", counts.get("input_tokens")) or 0)
    completion = int(counts.get("completion_tokens", counts.get("output_tokens")) or 0)
    details = counts.get("output_token_details")  # LangChain: {"reasoning": n}
    reasoning = counts.get("reasoning_tokens", details.get("reasoning") if isinstance(details, Mapping) else None)
    return Usage(
        input_tokens=prompt,
        output_tokens=completion,
        total_tokens=int(counts.get("total_tokens") or prompt + completion),
        reasoning_tokens=int(reasoning) if reasoning is not None else None,
    )


def _model_info(model: str) -> catalog.ModelInfo | None:
    provider, _, model_id = model.partition("/")
    return catalog.lookup(provider, model_id) if model_id else None


class UsageLedger:
    """Thread-safe totals of tokens, requests and cost, per model and per currency."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[str, ModelUsage] = {}

    def record(self, model: str, usage: Usage | None, kind: CallKind = "chat", requests: int = 1) -> None:
        """Add ``requests`` successful requests of ``model`` (``"provider/model id"``) that used ``usage`` in total.

        ``usage=None`` (the provider reported none) counts the requests only.
        """
        usage = usage or Usage()
        cost = estimate_cost(_model_info(model), usage)
        with self._lock:
            before = self._models.get(model) or ModelUsage(model=model, kind=kind)
            self._models[model] = replace(
                before,
                requests=before.requests + requests,
                prompt_tokens=before.prompt_tokens + usage.input_tokens,
                completion_tokens=before.completion_tokens + usage.output_tokens,
                reasoning_tokens=before.reasoning_tokens + (usage.reasoning_tokens or 0),
                total_tokens=before.total_tokens + (usage.total_tokens or usage.input_tokens + usage.output_tokens),
                cost=before.cost if cost is None else (before.cost or Decimal(0)) + cost.total,
                currency=before.currency if cost is None else cost.currency,
            )

    def record_counts(self, model: str, counts: Mapping[str, Any] | None, kind: CallKind = "chat") -> bool:
        """Record one chat call a framework reported; ``False`` (nothing recorded) for a foreign model.

        ``counts`` uses OpenAI names (``prompt_tokens``...) or LangChain's (``input_tokens``...). A model
        that is not ``"<registered provider>/<id>"`` (another integration's model in the same chain) is
        not counted.
        """
        provider, sep, model_id = model.partition("/")
        if not (sep and model_id) or get_provider(provider) is None:
            return False
        self.record(model, _usage_from_counts(counts or {}), kind)
        return True

    def reset(self) -> None:
        """Forget everything recorded."""
        with self._lock:
            self._models.clear()

    @property
    def by_model(self) -> dict[str, ModelUsage]:
        """Per ``provider/model`` totals (a snapshot)."""
        with self._lock:
            return dict(self._models)

    def _sum(self, field: str) -> int:
        return sum(getattr(row, field) for row in self.by_model.values())

    @property
    def prompt_tokens(self) -> int:
        """Input tokens of every call (embedding inputs included)."""
        return self._sum("prompt_tokens")

    @property
    def completion_tokens(self) -> int:
        """Output tokens of every chat call (reasoning included, as providers bill it)."""
        return self._sum("completion_tokens")

    @property
    def reasoning_tokens(self) -> int:
        """The part of :attr:`completion_tokens` the provider reported as reasoning."""
        return self._sum("reasoning_tokens")

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self._sum("total_tokens")

    @property
    def embedding_tokens(self) -> int:
        """The part of :attr:`prompt_tokens` spent on embeddings."""
        return sum(row.prompt_tokens for row in self.by_model.values() if row.kind == "embedding")

    @property
    def successful_requests(self) -> int:
        """Calls that succeeded (chat and embeddings)."""
        return self._sum("requests")

    @property
    def total_cost(self) -> dict[str, Decimal]:
        """Cost per currency, e.g. ``{"EUR": Decimal("0.0012"), "USD": Decimal("0.0004")}``."""
        totals: dict[str, Decimal] = {}
        for row in self.by_model.values():
            if row.cost is not None and row.currency is not None:
                totals[row.currency] = totals.get(row.currency, Decimal(0)) + row.cost
        return totals

    @property
    def unpriced_models(self) -> list[str]:
        """Models used whose cost is unknown (no catalog price): their tokens are counted, not costed."""
        return [name for name, row in self.by_model.items() if row.cost is None]

    def summary(self) -> str:
        """A human-readable multi-line summary."""
        costs = ", ".join(f"{amount:.6f} {currency}" for currency, amount in sorted(self.total_cost.items()))
        lines = [
            f"Tokens Used: {self.total_tokens}",
            f"\tPrompt Tokens: {self.prompt_tokens}",
            f"\tCompletion Tokens: {self.completion_tokens}",
            f"\tReasoning Tokens: {self.reasoning_tokens}",
            f"Successful Requests: {self.successful_requests}",
            f"Total Cost: {costs or 'unknown'}",
        ]
        for name, row in sorted(self.by_model.items()):
            cost = f"{row.cost:.6f} {row.currency}" if row.cost is not None else "cost unknown"
            lines.append(
                f"\t{name} ({row.kind}): {row.requests} requests, {row.prompt_tokens} in / "
                f"{row.completion_tokens} out tokens, {cost}"
            )
        return "\n".join(lines)


_active: ContextVar[tuple[UsageLedger, ...]] = ContextVar("stackit_chutes_active_ledgers", default=())


@contextlib.contextmanager
def track_usage(ledger: UsageLedger | None = None) -> Iterator[UsageLedger]:
    """Make ``ledger`` (a new one by default) receive every :func:`report_usage` in this context."""
    ledger = ledger or UsageLedger()
    token = _active.set((*_active.get(), ledger))
    try:
        yield ledger
    finally:
        _active.reset(token)


def activate_ledger(ledger: UsageLedger) -> None:
    """Make ``ledger`` active in the current context until :func:`deactivate_ledger` (for start/end event pairs).

    Unlike :func:`track_usage` this needs no token, so a framework's "event started" and "event ended"
    callbacks can bracket a call; activating twice is harmless.
    """
    current = _active.get()
    if not any(active is ledger for active in current):
        _active.set((*current, ledger))


def deactivate_ledger(ledger: UsageLedger) -> None:
    """Undo :func:`activate_ledger` in the current context (a no-op when ``ledger`` is not active)."""
    current = _active.get()
    if any(active is ledger for active in current):
        _active.set(tuple(active for active in current if active is not ledger))


def report_usage(model: str, usage: Usage | None, kind: CallKind = "embedding", requests: int = 1) -> None:
    """Record ``requests`` successful requests into every ledger active in this context (each once)."""
    seen: dict[int, UsageLedger] = {}
    for ledger in _active.get():
        seen.setdefault(id(ledger), ledger)
    for ledger in seen.values():
        ledger.record(model, usage, kind, requests)


class UsageView:
    """Read-only totals of a :class:`UsageLedger`, shared by the framework handlers (``self.ledger``)."""

    ledger: UsageLedger

    @property
    def prompt_tokens(self) -> int:
        """Input tokens of every call (embedding inputs included)."""
        return self.ledger.prompt_tokens

    @property
    def completion_tokens(self) -> int:
        """Output tokens of every chat call (reasoning included)."""
        return self.ledger.completion_tokens

    @property
    def reasoning_tokens(self) -> int:
        """The part of :attr:`completion_tokens` reported as reasoning."""
        return self.ledger.reasoning_tokens

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.ledger.total_tokens

    @property
    def embedding_tokens(self) -> int:
        """The part of :attr:`prompt_tokens` spent on embeddings."""
        return self.ledger.embedding_tokens

    @property
    def successful_requests(self) -> int:
        """Requests that succeeded (chat and embeddings)."""
        return self.ledger.successful_requests

    @property
    def total_cost(self) -> dict[str, Decimal]:
        """Cost per currency (``EUR`` for STACKIT, ``USD`` for Chutes; never added together)."""
        return self.ledger.total_cost

    @property
    def by_model(self) -> dict[str, ModelUsage]:
        """Totals per ``provider/model``."""
        return self.ledger.by_model

    def reset(self) -> None:
        """Forget everything counted so far."""
        self.ledger.reset()

    def __str__(self) -> str:
        return self.ledger.summary()
