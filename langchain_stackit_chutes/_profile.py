"""LangChain ``ModelProfile`` from the core catalog (what ``create_agent`` and middleware read)."""

from __future__ import annotations

from langchain_core.language_models import ModelProfile

import stackit_chutes_core as core

__all__ = ["catalog_profile"]


def catalog_profile(info: core.ModelInfo | None) -> ModelProfile | None:
    """A LangChain ``ModelProfile`` from a catalog row (``None`` for a model the catalog does not know)."""
    if info is None or info.kind != "chat":
        return None
    caps = info.capabilities
    profile = ModelProfile(
        name=info.qualified_name,
        status=info.status,
        text_inputs=True,
        image_inputs=caps.image_input,
        image_url_inputs=caps.image_input,
        pdf_inputs=False,
        audio_inputs=False,
        video_inputs=False,
        image_tool_message=False,
        pdf_tool_message=False,
        text_outputs=True,
        image_outputs=False,
        audio_outputs=False,
        video_outputs=False,
        reasoning_output=caps.reasoning,
        tool_calling=caps.tools,
        tool_choice=caps.tools,
        tool_call_streaming=caps.tools,
        structured_output=caps.structured_output,
        temperature=True,
    )
    if info.context_window:
        profile["max_input_tokens"] = info.context_window
    if info.max_output_tokens:
        profile["max_output_tokens"] = info.max_output_tokens
    if caps.reasoning_effort:
        profile["reasoning_effort_levels"] = list(caps.reasoning_effort)
    return profile
