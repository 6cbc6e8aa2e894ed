"""The capability policy: the catalog advises, the provider decides.

A request is refused before sending only when the catalog states the missing capability as a
documented, dated fact (:meth:`ModelInfo.documents`); a stale or inferred row never blocks what the
provider would accept. Whatever is sent and refused by the provider because the model lacks the
capability (vLLM's ``"auto" tool choice requires --enable-auto-tool-choice ...``, ``The model does
not support Embeddings API``, ``... is not a multimodal model``) comes back as
:class:`~stackit_chutes_core.errors.ProviderCapabilityError`, naming the model and the catalog models
that have the capability. The transport applies :func:`capability_error` to every status error, so
chat, streams and embeddings (and both frameworks) behave the same.
"""

from __future__ import annotations

from stackit_chutes_core import catalog
from stackit_chutes_core.catalog import ModelInfo, ModelKind
from stackit_chutes_core.errors import APIStatusError, as_capability_error
from stackit_chutes_core.routing import Endpoint

__all__ = ["capability_error", "capable_models", "refuses_images"]


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


def capability_error(endpoint: Endpoint, exc: APIStatusError) -> APIStatusError:
    """``exc`` as a :class:`ProviderCapabilityError` when the provider says the model lacks a capability.

    Called by the transport for every status error, so chat, streams and embeddings all get it.
    """
    provider = endpoint.provider
    kind: ModelKind = "embedding" if endpoint.purpose == "embeddings" else "chat"
    return as_capability_error(
        exc,
        model=endpoint.route.qualified_name,
        alternatives_for=lambda capability: capable_models(provider, capability, kind),
    )
