"""Model strings -> provider, model id, base URL and key.

``"stackit/openai/gpt-oss-120b"`` splits on the *first* ``/`` only: provider ``stackit``, model id
``openai/gpt-oss-120b`` sent verbatim (``:`` and ``,`` included, for Chutes' ``:THINKING`` and
routing pools). Catalog aliases (Mastra's legacy short names) resolve to the real id.

Keys come from an explicit argument, else the provider's variable (``STACKIT_API_KEY``,
``CHUTES_API_KEY``), else :class:`MissingAPIKeyError` is raised before any request. No ``OPENAI_*``
variable is ever read, and explicit credentials are only used for the provider they were given for.
"""

from __future__ import annotations

import difflib
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from pydantic import SecretStr

from stackit_chutes_core import catalog
from stackit_chutes_core.catalog import ModelInfo
from stackit_chutes_core.errors import ConfigurationError, MissingAPIKeyError, UnknownProviderError
from stackit_chutes_core.providers import Provider, get_provider, known_providers

__all__ = ["DEFAULT_MAX_RESPONSE_BYTES", "Endpoint", "ModelRoute", "Purpose", "parse_model", "resolve_endpoint"]

Purpose = Literal["chat", "embeddings"]

DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
"""Largest response body accepted by default (64 MiB), far above any chat or embeddings answer."""


@dataclass(frozen=True, slots=True)
class ModelRoute:
    """Where a model string points: provider, real model id and catalog row (if known).

    As everywhere in the package, ``provider`` is the provider's *name* (``"stackit"``); the provider's
    row of facts (URLs, key variables, wire renames) is :attr:`provider_config`.
    """

    provider_config: Provider
    """The provider's row of facts."""
    model_id: str
    """The id sent on the wire (aliases resolved)."""
    requested: str
    """The string the caller wrote."""
    info: ModelInfo | None
    """Catalog row, or ``None`` when the catalog does not know the model."""

    @property
    def provider(self) -> str:
        """The provider's name, e.g. ``"stackit"``."""
        return self.provider_config.name

    @property
    def qualified_name(self) -> str:
        """``"<provider>/<model id>"``."""
        return f"{self.provider_config.name}/{self.model_id}"


def _suggest_provider(prefix: str) -> str | None:
    matches = difflib.get_close_matches(prefix.lower(), known_providers(), n=1, cutoff=0.5)
    return matches[0] if matches else None


def _provider_owning(model: str) -> str | None:
    """A provider whose catalog knows ``model`` as a bare id (for "did you mean" hints)."""
    for name in known_providers():
        if catalog.lookup(name, model) is not None:
            return name
    return None


def parse_model(model: str, provider: str | None = None) -> ModelRoute:
    """Route a model string.

    ``provider`` may name the provider explicitly; then ``model`` may be a bare id
    (``"openai/gpt-oss-120b"``) or already carry that prefix.
    """
    if not isinstance(model, str) or not model.strip():
        raise ConfigurationError(
            "model must be a non-empty string like 'stackit/openai/gpt-oss-120b' or 'chutes/<model id>'."
        )
    model = model.strip()
    if provider is not None:
        chosen = get_provider(provider)
        if chosen is None:
            raise UnknownProviderError(provider, known_providers(), _suggest_provider(provider))
        prefix = f"{chosen.name}/"
        model_id = model[len(prefix) :] if model.startswith(prefix) else model
    else:
        head, sep, rest = model.partition("/")
        chosen = get_provider(head) if sep else None
        if chosen is None or not rest:
            owner = _provider_owning(model)
            suggestion = f"{owner}/{model}" if owner else (_suggest_provider(head) if sep else None)
            if not sep or not rest:
                hint = f" Did you mean {suggestion!r}?" if suggestion else ""
                raise ConfigurationError(
                    f"Model {model!r} names no provider.{hint} Write '<provider>/<model id>' with one of "
                    f"{', '.join(known_providers())}, or pass provider=... ."
                )
            raise UnknownProviderError(head, known_providers(), suggestion)
        model_id = rest
    if not model_id:
        raise ConfigurationError(f"Model {model!r} has an empty model id after the provider prefix.")
    real_id = catalog.resolve_alias(chosen.name, model_id)
    return ModelRoute(
        provider_config=chosen,
        model_id=real_id,
        requested=model,
        info=catalog.lookup(chosen.name, real_id),
    )


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A fully resolved target: route, URL, key and client settings; pooled clients are keyed by :attr:`client_key`."""

    route: ModelRoute
    purpose: Purpose
    base_url: str
    api_key: SecretStr = field(repr=False)
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    timeout: float | None = None
    max_retries: int = 2
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    """Cap on one response body; a larger answer raises ``ResponseTooLargeError`` (not retried).

    Together with :attr:`timeout`, which bounds each attempt as a whole (also a body trickled byte by
    byte), it applies to the clients this package builds; a user-supplied ``http_client`` keeps its
    own limits."""
    http_client: Any = field(default=None, compare=False, repr=False)
    """User-owned sync HTTP client handed to the ``openai`` SDK (e.g. for a custom transport)."""
    http_async_client: Any = field(default=None, compare=False, repr=False)

    @property
    def provider(self) -> str:
        """The provider's name, e.g. ``"stackit"``."""
        return self.route.provider_config.name

    @property
    def provider_config(self) -> Provider:
        """The provider's row of facts (URLs, key variables, wire renames)."""
        return self.route.provider_config

    @property
    def model_id(self) -> str:
        """The id sent on the wire."""
        return self.route.model_id

    @property
    def client_key(self) -> tuple[Any, ...]:
        """What makes two endpoints share one pooled client (the key only as a SHA-256 digest)."""
        return (
            self.base_url,
            hashlib.sha256(self.api_key.get_secret_value().encode("utf-8", "surrogatepass")).hexdigest(),
            tuple(sorted(self.headers.items())),
            self.timeout,
            self.max_retries,
            self.max_response_bytes,
            id(self.http_client),
            id(self.http_async_client),
        )


