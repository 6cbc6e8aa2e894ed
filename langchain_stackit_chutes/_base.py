"""Connection fields and per-call routing shared by the chat model and the embeddings.

No client, URL or endpoint is stored: ``configurable_fields`` re-creates a model from its field
values, so provider, URL and key are resolved from the model string on every call (the core pools
clients per resolved endpoint, so this is cheap). ``api_key`` (explicit, or read from the provider's
variable at construction, as LangChain integrations do) and ``base_url`` belong to
``credentials_provider`` and are never sent to another provider: a run-time switch to another
provider reads that provider's key variable.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, model_validator
from typing_extensions import Self

from stackit_chutes_core import (
    ConfigurationError,
    Endpoint,
    ModelRoute,
    configure_rate_limits,
    get_provider,
    parse_model,
    resolve_endpoint,
)

__all__ = ["ProviderConnection", "Purpose", "home_provider", "provider_argument", "route_of"]

Purpose = Literal["chat", "embeddings"]


def provider_argument(model: str, default_provider: str | None) -> str | None:
    """The ``provider=`` to route ``model`` with.

    A model string that starts with a registered provider (``"chutes/..."``) routes there even when
    a default ``provider`` is set, so run-time switching works; bare ids use the default.
    """
    head, sep, _ = model.strip().partition("/")
    if default_provider is None or (sep and get_provider(head) is not None):
        return None
    return default_provider


def route_of(model: str, default_provider: str | None) -> ModelRoute:
    """The core route of ``model``; raises ``ConfigurationError`` for an unroutable string."""
    return parse_model(model, provider_argument(model, default_provider))


def home_provider(model: Any, default_provider: str | None) -> str | None:
    """The provider ``model`` routes to, or ``None`` when it does not route."""
    if not isinstance(model, str):
        return None
    try:
        return route_of(model, default_provider).provider.name
    except ConfigurationError:
        return None


class ProviderConnection(BaseModel):
    """Fields and routing common to :class:`ChatStackitChutes` and :class:`StackitChutesEmbeddings`."""

    _purpose: ClassVar[Purpose] = "chat"

    model: str = Field(validation_alias=AliasChoices("model", "model_name"))
    """``"stackit/<model id>"`` or ``"chutes/<model id>"`` (e.g. ``"stackit/openai/gpt-oss-120b"``).

    Split on the first ``/`` only; the rest is sent verbatim. A bare id works together with
    ``provider``."""
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
        route = route_of(self.model, self.provider)
        endpoint = self._endpoint()  # MissingAPIKeyError (naming the variable) before any request
        if self.credentials_provider is None:
            self.credentials_provider = route.provider.name
        if self.api_key is None and self.credentials_provider == route.provider.name:
            self.api_key = endpoint.api_key
        return self

    def _endpoint(self, model: str | None = None) -> Endpoint:
        """A fresh core endpoint for ``model`` (default: ``self.model``)."""
        target = model or self.model
        endpoint = resolve_endpoint(
            target,
            provider=provider_argument(target, self.provider),
            api_key=self.api_key,
            base_url=self.base_url,
            credentials_for=self.credentials_provider,
            purpose=self._purpose,
            default_headers=self.default_headers,
            timeout=self.timeout,
            max_retries=self.max_retries,
            http_client=self.http_client,
            http_async_client=self.http_async_client,
        )
        if target == self.model:  # budgets belong to this object's model, not to per-call switches
            configure_rate_limits(endpoint, self.requests_per_minute, self.tokens_per_minute)
        return endpoint

    def _secret_env_name(self) -> str:
        """The variable a serialized ``api_key`` is restored from (the key's provider's variable)."""
        row = get_provider(self.credentials_provider or home_provider(self.model, self.provider) or "")
        return row.api_key_env[0] if row and row.api_key_env else "STACKIT_CHUTES_API_KEY"
