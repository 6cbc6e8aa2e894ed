"""langchain-tests standard suites for StackitChutesEmbeddings: unit (offline) and integration (cassettes).

STACKIT ``intfloat/e5-mistral-7b-instruct`` (e5 query instruction) and Chutes
``Qwen/Qwen3-Embedding-8B`` (served on the separate ``embed.chutes.ai`` host); the integration
classes replay ``cassettes/langchain/test_embeddings_standard/``.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import EmbeddingsIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from langchain_stackit_chutes import StackitChutesEmbeddings
from tests.langchain._standard import init_from_env_params

STACKIT_MODEL = "stackit/intfloat/e5-mistral-7b-instruct"
CHUTES_MODEL = "chutes/Qwen/Qwen3-Embedding-8B"


class _Common:
    @property
    def embeddings_class(self) -> type[StackitChutesEmbeddings]:
        return StackitChutesEmbeddings


class TestStackitEmbeddingsUnit(_Common, EmbeddingsUnitTests):
    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": STACKIT_MODEL, "api_key": "test-stackit-key"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return init_from_env_params("stackit", STACKIT_MODEL)


class TestChutesEmbeddingsUnit(_Common, EmbeddingsUnitTests):
    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": CHUTES_MODEL, "api_key": "test-chutes-key"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return init_from_env_params("chutes", CHUTES_MODEL)


@pytest.mark.vcr
class TestStackitEmbeddingsIntegration(_Common, EmbeddingsIntegrationTests):
    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": STACKIT_MODEL}


@pytest.mark.vcr
class TestChutesEmbeddingsIntegration(_Common, EmbeddingsIntegrationTests):
    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": CHUTES_MODEL}
