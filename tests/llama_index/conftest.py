"""Fixtures of the LlamaIndex adapter tests (the environment and cassettes come from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from llama_index.core import Settings

from llama_index_stackit_chutes import StackitChutes, StackitChutesEmbedding
from tests.llama_index._helpers import CHAT_MODELS, EMBED_MODELS, PROVIDERS


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest) -> str:
    """Both providers, one test run each."""
    return str(request.param)


@pytest.fixture
def llm(provider: str) -> StackitChutes:
    """The provider's standard chat model (tools; reasoning on STACKIT)."""
    return StackitChutes(model=CHAT_MODELS[provider], temperature=0.0)


@pytest.fixture
def embed_model(provider: str) -> StackitChutesEmbedding:
    """The provider's text embedding model."""
    return StackitChutesEmbedding(model_name=EMBED_MODELS[provider])


@pytest.fixture
def clean_settings() -> Iterator[None]:
    """Restore LlamaIndex's global Settings after a test that sets them."""
    saved = (Settings._llm, Settings._embed_model, Settings._callback_manager)
    try:
        yield
    finally:
        Settings._llm, Settings._embed_model, Settings._callback_manager = saved
