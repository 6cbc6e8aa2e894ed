"""Connection fields shared by :class:`StackitChutes` and :class:`StackitChutesEmbedding`.

Only the fields live here: routing, key binding and kind checks are the core's
(:class:`stackit_chutes_core.ModelConnection`, built from these fields on every call).
"""

from __future__ import annotations

import pickle
from typing import Any, ClassVar

from llama_index.core.bridge.pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic import AliasChoices

from stackit_chutes_core import Endpoint, ModelConnection
from stackit_chutes_core.routing import Purpose

__all__ = ["ConnectionFields"]

# Where LlamaIndex (OpenAILike) names a core setting differently.
_LLAMA_NAMES = {"base_url": "api_base", "http_async_client": "async_http_client"}


class ConnectionFields(BaseModel):
    """Provider, key, base URL and client settings, as ``OpenAILike`` users write them."""

    # Unknown keywords fail loudly (a mistyped option must not be silently ignored); inputs never
    # appear in validation errors (they may hold the key).
    model_config = ConfigDict(extra="forbid", populate_by_name=True, hide_input_in_errors=True)

    provider: str | None = Field(default=None, description="Provider name when the model string carries no prefix.")
    api_key: SecretStr | None = Field(
        default=None, exclude=True, repr=False, description="API key; default: the provider's environment variable."
    )
    api_base: str | None = Field(
        default=None,
        validation_alias=AliasChoices("api_base", "base_url"),
        description="Base URL override for the model's provider (`base_url=` is accepted too, as in OpenAILike).",
    )
    credentials_provider: str | None = Field(
        default=None,
        description="The provider `api_key` and `api_base` belong to (set from the model at construction); after "
        "switching the model to another provider, that provider's own key variable is used instead.",
    )
    timeout: float | None = Field(default=None, description="Request timeout in seconds; None: SDK default.")
    max_retries: int = Field(default=2, ge=0, description="Retries on 429/5xx/timeouts (never on Chutes 402).")
    default_headers: dict[str, str] | None = Field(default=None, description="Extra headers on every request.")
    http_client: Any = Field(default=None, exclude=True, repr=False, description="Custom sync httpx client.")
    async_http_client: Any = Field(
        default=None,
        exclude=True,
        repr=False,
        validation_alias=AliasChoices("async_http_client", "http_async_client"),
        description="Custom async httpx client (`http_async_client=` is accepted too, as in LangChain).",
    )

    _model_field: ClassVar[str] = "model"
    """The field holding the model string (LlamaIndex embeddings call it ``model_name``)."""
    _purpose: ClassVar[Purpose] = "chat"

    @property
    def _connection(self) -> ModelConnection:
        """The core connection for the current field values (cheap: no client is built here)."""
        model = getattr(self, self._model_field)
        return ModelConnection.of(self, model=model, purpose=self._purpose, names=_LLAMA_NAMES)

    def _bind_credentials(self) -> None:
        """Route, check the kind and the key now (before any request) and bind the key to its provider."""
        self.credentials_provider = self._connection.checked().credentials_provider

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without user-owned HTTP clients (sockets, locks), leaving this object untouched.

        A copy in a worker process builds pooled clients of its own on first use. (LlamaIndex's own
        ``BaseComponent.__getstate__`` deletes unpicklable fields from the live object; this does not.)
        """
        state = BaseModel.__getstate__(self)
        fields = {**state["__dict__"], "http_client": None, "async_http_client": None}
        for key, value in list(fields.items()):
            try:
                pickle.dumps(value)
            except Exception:  # as BaseComponent does, but on the copy: e.g. a handler holding a lock
                del fields[key]
        return {**state, "__dict__": fields}

    def _endpoint(self, model: str | None = None) -> Endpoint:
        return self._connection.endpoint(model)
