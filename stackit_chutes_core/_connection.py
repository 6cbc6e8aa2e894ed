"""A model string bound to its route, credentials and client settings: what every adapter holds.

:class:`ModelConnection` owns the decisions both frameworks share: which provider a model string
(or a per-call ``model=``) routes to, whose key and base URL apply (an explicit key belongs to the
provider it was given for, whatever the model is later switched to), whether the model's kind fits
the purpose (a chat model is not an embedding model), and what the catalog says about limits and
cost. Adapters build one from their fields and ask it for an :class:`Endpoint` per call.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from stackit_chutes_core._pricing import estimate_cost
from stackit_chutes_core.catalog import ModelInfo
from stackit_chutes_core.errors import CapabilityError
from stackit_chutes_core.providers import get_provider
from stackit_chutes_core.routing import (
    DEFAULT_MAX_RESPONSE_BYTES,
    Endpoint,
    ModelRoute,
    Purpose,
    parse_model,
    resolve_endpoint,
)
from stackit_chutes_core.types import Usage

__all__ = ["DEFAULT_CONTEXT_WINDOW", "ModelConnection", "ModelLimits", "cost_metadata"]

logger = logging.getLogger("stackit_chutes")

DEFAULT_CONTEXT_WINDOW = 32_768
"""Context window assumed for models the catalog does not know (logged once per model).

Conservative but realistic for current open models; LlamaIndex's own fallback (3,900 tokens) would
silently truncate agent memory and prompt packing."""

_warned_unknown: set[str] = set()
_SETTINGS = (
    "provider",
    "api_key",
    "base_url",
    "credentials_provider",
    "default_headers",
    "timeout",
    "max_retries",
    "max_response_bytes",
    "http_client",
    "http_async_client",
)


def _warn_unknown(qualified_name: str) -> None:
    """Log once per model that the catalog does not know it (it still works: the provider decides)."""
    if qualified_name in _warned_unknown:
        return
    _warned_unknown.add(qualified_name)
    logger.warning(
        "Model %r is not in the stackit-chutes catalog: it is sent as given, but its capabilities, price and "
        "limits are unknown (assuming a context window of %d tokens; pass context_window=... to set it).",
        qualified_name,
        DEFAULT_CONTEXT_WINDOW,
    )


def _provider_argument(model: str, default_provider: str | None) -> str | None:
    """The ``provider=`` to route ``model`` with.

    A model string that starts with a registered provider routes there even when a default provider
    is set (so run-time switching works); bare ids use the default.
    """
    head, sep, _ = model.strip().partition("/")
    if default_provider is None or (sep and get_provider(head) is not None):
        return None
    return default_provider


@dataclass(frozen=True)
class ModelLimits:
    """The sizes frameworks ask for, from the catalog or explicit overrides."""

    context_window: int
    """Tokens of prompt plus answer; :data:`DEFAULT_CONTEXT_WINDOW` for models the catalog does not know."""
    max_output_tokens: int | None
    """The catalog's (or the configured) output limit; ``None`` when unknown."""
    known: bool
    """Whether the context window came from the catalog or the caller rather than the default."""


