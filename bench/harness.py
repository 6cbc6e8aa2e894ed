"""Timing and statistics: warm-up, interleaved rounds, medians, ratios against a reference row."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

SyncCall = Callable[[], object]
AsyncCall = Callable[[], Awaitable[object]]

BASELINE = "baseline"
"""Role of the emulator-only row: it shows the shared server + socket cost, not a client."""
REFERENCE = "reference"
"""Role of the row every ratio is taken against (the raw ``openai`` SDK)."""
OURS = "ours"
COMPARATOR = "comparator"


@dataclass
class Contender:
    """One client in one scenario: ``setup`` builds the client and returns the call to time."""

    name: str
    role: str
    setup: Callable[[], Any]
    """Returns the zero-argument callable to time (a coroutine function in async scenarios), or
    ``(call, close)`` where ``close`` releases the clients (awaited in async scenarios)."""
    note: str = ""
    versus: str | None = None
    """Name of the comparator this row is judged against (ours: the client it replaces)."""


@dataclass
class Row:
    """The measurements of one contender."""

    name: str
    role: str
    samples_ms: list[float] = field(default_factory=list)
    error: str | None = None
    note: str = ""
    versus: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the contender ran every round."""
        return self.error is None and bool(self.samples_ms)

    @property
    def median_ms(self) -> float | None:
        """Median of the samples."""
        return statistics.median(self.samples_ms) if self.ok else None


def describe_error(exc: BaseException) -> str:
    """A one-line reason for an ``n/a`` row."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first[:160]}" if first else type(exc).__name__


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by linear interpolation."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _prepare(contenders: Sequence[Contender]) -> list[tuple[Row, Any, Any]]:
    """Run every ``setup``: (row, call, close) each; ``setup`` may return ``(call, close)``."""
    prepared = []
    for contender in contenders:
        row = Row(contender.name, contender.role, note=contender.note, versus=contender.versus)
        call = close = None
        try:
            made = contender.setup()
            call, close = made if isinstance(made, tuple) else (made, None)
        except Exception as exc:
            row.error = describe_error(exc)
        prepared.append((row, call, close))
    return prepared


def _rotation(items: list[Any], round_index: int) -> list[Any]:
    """Each round starts with a different contender, so no one always runs first (or last)."""
    if not items:
        return items
    shift = round_index % len(items)
    return items[shift:] + items[:shift]


def run_sequential(contenders: Sequence[Contender], *, calls: int, rounds: int, warmup: int) -> list[Row]:
    """Time ``calls`` sequential calls per contender, split over ``rounds`` interleaved rounds.

    Every single call is one sample (milliseconds), so the median is the median per-call time.
    """
    prepared = _prepare(contenders)
    for row, call, _ in prepared:
        if row.error is None:
            try:
                for _ in range(warmup):
                    call()
            except Exception as exc:
                row.error = f"warm-up failed: {describe_error(exc)}"
    per_round = max(1, calls // rounds)
    for index in range(rounds):
        for row, call, _ in _rotation([p for p in prepared if p[0].error is None], index):
            gc.collect()
            try:
                for _ in range(per_round):
                    start = time.perf_counter()
                    call()
                    row.samples_ms.append((time.perf_counter() - start) * 1000)
            except Exception as exc:
                row.error = describe_error(exc)
                row.samples_ms.clear()
    for _, _, close in prepared:
        if close is not None:
            with contextlib.suppress(Exception):
                close()
    return [row for row, _, _ in prepared]


async def _gather_limited(call: AsyncCall, total: int, concurrency: int) -> None:
    limit = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with limit:
            await call()

    await asyncio.gather(*(one() for _ in range(total)))


async def _run_concurrent(
    prepared: list[tuple[Row, Any, Any]], calls: int, concurrency: int, rounds: int, warmup: int
) -> None:
    for row, call, _ in prepared:
        if row.error is None:
            try:
                await _gather_limited(call, max(warmup, concurrency), concurrency)
            except Exception as exc:
                row.error = f"warm-up failed: {describe_error(exc)}"
    for index in range(rounds):
        for row, call, _ in _rotation([p for p in prepared if p[0].error is None], index):
            gc.collect()
            start = time.perf_counter()
            try:
                await _gather_limited(call, calls, concurrency)
            except Exception as exc:
                row.error = describe_error(exc)
                row.samples_ms.clear()
                continue
            row.samples_ms.append((time.perf_counter() - start) * 1000 / calls)
    for _, _, close in prepared:  # close async clients while their loop still runs
        if close is not None:
            with contextlib.suppress(Exception):
                await close()


def run_concurrent(
    contenders: Sequence[Contender], *, calls: int, concurrency: int, rounds: int, warmup: int
) -> list[Row]:
    """Per round and contender, run ``calls`` async calls at most ``concurrency`` at a time.

    One event loop for the whole scenario (pooled async clients are bound to their loop). A sample
    is the round's wall time divided by ``calls``: effective milliseconds per call (throughput).
    """

    async def main() -> list[Row]:
        prepared = _prepare(contenders)
        await _run_concurrent(prepared, calls, concurrency, rounds, warmup)
        return [row for row, _, _ in prepared]

    return asyncio.run(main())


def summarise(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Rows as dicts with median, p90, ratio to the reference, overhead over the baseline, fastest."""
    reference = next((r.median_ms for r in rows if r.role == REFERENCE and r.ok), None)
    baseline = next((r.median_ms for r in rows if r.role == BASELINE and r.ok), None)
    clients = [r for r in rows if r.ok and r.role != BASELINE]
    fastest = min(clients, key=lambda r: r.median_ms or 0.0).name if clients else None
    ref_overhead = reference - baseline if reference is not None and baseline is not None else None
    medians = {r.name: r.median_ms for r in rows if r.ok}
    out = []
    for row in rows:
        item: dict[str, Any] = {"name": row.name, "role": row.role}
        if row.note:
            item["note"] = row.note
        if not row.ok:
            item["status"] = "n/a"
            item["reason"] = row.error or "no samples"
            out.append(item)
            continue
        median = row.median_ms or 0.0
        item.update(
            status="ok",
            samples=len(row.samples_ms),
            median_ms=round(median, 4),
            p90_ms=round(percentile(row.samples_ms, 0.9), 4),
            min_ms=round(min(row.samples_ms), 4),
            ratio_vs_openai=round(median / reference, 3) if reference else None,
            fastest=row.name == fastest,
        )
        counterpart = medians.get(row.versus) if row.versus else None
        if row.versus:
            item["versus"] = row.versus
            item["ratio_vs_counterpart"] = round(median / counterpart, 3) if counterpart else None
        if baseline is not None and row.role != BASELINE:
            overhead = median - baseline
            item["client_overhead_ms"] = round(overhead, 4)
            if ref_overhead and ref_overhead > 0:
                item["overhead_ratio_vs_openai"] = round(overhead / ref_overhead, 3)
        out.append(item)
    return out