def check_no_authorization(headers: Mapping[str, str], where: str) -> None:
    """Refuse an ``Authorization`` header (any case): the provider key is the only credential sent.

    Letting it through would silently replace the key (or send two), possibly carrying one
    provider's credential to the other; pass ``api_key=...`` instead.
    """
    for name in headers:
        if isinstance(name, str) and name.strip().lower() == "authorization":
            raise ConfigurationError(
                f"{where} must not set {name!r}: the provider key is sent as 'Authorization: Bearer <api_key>' "
                "and a header of that name would replace or duplicate it. Pass api_key=... instead."
            )


def _env(environ: Mapping[str, str], name: str | None) -> str | None:
    if not name:
        return None
    value = environ.get(name)
    return value.strip() if value and value.strip() else None


def resolve_endpoint(
    model: str,
    *,
    provider: str | None = None,
    api_key: str | SecretStr | None = None,
    base_url: str | None = None,
    purpose: Purpose = "chat",
    credentials_for: str | None = None,
    default_headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
    max_retries: int = 2,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    http_client: Any = None,
    http_async_client: Any = None,
    environ: Mapping[str, str] | None = None,
    route: ModelRoute | None = None,
) -> Endpoint:
    """Resolve a model string to an :class:`Endpoint`, raising before any request if it cannot.

    ``api_key`` and ``base_url`` are explicit overrides. With ``credentials_for`` set they apply only
    when the model routes to that provider, so switching a STACKIT-configured model to ``chutes/...``
    at run time never sends the STACKIT key (or URL) to Chutes; the other provider's environment
    variables are used instead. ``route`` skips routing when the caller already has it. An
    ``Authorization`` entry in ``default_headers`` (any case) raises :class:`ConfigurationError`: the
    key is only ever sent as ``api_key``. ``timeout`` bounds each attempt as a whole and
    ``max_response_bytes`` each answer's size (see :class:`Endpoint`).
    """
    if isinstance(max_response_bytes, bool) or not isinstance(max_response_bytes, int) or max_response_bytes < 1:
        raise ConfigurationError(f"max_response_bytes must be a positive integer, got {max_response_bytes!r}.")
    environ = os.environ if environ is None else environ
    route = route or parse_model(model, provider)
    chosen = route.provider_config
    own_credentials = credentials_for is None or credentials_for == chosen.name
    key = api_key if own_credentials else None
    if isinstance(key, SecretStr):
        key_value: str | None = key.get_secret_value() or None
    else:
        key_value = key or None
    if key_value is None:
        key_value = next((v for v in (_env(environ, n) for n in chosen.api_key_env) if v), None)
    if key_value is None:
        raise MissingAPIKeyError(chosen.name, chosen.api_key_env)

    url = base_url if own_credentials and base_url else None
    if url is None and purpose == "embeddings" and chosen.embeddings_base_url:
        url = _env(environ, chosen.embeddings_base_url_env) or chosen.embeddings_base_url
    if url is None:
        url = _env(environ, chosen.base_url_env) or chosen.base_url
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"Base URL {url!r} for provider {chosen.name!r} must start with http(s)://.")

    headers = {**chosen.default_headers, **(default_headers or {})}
    check_no_authorization(headers, "default_headers")
    return Endpoint(
        route=route,
        purpose=purpose,
        base_url=url.rstrip("/"),
        api_key=SecretStr(key_value),
        headers=MappingProxyType(headers),
        timeout=timeout,
        max_retries=max_retries,
        max_response_bytes=max_response_bytes,
        http_client=http_client,
        http_async_client=http_async_client,
    )
