"""Failure scenarios selected per request with the ``X-Emulator-Scenario`` header.

Header syntax: ``<name>`` (always fail), ``<name>:<n>`` (fail only the first ``n`` requests that
carry exactly this header value, then behave normally) or ``<name>:<n>:<tag>`` (same, with a
separate counter per tag). Counters live on the emulator and are reset by ``clear_requests()``.

Names: ``rate_limit``, ``quota``, ``maintenance``, ``spam``, ``legacy_error``, ``server_error`` (any
endpoint) and ``stream_abort``, ``stream_error`` (streamed chat completions only; ignored otherwise).
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from tests.emulator.errors import EmulatorError, Provider, Reply, chutes_error, vllm_error_body

SCENARIOS = frozenset(
    {"rate_limit", "quota", "maintenance", "spam", "legacy_error", "server_error", "stream_abort", "stream_error"}
)
STREAM_SCENARIOS = frozenset({"stream_abort", "stream_error"})
HEADER = "x-emulator-scenario"


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario header."""

    name: str
    limit: int | None
    key: str


def parse_scenario(value: str) -> Scenario:
    """Parse ``name[:count[:tag]]``; unknown names raise a 400 so typos surface."""
    parts = value.strip().split(":")
    name = parts[0].strip().lower()
    if name not in SCENARIOS:
        raise chutes_error(f"unknown emulator scenario {name!r}; expected one of {sorted(SCENARIOS)}", 400)
    limit = None
    if len(parts) > 1 and parts[1].strip():
        try:
            limit = int(parts[1])
        except ValueError as exc:
            raise chutes_error(f"bad scenario count in {value!r}", 400) from exc
    return Scenario(name, limit, value.strip())


class ScenarioCounter:
    """Thread-safe per-emulator counters for ``name:count`` scenarios."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._used: dict[str, int] = {}

    def consume(self, scenario: Scenario) -> bool:
        """Return True if the scenario fires for this request (and count it)."""
        with self._lock:
            used = self._used.get(scenario.key, 0)
            if scenario.limit is not None and used >= scenario.limit:
                return False
            self._used[scenario.key] = used + 1
            return True

    def reset(self) -> None:
        """Forget all counts."""
        with self._lock:
            self._used.clear()


def next_utc_midnight() -> str:
    """ISO-8601 timestamp of the next UTC midnight (Chutes ``quota_reset_timestamp``)."""
    now = dt.datetime.now(dt.timezone.utc)
    midnight = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.isoformat()


def scenario_error(provider: Provider, name: str) -> EmulatorError:
    """The error reply a non-stream scenario produces on ``provider``."""
    stackit = provider == "stackit"
    # STACKIT's 429 body and Retry-After are undocumented: an empty body and only the documented
    # x-ratelimit-remaining-* headers. Chutes' 429s carry no Retry-After or rate-limit headers at all
    # (chutesai/chutes-api issue #56; api/invocation/router.py).
    if name == "rate_limit":
        if stackit:
            headers = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-remaining-tokens": "100000"}
            return EmulatorError(Reply.empty(429, headers))
        return chutes_error("Infrastructure is at maximum capacity, try again later", 429)
    if name in ("maintenance", "spam") and not stackit:
        text = "model is under maintenance" if name == "maintenance" else "Stop spamming this prompt, please..."
        return chutes_error(text, 429)
    if name == "quota":
        if stackit:
            headers = {"x-ratelimit-remaining-requests": "10", "x-ratelimit-remaining-tokens": "0"}
            return EmulatorError(Reply.empty(429, headers))
        detail = {
            "message": "Quota exceeded and account balance is $0.0, please pay with fiat or send tao to "
            "5XemulatorAddressForTaoPaymentsOnlyxxxxxxxxxxxxxxx",
            "quota_reset_timestamp": next_utc_midnight(),
        }
        return chutes_error(detail, 402)
    if name == "legacy_error":
        if stackit:
            body = vllm_error_body("Emulated legacy vLLM error (flat shape).", 400, legacy=True)
            return EmulatorError(Reply.json(body, 400))
        return chutes_error("invalid request JSON payload: emulated error", 400)
    if stackit:
        return EmulatorError(Reply.json(vllm_error_body("Internal server error", 500), 500))
    return chutes_error("Internal server error", 500)
