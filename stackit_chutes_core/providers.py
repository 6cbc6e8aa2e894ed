"""Providers as data rows, and the registry that routing reads.

A provider is a row of facts (base URLs, key variables, wire renames, reasoning fields), not a
class: adding another OpenAI-compatible endpoint is one :func:`register_provider` call.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from stackit_chutes_core.errors import ConfigurationError

__all__ = ["Provider", "get_provider", "known_providers", "register_provider"]


def _frozen(mapping: Mapping[str, str] | None = None) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True)
class Provider:
    """Everything the core needs to talk to one OpenAI-compatible provider."""

    name: str
    """Routing prefix, e.g. ``"stackit"`` in ``"stackit/openai/gpt-oss-120b"``."""
    display_name: str
    base_url: str
    """Default base URL of the chat/completions API (ends in ``/v1``)."""
    api_key_env: tuple[str, ...]
    """Environment variables read for the key, first set wins."""
    base_url_env: str | None = None
    """Environment variable overriding :attr:`base_url`."""
    embeddings_base_url: str | None = None
    """Separate host for ``/embeddings`` (Chutes embeds on ``embed.chutes.ai``); ``None``: same as chat."""
    embeddings_base_url_env: str | None = None
    max_tokens_field: str = "max_tokens"
    """Wire name of the output-token limit: ``max_tokens`` (every OpenAI-compatible server reads it;
    Chutes' gateway wants it) or ``max_completion_tokens`` (STACKIT's documented field)."""
    reasoning_fields: tuple[str, ...] = ("reasoning", "reasoning_content")
    """Response fields holding reasoning, read in this order."""
    reasoning_history_field: str | None = None
    """Field used to send reasoning back on assistant turns (``None``: never sent back)."""
    thinking_header: str | None = None
    """Header that switches a hybrid model's thinking on (Chutes: ``X-Enable-Thinking``)."""
    default_headers: Mapping[str, str] = field(default_factory=_frozen)
    currency: str = "USD"
    """Currency the provider bills in."""
    supports_stream_usage: bool = True
    """Whether ``stream_options.include_usage`` is honoured."""
    models_endpoint_public: bool = False
    """Whether ``GET /models`` works without a key."""


STACKIT = Provider(
    name="stackit",
    display_name="STACKIT AI Model Serving",
    base_url="https://api.openai-compat.model-serving.eu01.onstackit.cloud/v1",
    api_key_env=("STACKIT_API_KEY",),
    base_url_env="STACKIT_BASE_URL",
    max_tokens_field="max_completion_tokens",
    reasoning_history_field=None,
    currency="EUR",
)

CHUTES = Provider(
    name="chutes",
    display_name="Chutes",
    base_url="https://llm.chutes.ai/v1",
    api_key_env=("CHUTES_API_KEY",),
    base_url_env="CHUTES_BASE_URL",
    embeddings_base_url="https://embed.chutes.ai/v1",
    embeddings_base_url_env="CHUTES_EMBEDDINGS_BASE_URL",
    max_tokens_field="max_tokens",
    thinking_header="X-Enable-Thinking",
    currency="USD",
    models_endpoint_public=True,
)

_registry_lock = threading.Lock()
_registry: dict[str, Provider] = {STACKIT.name: STACKIT, CHUTES.name: CHUTES}


def register_provider(
    name: str,
    *,
    base_url: str,
    api_key_env: str | tuple[str, ...],
    display_name: str | None = None,
    base_url_env: str | None = None,
    embeddings_base_url: str | None = None,
    max_tokens_field: str = "max_tokens",
    default_headers: Mapping[str, str] | None = None,
    currency: str = "USD",
    replace: bool = False,
) -> Provider:
    """Register another OpenAI-compatible endpoint under a routing prefix.

    Afterwards ``"<name>/<model id>"`` routes there with the key from ``api_key_env``.
    Re-registering a name raises unless ``replace=True``.
    """
    if not name or "/" in name or name != name.strip():
        raise ConfigurationError(f"Provider name {name!r} must be non-empty and contain no '/'.")
    if not base_url.startswith(("http://", "https://")):
        raise ConfigurationError(f"base_url {base_url!r} must start with http:// or https://.")
    if name.upper().startswith("OPENAI") or any(var.upper().startswith("OPENAI_") for var in _as_tuple(api_key_env)):
        raise ConfigurationError("OPENAI_* variables are never read; use a provider-specific variable.")
    provider = Provider(
        name=name,
        display_name=display_name or name,
        base_url=base_url.rstrip("/"),
        api_key_env=_as_tuple(api_key_env),
        base_url_env=base_url_env,
        embeddings_base_url=embeddings_base_url.rstrip("/") if embeddings_base_url else None,
        max_tokens_field=max_tokens_field,
        default_headers=_frozen(default_headers),
        currency=currency,
    )
    with _registry_lock:
        if name in _registry and not replace:
            raise ConfigurationError(f"Provider {name!r} is already registered; pass replace=True.")
        _registry[name] = provider
    return provider


def _as_tuple(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def known_providers() -> tuple[str, ...]:
    """Names of every registered provider, in registration order."""
    return tuple(_registry)


def get_provider(name: str) -> Provider | None:
    """The registered provider called ``name``, or ``None``."""
    return _registry.get(name)


def unregister_provider(name: str) -> None:
    """Remove a provider added with :func:`register_provider` (the built-in two stay)."""
    if name in (STACKIT.name, CHUTES.name):
        raise ConfigurationError(f"The built-in provider {name!r} cannot be removed.")
    with _registry_lock:
        _registry.pop(name, None)