@dataclass(frozen=True)
class ModelConnection:
    """A model string bound to its provider route, credentials and client settings.

    Build it with :meth:`bind` (which routes and checks the key before any request). ``api_key`` and
    ``base_url`` belong to ``credentials_provider``: when a call switches the model to another
    provider, that provider's own variables are read instead, so a key never crosses providers.
    Pickles (user-owned HTTP clients are left out of the pickled state).
    """

    model: str
    """``"stackit/<model id>"``, ``"chutes/<model id>"``, or a bare id together with ``provider``."""
    purpose: Purpose = "chat"
    provider: str | None = None
    """Provider of bare model ids; a model string with a registered provider prefix always wins."""
    api_key: SecretStr | None = field(default=None, repr=False)
    base_url: str | None = None
    credentials_provider: str | None = None
    """The provider ``api_key`` and ``base_url`` were given for."""
    default_headers: Mapping[str, str] | None = None
    timeout: float | None = None
    max_retries: int = 2
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    """Cap on one answer's body (see :attr:`Endpoint.max_response_bytes`)."""
    http_client: Any = field(default=None, repr=False, compare=False)
    http_async_client: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def bind(cls, model: str, *, purpose: Purpose = "chat", **settings: Any) -> ModelConnection:
        """A connection for ``model``, checked with :meth:`checked`."""
        return cls(model=model, purpose=purpose, **settings).checked()

    def checked(self) -> ModelConnection:
        """Route the model and require a key now, raising before any request if either fails.

        Returns the connection with ``credentials_provider`` set (default: the model's provider).
        """
        route = self.route()
        if route.info is None:
            _warn_unknown(route.qualified_name)
        connection = self
        if self.credentials_provider is None:
            connection = self.replace(credentials_provider=route.provider)
        connection.endpoint()  # MissingAPIKeyError naming the variable, before any request
        return connection

    @classmethod
    def of(
        cls, source: object, *, model: str, purpose: Purpose = "chat", names: Mapping[str, str] | None = None
    ) -> ModelConnection:
        """The connection described by an adapter object's attributes (no routing or key check here).

        ``names`` maps a setting to the attribute holding it where the framework names it differently
        (LlamaIndex: ``{"base_url": "api_base", "http_async_client": "async_http_client"}``).
        """
        renamed = names or {}
        values = {setting: getattr(source, renamed.get(setting, setting), None) for setting in _SETTINGS}
        return cls(model=model, purpose=purpose, **{k: v for k, v in values.items() if v is not None})

    def replace(self, **changes: Any) -> ModelConnection:
        """A copy with ``changes`` (credentials stay bound to their provider)."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values.update(changes)
        return ModelConnection(**values)

    def route(self, model: str | None = None) -> ModelRoute:
        """The route of ``model`` (default: the bound model); refuses a model of the wrong kind."""
        target = model or self.model
        route = parse_model(target, _provider_argument(target, self.provider))
        self._check_kind(route)
        return route

    def endpoint(self, model: str | None = None) -> Endpoint:
        """A resolved endpoint for ``model`` (default: the bound model), with this connection's settings."""
        route = self.route(model)
        return resolve_endpoint(
            route.qualified_name,
            api_key=self.api_key,
            base_url=self.base_url,
            credentials_for=self.credentials_provider,
            purpose=self.purpose,
            default_headers=self.default_headers,
            timeout=self.timeout,
            max_retries=self.max_retries,
            max_response_bytes=self.max_response_bytes,
            http_client=self.http_client,
            http_async_client=self.http_async_client,
            route=route,
        )

    def info(self, model: str | None = None) -> ModelInfo | None:
        """The catalog row of ``model`` (default: the bound model); ``None`` when unknown."""
        return self.route(model).info

    def limits(self, *, context_window: int | None = None, max_output_tokens: int | None = None) -> ModelLimits:
        """Context window and output limit, explicit values first, then the catalog, then the default.

        An unknown context window is logged once per model (the default may be too small or too large).
        """
        route = self.route()
        info = route.info
        known = context_window or (info.context_window if info else None)
        if known is None:
            _warn_unknown(route.qualified_name)
        return ModelLimits(
            context_window=known or DEFAULT_CONTEXT_WINDOW,
            max_output_tokens=max_output_tokens or (info.max_output_tokens if info else None),
            known=known is not None,
        )

    def _check_kind(self, route: ModelRoute) -> None:
        info = route.info
        wanted = "chat" if self.purpose == "chat" else "embedding"
        if info is None or info.kind == wanted:
            return
        if wanted == "embedding":
            hint = "use the framework's StackitChutes chat class for it, or an embedding model such as " + (
                "'stackit/intfloat/e5-mistral-7b-instruct' or 'chutes/Qwen/Qwen3-Embedding-8B'"
            )
            raise CapabilityError(f"{info.qualified_name!r} is a chat model, not an embedding model; {hint}.")
        raise CapabilityError(
            f"{info.qualified_name!r} is an embedding model, not a chat model; use the framework's "
            "StackitChutes embeddings class for it."
        )

    def __getstate__(self) -> dict[str, Any]:
        state = {name: getattr(self, name) for name in self.__dataclass_fields__}
        state["http_client"] = state["http_async_client"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)


def cost_metadata(info: ModelInfo | None, usage: Usage | None) -> dict[str, Any] | None:
    """The cost of ``usage`` as ``{"input", "output", "total", "currency"}`` (floats), or ``None``.

    One shape for every framework: LangChain ``response_metadata["cost"]``, LlamaIndex
    ``additional_kwargs["cost"]``.
    """
    cost = estimate_cost(info, usage)
    return None if cost is None else cost.as_dict()
