"""Connection fields shared by the chat model and the embeddings; every decision is the core's.

No client, URL or endpoint is stored: ``configurable_fields`` re-creates a model from its field
values, so each call asks :class:`stackit_chutes_core.ModelConnection` (built from the fields) for
its endpoint. ``api_key`` (explicit, or read from the provider's variable at construction, as
LangChain integrations do) and ``base_url`` belong to ``credentials_provider`` and are never sent
to another provider: a run-time switch to another provider reads that provider's key variable.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, model_validator
from typing_extensions import Self

import stackit_chutes_core as core
from stackit_chutes_core.routing import Purpose

__all__ = ["ProviderConnection"]


class ProviderConnection(BaseModel):
    """Fields and routing common to :class:`ChatStackitChutes` and :class:`StackitChutesEmbeddings`."""

    _purpose: ClassVar[Purpose] = "chat"
    # Validation errors never echo the inputs: they may hold the API key.
    model_config = ConfigDict(hide_input_in_errors=True)

    model: str = Field(validation_alias=AliasChoices("model", "model_name"))
    """``"stackit/<model id>"`` or ``"chutes/<model id>"`` (e.g. ``"stackit/openai/gpt-oss-120b"``).

    Split on the first ``/`` only; the rest is sent verbatim. A bare id works together with
    ``provider``. ``model_name=`` is accepted too (as in ``ChatOpenAI``)."""
    provider: str | None = None
    """Provider for a model string without a provider prefix (``"stackit"``, ``"chutes"``, or one added
    with ``stackit_chutes_core.register_provider``). Prefixed model strings always win."""
    api_key: SecretStr | None = None
    """API key; by default read at construction from ``STACKIT_API_KEY`` or ``CHUTES_API_KEY``, chosen by
    the model's provider. ``OPENAI_API_KEY`` is never read."""
    base_url: str | None = None
    """Base URL override (default: the provider's URL, or ``STACKIT_BASE_URL`` / ``CHUTES_BASE_URL``)."""
    credentials_provider: str | None = None
    """The provider ``api_key`` / ``base_url`` belong to; set automatically from ``model`` at construction.
    When the model is switched at run time (``configurable_fields``, a per-call ``model=``) to another
    provider, these credentials are not used for it: that provider's key variable is read instead."""
    timeout: float | None = Field(default=None, validation_alias=AliasChoices("timeout", "request_timeout"))
    """Request timeout in seconds (``None``: the ``openai`` SDK default)."""
    max_retries: int = 2
    """Retries on 429, 5xx and timeouts (honouring ``Retry-After``; Chutes' 402 is never retried)."""
    default_headers: dict[str, str] | None = None
    """Extra headers sent with every request."""
    http_client: Any = Field(default=None, exclude=True)
    """Optional user-owned ``httpx`` client (e.g. with a custom transport) for sync calls."""
    http_async_client: Any = Field(default=None, exclude=True)
    """Optional user-owned async ``httpx`` client for async calls."""
    requests_per_minute: float | None = Field(default=None, gt=0)
    """Pace requests to this budget (shared by every object using the same key and model in this
    process; 429s slow the pace down). Default: the catalog's documented limit, else no pacing."""
    tokens_per_minute: float | None = Field(default=None, gt=0)
    """Pace tokens to this budget (STACKIT counts prompt + 5 x generated tokens). As above."""

    @model_validator(mode="after")
    def _stackit_chutes_connection(self) -> Self:
        """Route the model now, require a key, and bind the credentials to the model's provider.

        A key taken from the environment is kept in ``api_key`` (the LangChain convention), owned by
        ``credentials_provider`` like an explicit one, so it is never sent to the other provider.
        """
        bound = self._connection.checked()
        self.credentials_provider = bound.credentials_provider
        if self.api_key is None and self.credentials_provider == bound.route().provider:
            self.api_key = bound.endpoint().api_key
        return self

    @property
    def _connection(self) -> core.ModelConnection:
        """The core connection for the current field values (cheap: no client is built here)."""
        return core.ModelConnection.of(self, model=self.model, purpose=self._purpose)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without user-owned HTTP clients (sockets, locks).

        A copy in a worker process builds pooled clients of its own on first use.
        """
        state = super().__getstate__()
        state["__dict__"] = {**state["__dict__"], "http_client": None, "http_async_client": None}
        return state

    def _endpoint(self, model: str | None = None) -> core.Endpoint:
        """A fresh core endpoint for ``model`` (default: ``self.model``)."""
        endpoint = self._connection.endpoint(model)
        if model is None or model == self.model:  # budgets belong to this object's model, not to switches
            core.configure_rate_limits(endpoint, self.requests_per_minute, self.tokens_per_minute)
        return endpoint

    def _secret_env_name(self) -> str:
        """The variable a serialized ``api_key`` is restored from (the key's provider's variable)."""
        row = core.get_provider(self.credentials_provider or "")
        return row.api_key_env[0] if row and row.api_key_env else "STACKIT_CHUTES_API_KEY"
