"""Construction errors reach the user as this package's typed errors in both frameworks, not wrapped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import stackit_chutes_core as core
from langchain_stackit_chutes import ChatStackitChutes, StackitChutesEmbeddings
from llama_index_stackit_chutes import StackitChutes, StackitChutesEmbedding

BUILDERS: list[tuple[str, Callable[[str], Any]]] = [
    ("langchain chat", lambda m: ChatStackitChutes(model=m)),
    ("langchain embeddings", lambda m: StackitChutesEmbeddings(model=m)),
    ("llama-index llm", lambda m: StackitChutes(model=m)),
    ("llama-index embedding", lambda m: StackitChutesEmbedding(model_name=m)),
]


@pytest.mark.parametrize(("label", "build"), BUILDERS, ids=[b[0] for b in BUILDERS])
def test_unknown_provider_suggests_the_routed_name(label: str, build: Callable[[str], Any]) -> None:
    with pytest.raises(core.UnknownProviderError) as caught:
        build("stakit/openai/gpt-oss-120b")
    assert caught.value.suggestion == "stackit"
    assert "stackit, chutes" in str(caught.value)


@pytest.mark.parametrize(("label", "build"), BUILDERS, ids=[b[0] for b in BUILDERS])
def test_missing_key_names_the_variable(
    label: str, build: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHUTES_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-never-used")
    model = "chutes/Qwen/Qwen3-Embedding-8B" if "embed" in label else "chutes/deepseek-ai/DeepSeek-V3.2-TEE"
    with pytest.raises(core.MissingAPIKeyError, match="CHUTES_API_KEY") as caught:
        build(model)
    assert caught.value.env_vars == ("CHUTES_API_KEY",)


def test_every_error_pickles_with_its_attributes() -> None:
    """Process pools send a worker's error back to the parent by pickling it."""
    import pickle

    from stackit_chutes_core import errors

    rate = errors.error_from_response(
        provider="chutes", status_code=429, body={"detail": "busy"}, headers={}, model="m"
    )
    missing = errors.MissingAPIKeyError("chutes", ("CHUTES_API_KEY",))
    unknown = errors.UnknownProviderError("stackt", ("stackit", "chutes"), "stackit")
    for error in (rate, missing, unknown, errors.CapabilityError("no images")):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert str(copy) == str(error)
        assert vars(copy) == vars(error)
    assert pickle.loads(pickle.dumps(rate)).model == "m"
