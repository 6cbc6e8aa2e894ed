"""Shared settings of the langchain-tests standard suites (chat and embeddings)."""

from __future__ import annotations

from typing import Any


def init_from_env_params(provider: str, model: str) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
    """``init_from_env_params`` of a standard suite: the provider's key variable, init args, expected attributes."""
    key = f"env-{provider}-key"
    return (
        {f"{provider.upper()}_API_KEY": key},
        {"model": model},
        {"api_key": key, "credentials_provider": provider, "model": model},
    )
