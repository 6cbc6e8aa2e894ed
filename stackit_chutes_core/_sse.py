"""``openai`` clients whose SSE decoder also reads Chutes' unframed mid-stream error line.

After a stream has started, Chutes reports an engine failure as a raw ``{"error": "..."}`` line
without ``data:`` framing and then closes the stream (providers.md 4.8). The SDK's decoder ignores
lines that are no SSE field, so the provider's message was lost and the user only learnt that the
stream ended early. Here a line starting with ``{`` becomes a data event at once; the SDK then sees
its ``error`` key and raises, and the transport turns that into a ``StreamError`` carrying the
provider's message. The cost per line is one ``startswith``.
"""

from __future__ import annotations

import openai
from openai._streaming import ServerSentEvent, SSEDecoder

__all__ = ["AsyncOpenAIClient", "OpenAIClient"]


class _Decoder(SSEDecoder):
    def decode(self, line: str) -> ServerSentEvent | None:
        if line.startswith("{"):  # unframed JSON: Chutes' {"error": ...} after the stream started
            return ServerSentEvent(data=line)
        return super().decode(line)


class OpenAIClient(openai.OpenAI):
    """The SDK's sync client with the decoder above."""

    def _make_sse_decoder(self) -> SSEDecoder:
        return _Decoder()


class AsyncOpenAIClient(openai.AsyncOpenAI):
    """The SDK's async client with the decoder above."""

    def _make_sse_decoder(self) -> SSEDecoder:
        return _Decoder()
