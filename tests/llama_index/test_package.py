"""Package surface: exports, the missing-extra error, class hierarchy, metadata and serialisation hygiene."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import pytest
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.base.llms.base import BaseLLM
from llama_index.core.embeddings.multi_modal_base import MultiModalEmbedding
from llama_index.core.llms.function_calling import FunctionCallingLLM

import llama_index_stackit_chutes
from llama_index_stackit_chutes import StackitChutes, StackitChutesEmbedding
from llama_index_stackit_chutes import llms as llms_module
from stackit_chutes_core import ConfigurationError, UnknownProviderError, __version__
from stackit_chutes_core import _connection as core_connection
from tests.llama_index._helpers import CHAT_MODELS, EMBED_MODELS


def test_exports() -> None:
    assert llama_index_stackit_chutes.__all__ == [
        "StackitChutes",
        "StackitChutesCostHandler",
        "StackitChutesEmbedding",
        "__version__",
    ]
    assert llama_index_stackit_chutes.__version__ == __version__


def test_missing_extra_names_the_install_command() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["llama_index.core"] = None  # simulate an install without the extra
        try:
            import llama_index_stackit_chutes
        except ImportError as exc:
            print(exc)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 'stackit-chutes[llama-index]'" in out


class TestHierarchy:
    def test_llm_class(self) -> None:
        names = [base.__name__ for base in StackitChutes.__mro__]
        assert BaseLLM.__name__ in names
        llm = StackitChutes(model=CHAT_MODELS["stackit"])
        assert isinstance(llm, FunctionCallingLLM)
        assert StackitChutes.class_name() == "StackitChutes_llm"

    def test_embedding_class(self) -> None:
        model = StackitChutesEmbedding(model_name=EMBED_MODELS["chutes"])
        assert isinstance(model, MultiModalEmbedding)
        assert isinstance(model, BaseEmbedding)
        assert StackitChutesEmbedding.class_name() == "StackitChutesEmbedding"

    def test_no_abstract_methods_left(self) -> None:
        assert not StackitChutes.__abstractmethods__
        assert not StackitChutesEmbedding.__abstractmethods__


class TestConstruction:
    def test_positional_model(self) -> None:
        assert StackitChutes("chutes/deepseek-ai/DeepSeek-V3.2-TEE").model == "chutes/deepseek-ai/DeepSeek-V3.2-TEE"
        assert StackitChutesEmbedding("stackit/intfloat/e5-mistral-7b-instruct").model_name.startswith("stackit/")
        assert StackitChutesEmbedding(model="chutes/Qwen/Qwen3-Embedding-8B").model_name.startswith("chutes/")

    def test_unknown_provider_fails_at_construction(self) -> None:
        with pytest.raises(UnknownProviderError, match="stackit"):
            StackitChutes(model="stackti/openai/gpt-oss-120b")
        with pytest.raises(UnknownProviderError):
            StackitChutesEmbedding(model_name="openai/text-embedding-3-small")

    def test_bare_model_with_provider(self) -> None:
        llm = StackitChutes(model="openai/gpt-oss-120b", provider="stackit")
        assert llm.metadata.model_name == "stackit/openai/gpt-oss-120b"

    def test_model_without_provider_is_a_configuration_error(self) -> None:
        with pytest.raises(ConfigurationError, match="names no provider"):
            StackitChutes(model="gpt-oss-120b")

    def test_embedding_needs_a_model(self) -> None:
        with pytest.raises(ValueError, match="model_name"):
            StackitChutesEmbedding()

    def test_embedding_defaults(self) -> None:
        model = StackitChutesEmbedding(model_name=EMBED_MODELS["stackit"])
        assert model.embed_batch_size == 64
        assert model.num_workers == 4
        assert StackitChutesEmbedding(model_name=EMBED_MODELS["stackit"], embed_batch_size=8).embed_batch_size == 8


class TestSecrets:
    def test_key_never_serialised(self) -> None:
        llm = StackitChutes(model=CHAT_MODELS["stackit"], api_key="sk-very-secret")
        embed = StackitChutesEmbedding(model_name=EMBED_MODELS["stackit"], api_key="sk-very-secret")
        for text in (repr(llm), str(llm.to_dict()), llm.to_json(), str(llm.to_payload()), repr(embed), embed.to_json()):
            assert "sk-very-secret" not in text
        assert "api_key" not in llm.to_dict()
        assert "api_key" not in embed.to_dict()


class TestMetadata:
    def test_stackit_catalog(self) -> None:
        meta = StackitChutes(model=CHAT_MODELS["stackit"]).metadata
        assert meta.context_window == 131_000
        assert meta.num_output == 8_192
        assert meta.is_chat_model
        assert meta.is_function_calling_model
        assert meta.model_name == "stackit/openai/gpt-oss-120b"

    def test_chutes_catalog(self) -> None:
        meta = StackitChutes(model=CHAT_MODELS["chutes"]).metadata
        assert meta.context_window == 131_072
        assert meta.num_output == 131_072 // 4  # max output 65,536 is capped at a quarter of the window
        assert meta.is_function_calling_model

    def test_max_tokens_is_num_output(self) -> None:
        assert StackitChutes(model=CHAT_MODELS["chutes"], max_tokens=512).metadata.num_output == 512

    def test_model_without_tools(self) -> None:
        meta = StackitChutes(model="chutes/unsloth/Mistral-Nemo-Instruct-2407-TEE").metadata
        assert not meta.is_function_calling_model

    def test_overrides(self) -> None:
        llm = StackitChutes(
            model="chutes/unsloth/Mistral-Nemo-Instruct-2407-TEE", context_window=4096, is_function_calling_model=True
        )
        assert llm.metadata.context_window == 4096
        assert llm.metadata.is_function_calling_model

    def test_unknown_model_gets_explicit_default_and_one_warning(self, caplog: pytest.LogCaptureFixture) -> None:
        core_connection._warned_unknown.discard("chutes/acme/brand-new-model")
        with caplog.at_level(logging.WARNING, logger="stackit_chutes"):
            llm = StackitChutes(model="chutes/acme/brand-new-model")
            meta = llm.metadata
            _ = llm.metadata
        assert meta.context_window == llms_module.DEFAULT_CONTEXT_WINDOW == 32_768
        assert meta.num_output == -1
        assert meta.is_function_calling_model  # unknown: assume tools (both providers' servers support them)
        warnings = [r for r in caplog.records if "brand-new-model" in r.getMessage()]
        assert len(warnings) == 1
        assert "context_window" in warnings[0].getMessage()
