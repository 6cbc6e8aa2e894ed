"""The capability policy: the catalog advises, the provider decides.

A request is refused before sending only when the catalog states the missing capability as a
documented, dated fact (:meth:`ModelInfo.documents`); a stale or inferred row never blocks what the
provider would accept. Whatever is sent and refused by the provider because the model lacks the
capability (vLLM's ``"auto" tool choice requires --enable-auto-tool-choice ...``, ``The model does
not support Embeddings API``, ``... is not a multimodal model``) comes back as
:class:`~stackit_chutes_core.errors.ProviderCapabilityError`, naming the model and the catalog models
that have the capability. The wrappers below are the transport calls with that translation; chat and
embeddings use them, so both frameworks behave the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from stackit_chutes_core import _transport, catalog
from stackit_chutes_core.catalog import ModelInfo, ModelKind
from stackit_chutes_core.errors import APIStatusError, as_capability_error
from stackit_chutes_core.routing import Endpoint

__all__ = ["apost_json", "apost_stream", "capable_models", "post_json", "post_stream", "refuses_images"]


def refuses_images(info: ModelInfo | None) -> bool:
    """Whether images may be refused before sending: only on a documented, dated text-only row."""
    return info is not None and info.documents("input_modalities") and "image" not in info.input_modalities


def capable_models(provider: str, capability: str, kind: ModelKind = "chat") -> list[str]:
    """Routing names of in-service catalog models of ``provider`` and ``kind`` that have ``capability``."""
    if capability == "embeddings":
        rows = catalog.all_models(provider, "embedding")
    else:
        rows = [m for m in catalog.all_models(provider, kind) if getattr(m.capabilities, capability, False)]
    return [m.qualified_name for m in rows if m.status in ("active", "deprecated")]


def _translated(endpoint: Endpoint, exc: APIStatusError) -> APIStatusError:
    provider = endpoint.provider
    kind: ModelKind = "embedding" if endpoint.purpose == "embeddings" else "chat"
    return as_capability_error(
        exc,
        model=endpoint.route.qualified_name,
        alternatives_for=lambda capability: capable_models(provider, capability, kind),
    )


def post_json(
    endpoint: Endpoint, path: str, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """:func:`stackit_chutes_core._transport.post_json` with capability answers translated."""
    try:
        return _transport.post_json(endpoint, path, body, headers)
    except APIStatusError as exc:
        error = _translated(endpoint, exc)
        if error is exc:
            raise
        raise error from exc


async def apost_json(
    endpoint: Endpoint, path: str, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Async :func:`post_json`."""
    try:
        return await _transport.apost_json(endpoint, path, body, headers)
    except APIStatusError as exc:
        error = _translated(endpoint, exc)
        if error is exc:
            raise
        raise error from exc


def post_stream(
    endpoint: Endpoint, path: str, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    """:func:`stackit_chutes_core._transport.post_stream` with capability answers translated."""
    try:
        yield from _transport.post_stream(endpoint, path, body, headers)
    except APIStatusError as exc:
        error = _translated(endpoint, exc)
        if error is exc:
            raise
        raise error from exc


async def apost_stream(
    endpoint: Endpoint, path: str, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Async :func:`post_stream`."""
    inner = _transport.apost_stream(endpoint, path, body, headers)
    try:
        async for chunk in inner:
            yield chunk
    except APIStatusError as exc:
        error = _translated(endpoint, exc)
        if error is exc:
            raise
        raise error from exc
    finally:
        # an early-closed consumer must close the HTTP stream now, not at garbage collection
        await inner.aclose()  # type: ignore[attr-defined]  # an async generator, typed as its protocol
