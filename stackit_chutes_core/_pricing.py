"""Usage + catalog price -> cost, in the currency the provider bills in (STACKIT EUR, Chutes USD)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from stackit_chutes_core.catalog import ModelInfo
from stackit_chutes_core.types import Usage

__all__ = ["Cost", "estimate_cost"]

_PER_TOKENS = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class Cost:
    """The price of one call."""

    input: Decimal
    output: Decimal
    currency: str

    @property
    def total(self) -> Decimal:
        """Input plus output cost."""
        return self.input + self.output

    def as_dict(self) -> dict[str, Any]:
        """``{"input", "output", "total", "currency"}`` with float amounts (JSON and framework metadata)."""
        return {
            "input": float(self.input),
            "output": float(self.output),
            "total": float(self.total),
            "currency": self.currency,
        }

    def __str__(self) -> str:
        return f"{self.total:.6f} {self.currency}"


def estimate_cost(info: ModelInfo | None, usage: Usage | None) -> Cost | None:
    """The cost of ``usage`` at the catalog price; ``None`` when the model or its price is unknown."""
    if info is None or info.price is None or usage is None:
        return None
    price = info.price
    return Cost(
        input=price.input * usage.input_tokens / _PER_TOKENS,
        output=price.output * usage.output_tokens / _PER_TOKENS,
        currency=price.currency,
    )
