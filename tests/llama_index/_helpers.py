"""Shared helpers of the LlamaIndex adapter tests: model ids, tiny PNGs, a callback-event collector.

HTTP mocks live in ``tests/_http.py``.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.callbacks import CBEventType
from llama_index.core.callbacks.base_handler import BaseCallbackHandler

from tests.pngs import solid_png

CHAT_MODELS = {
    "stackit": "stackit/openai/gpt-oss-120b",
    "chutes": "chutes/deepseek-ai/DeepSeek-V3.2-TEE",
}
REASONING_MODELS = {
    "stackit": "stackit/openai/gpt-oss-120b",
    "chutes": "chutes/Qwen/Qwen3-235B-A22B-Thinking-2507-TEE",
}
VISION_MODELS = {
    "stackit": "stackit/Qwen/Qwen3-VL-235B-A22B-Instruct-FP8",
    "chutes": "chutes/Qwen/Qwen3.6-27B-TEE",
}
EMBED_MODELS = {
    "stackit": "stackit/intfloat/e5-mistral-7b-instruct",
    "chutes": "chutes/Qwen/Qwen3-Embedding-8B",
}
IMAGE_EMBED_MODEL = "stackit/Qwen/Qwen3-VL-Embedding-8B"
PROVIDERS = ("stackit", "chutes")

RED = (220, 30, 30)
BLUE = (30, 60, 220)
GREEN = (30, 180, 60)


def make_png(rgb: tuple[int, int, int]) -> bytes:
    """A 4x4 solid-colour PNG (the size the cassettes were recorded with, so request bodies replay)."""
    return solid_png(rgb, 4)


class CallbackEvents(BaseCallbackHandler):
    """Collects legacy callback events: the types of the starts, ``(type, payload)`` of the ends."""

    def __init__(self) -> None:
        super().__init__(event_starts_to_ignore=[], event_ends_to_ignore=[])
        self.starts: list[CBEventType] = []
        self.ends: list[tuple[CBEventType, dict[str, Any]]] = []

    def payloads(self, kind: CBEventType) -> list[dict[str, Any]]:
        """The end payloads of events of ``kind``, in order."""
        return [payload for event_type, payload in self.ends if event_type == kind]

    def on_event_start(self, event_type: CBEventType, payload: Any = None, event_id: str = "", **kw: Any) -> str:
        self.starts.append(event_type)
        return event_id

    def on_event_end(self, event_type: CBEventType, payload: Any = None, event_id: str = "", **kw: Any) -> None:
        self.ends.append((event_type, payload or {}))

    def start_trace(self, trace_id: str | None = None) -> None:
        return None

    def end_trace(self, trace_id: str | None = None, trace_map: Any = None) -> None:
        return None
