"""Reply objects and the provider-specific error shapes of the emulator.

STACKIT runs vLLM behind its gateway, so model-level errors use vLLM's nested shape
``{"error": {"message", "type", "param", "code"}}`` (flat legacy shape on request), while the
gateway itself answers unauthenticated calls with an empty 403. Chutes is a FastAPI gateway:
every error is ``{"detail": <string or object>}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

Provider = Literal["stackit", "chutes", "chutes_embeddings"]

_VLLM_TYPES: dict[int, str] = {
    400: "BadRequestError",
    401: "AuthenticationError",
    402: "PaymentRequiredError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    405: "MethodNotAllowedError",
    422: "UnprocessableEntityError",
    429: "RateLimitError",
    500: "InternalServerError",
    503: "ServiceUnavailableError",
}


@dataclass
class Reply:
    """One HTTP answer: a JSON/empty body, or an SSE stream of pre-encoded byte chunks."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    stream: Iterator[bytes] | None = None

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        """Build a JSON reply (UTF-8, non-ASCII kept verbatim like FastAPI/vLLM do)."""
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        hdrs = {"content-type": "application/json"}
        hdrs.update(headers or {})
        return cls(status=status, body=data, headers=hdrs)

    @classmethod
    def empty(cls, status: int, headers: dict[str, str] | None = None) -> Reply:
        """Build a reply without body (``content-length: 0``)."""
        return cls(status=status, body=b"", headers=dict(headers or {}))

    @classmethod
    def sse(cls, chunks: Iterator[bytes], headers: dict[str, str] | None = None) -> Reply:
        """Build a ``text/event-stream`` reply from an iterator of encoded SSE chunks."""
        hdrs = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}
        hdrs.update(headers or {})
        return cls(status=200, headers=hdrs, stream=chunks)


class EmulatorError(Exception):
    """Raised inside request handling to abort with a prepared error :class:`Reply`."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(f"HTTP {reply.status}")
        self.reply = reply


def vllm_error_body(message: str, status: int, *, legacy: bool = False) -> dict[str, Any]:
    """vLLM's error JSON: nested (>= v0.10.1) or the flat legacy ``object: error`` form."""
    err_type = _VLLM_TYPES.get(status, "BadRequestError")
    if legacy:
        return {"object": "error", "message": message, "type": err_type, "param": None, "code": status}
    return {"error": {"message": message, "type": err_type, "param": None, "code": status}}


def vllm_error(message: str, status: int = 400, headers: dict[str, str] | None = None) -> EmulatorError:
    """A STACKIT (vLLM) error in the nested shape."""
    return EmulatorError(Reply.json(vllm_error_body(message, status), status, headers))


def chutes_error(detail: Any, status: int = 400, headers: dict[str, str] | None = None) -> EmulatorError:
    """A Chutes (FastAPI) error: ``{"detail": <string or object>}``."""
    return EmulatorError(Reply.json({"detail": detail}, status, headers))


def provider_error(provider: Provider, message: str, status: int = 400) -> EmulatorError:
    """The natural error shape of ``provider`` for a plain message."""
    if provider == "stackit":
        return vllm_error(message, status)
    return chutes_error(message, status)


def model_not_found(provider: Provider, model: str) -> EmulatorError:
    """Unknown model: vLLM 404 on STACKIT, ``model not found: X`` on Chutes."""
    if provider == "stackit":
        return vllm_error(f"The model `{model}` does not exist.", 404)
    return chutes_error(f"model not found: {model}", 404)


def context_overflow(provider: Provider, limit: int, prompt: int, completion: int | None) -> EmulatorError:
    """Prompt (plus requested completion) longer than the model's context window."""
    if provider == "stackit":
        if completion is None or prompt > limit:
            msg = (
                f"This model's maximum context length is {limit} tokens. However, you requested "
                f"{prompt} tokens in the messages, Please reduce the length of the messages. None"
            )
        else:
            msg = (
                f"This model's maximum context length is {limit} tokens. However, you requested "
                f"{prompt + completion} tokens ({prompt} in the messages, {completion} in the "
                "completion). Please reduce the length of the messages or completion. None"
            )
        return vllm_error(msg, 400)
    total = prompt + (completion or 0)
    msg = (
        f"Requested token count exceeds the model's maximum context length of {limit} tokens. "
        f"You requested a total of {total} tokens: {prompt} tokens from the input messages and "
        f"{completion or 0} tokens for the completion. Please reduce the number of tokens in the "
        "input messages or the completion to fit within the limit."
    )
    return chutes_error(vllm_error_body(msg, 400, legacy=True), 400)