def format_table(title: str, rows: Sequence[dict[str, Any]], unit: str = "ms/call") -> str:
    """A plain-text table of :func:`summarise` rows.

    ``x openai``: median / raw openai SDK median. ``x counterpart``: ours / the client it replaces
    (core vs openai SDK, LangChain vs langchain-openai, LlamaIndex vs OpenAILike). ``overhead``:
    median minus the emulator-only row, i.e. what the client itself costs.
    """
    header = ("contender", f"median {unit}", "p90", "x openai", "x counterpart", "overhead ms", "overhead x openai", "")
    lines = [title, "-" * len(title)]
    table: list[tuple[str, ...]] = [header]
    for row in rows:
        if row["status"] != "ok":
            table.append((row["name"], f"n/a ({row['reason']})", "", "", "", "", "", ""))
            continue
        ratio = row.get("ratio_vs_openai")
        overhead = row.get("client_overhead_ms")
        overhead_ratio = row.get("overhead_ratio_vs_openai")
        versus = row.get("ratio_vs_counterpart")
        table.append(
            (
                row["name"],
                f"{row['median_ms']:.3f}",
                f"{row['p90_ms']:.3f}",
                f"{ratio:.2f}" if ratio is not None else "",
                f"{versus:.2f}" if versus is not None else "",
                f"{overhead:.3f}" if overhead is not None else "",
                f"{overhead_ratio:.2f}" if overhead_ratio is not None else "",
                "fastest" if row.get("fastest") else ("(emulator only)" if row["role"] == BASELINE else ""),
            )
        )
    widths = [max(len(r[i]) for r in table if i == 0 or not r[1].startswith("n/a")) for i in range(len(header))]
    for cells in table:
        if cells[1].startswith("n/a"):
            lines.append(f"{cells[0]:<{widths[0]}}  {cells[1]}")
            continue
        first = f"{cells[0]:<{widths[0]}}"
        rest = "  ".join(f"{c:>{w}}" for c, w in zip(cells[1:], widths[1:], strict=True))
        lines.append(f"{first}  {rest}".rstrip())
    return "\n".join(lines)
