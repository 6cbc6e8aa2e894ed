"""Local emulator of the STACKIT AI Model Serving and Chutes OpenAI-compatible APIs.

Three hosts (STACKIT, Chutes LLM, Chutes embeddings), each a ``ThreadingHTTPServer`` on
``127.0.0.1`` with an OS-chosen port::

    with ProviderEmulator(latency_s=0.0, max_lifetime_s=900) as emu:
        emu.base_urls   # {"stackit": ".../v1", "chutes": ".../v1", "chutes_embeddings": ".../v1"}
        emu.requests    # list[CapturedRequest(provider, method, path, headers, body)]
        emu.clear_requests()

Test hook -- request header ``X-Emulator-Scenario: <name>[:<count>[:<tag>]]``:

* ``rate_limit``   STACKIT 429 with an empty body and ``x-ratelimit-remaining-requests: 0`` (no
  ``Retry-After``: undocumented); Chutes 429 ``{"detail": "Infrastructure is at maximum capacity, try
  again later"}`` without ``Retry-After`` or rate-limit headers.
* ``maintenance``, ``spam``  Chutes 429 ``model is under maintenance`` / ``Stop spamming this prompt,
  please...`` (STACKIT: a plain 500).
* ``quota``        Chutes 402 ``{"detail": {"message": ..., "quota_reset_timestamp": ...}}``
  (STACKIT: empty 429 with ``x-ratelimit-remaining-tokens: 0``).
* ``legacy_error`` STACKIT flat ``{"object": "error", ...}`` 400 (Chutes: 400 ``detail``).
* ``server_error`` HTTP 500 in the host's error shape.
* ``stream_abort`` streamed chat only: a few chunks, then a raw ``{"error": "Unhandled exception
  during response stream: boom"}`` line without ``data:`` framing and no ``[DONE]``.
* ``stream_error`` streamed chat only: a few chunks, then ``data: {"error": {..., "code": 500}}``
  and ``data: [DONE]`` (vLLM style).

``name:N`` fails only the first ``N`` requests carrying that exact header value (per emulator;
``clear_requests()`` resets the counters). Run standalone with ``python -m tests.emulator``.
"""

from __future__ import annotations

from tests.emulator.images import make_png, png_data_uri
from tests.emulator.scenarios import SCENARIOS
from tests.emulator.server import CapturedRequest, ProviderEmulator

__all__ = ["SCENARIOS", "CapturedRequest", "ProviderEmulator", "make_png", "png_data_uri"]
