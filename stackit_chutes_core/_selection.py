"""Model selection: filter the catalog by provider, kind, capabilities, confidentiality, price, context.

The CLI's ``models`` command is a view of :func:`list_models`; both read only the packaged catalog
unless ``live=True`` asks for the providers' ``GET /models`` listings first.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation

from stackit_chutes_core import catalog
from stackit_chutes_core.catalog import ModelInfo, ModelKind
from stackit_chutes_core.errors import InvalidInputError, MissingAPIKeyError, UnknownProviderError
from stackit_chutes_core.providers import get_provider, known_providers

__all__ = ["CAPABILITY_NAMES", "has_capability", "is_confidential", "list_models"]

_CHECKS: Mapping[str, Callable[[ModelInfo], bool]] = {
    "tools": lambda info: info.capabilities.tools,
    "reasoning": lambda info: info.capabilities.reasoning,
    "vision": lambda info: info.capabilities.image_input,
    "structured": lambda info: info.capabilities.structured_output,
    "dimensions": lambda info: info.accepts_dimensions,
}
_SYNONYMS = {"image_input": "vision", "images": "vision", "structured_output": "structured"}

CAPABILITY_NAMES: tuple[str, ...] = tuple(_CHECKS)
"""Capability names :func:`list_models` and the CLI accept (``image_input``/``structured_output`` too)."""


def _capability(name: str) -> str:
    key = _SYNONYMS.get(name.strip().lower(), name.strip().lower())
    if key not in _CHECKS:
        raise InvalidInputError(f"Unknown capability {name!r}; use one of {', '.join(CAPABILITY_NAMES)}.")
    return key


def has_capability(info: ModelInfo, name: str) -> bool:
    """Whether the catalog row says the model can do ``name`` (see :data:`CAPABILITY_NAMES`)."""
    return _CHECKS[_capability(name)](info)


def is_confidential(info: ModelInfo) -> bool:
    """Whether the model runs in a trusted execution environment (Chutes' ``-TEE`` ids)."""
    flag = getattr(info, "confidential_compute", None)  # a catalog flag wins when the catalog has one
    if isinstance(flag, bool):
        return flag
    return info.id.upper().endswith("-TEE")


def _price_limit(max_price: float | str | Decimal | None) -> Decimal | None:
    if max_price is None:
        return None
    try:
        limit = Decimal(str(max_price))
    except InvalidOperation:
        raise InvalidInputError(f"max_price must be a number (price per 1M input tokens), got {max_price!r}.") from None
    if not limit.is_finite() or limit < 0:
        raise InvalidInputError(f"max_price must be a non-negative number, got {max_price!r}.")
    return limit


def _refresh(provider: str | None, environ: Mapping[str, str] | None) -> None:
    from stackit_chutes_core._discovery import refresh_catalog  # imports the HTTP stack: only when asked

    if provider is not None:
        refresh_catalog(provider, environ=environ)
        return
    for name in known_providers():
        try:
            refresh_catalog(name, environ=environ)
        except MissingAPIKeyError as exc:  # all providers asked for: one without a key keeps its packaged rows
            warnings.warn(f"{name}: packaged catalog only ({exc})", stacklevel=3)


def list_models(
    provider: str | None = None,
    kind: ModelKind | None = None,
    *,
    capabilities: Iterable[str] = (),
    confidential_compute: bool | None = None,
    max_price: float | str | Decimal | None = None,
    min_context: int | None = None,
    live: bool = False,
    environ: Mapping[str, str] | None = None,
) -> list[ModelInfo]:
    """Catalog rows matching every given filter, in catalog order.

    ``capabilities`` names what the model must do (``"tools"``, ``"reasoning"``, ``"vision"``,
    ``"structured"``, ``"dimensions"``); ``confidential_compute=True`` keeps only TEE models (``False``
    drops them); ``max_price`` bounds the input price per 1M tokens in the provider's own currency
    (rows without a price are dropped); ``min_context`` bounds the context window (rows without one are
    dropped). ``live=True`` first merges the providers' ``GET /models`` listings (needs network; STACKIT
    also needs its key: without one, and no ``provider`` given, its packaged rows stay and a warning says so).
    """
    if provider is not None and get_provider(provider) is None:
        raise UnknownProviderError(provider, known_providers())
    if kind is not None and kind not in ("chat", "embedding"):
        raise InvalidInputError(f"kind must be 'chat' or 'embedding', got {kind!r}.")
    wanted = [_capability(name) for name in ([capabilities] if isinstance(capabilities, str) else capabilities)]
    limit = _price_limit(max_price)
    if min_context is not None and (isinstance(min_context, bool) or not isinstance(min_context, int)):
        raise InvalidInputError(f"min_context must be an integer number of tokens, got {min_context!r}.")
    if live:
        _refresh(provider, environ)
    rows = []
    for info in catalog.all_models(provider=provider, kind=kind):
        if any(not _CHECKS[name](info) for name in wanted):
            continue
        if confidential_compute is not None and is_confidential(info) != confidential_compute:
            continue
        if limit is not None and (info.price is None or info.price.input > limit):
            continue
        if min_context is not None and (info.context_window is None or info.context_window < min_context):
            continue
        rows.append(info)
    return rows
