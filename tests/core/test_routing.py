"""Routing of model strings (providers.md §1.3, "Implications" 2; DESIGN "Routing", "Providers")."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stackit_chutes_core import (
    ChatRequest,
    ConfigurationError,
    Message,
    MissingAPIKeyError,
    UnknownProviderError,
    catalog,
    chat,
    get_provider,
    known_providers,
    parse_model,
    register_provider,
    resolve_endpoint,
)
from stackit_chutes_core.providers import unregister_provider
from tests._http import Recorder, chat_completion, endpoint, json_response


@pytest.mark.parametrize(
    ("model", "provider", "model_id"),
    [
        # §1.3: split on the first "/" only, the rest is sent verbatim.
        ("stackit/Qwen/Qwen3-VL-Embedding-8B", "stackit", "Qwen/Qwen3-VL-Embedding-8B"),
        ("stackit/openai/gpt-oss-120b", "stackit", "openai/gpt-oss-120b"),
        ("chutes/zai-org/GLM-4.5-Air", "chutes", "zai-org/GLM-4.5-Air"),
        # §4.5: ":THINKING" suffix is part of the Chutes id.
        ("chutes/deepseek-ai/DeepSeek-V3.1:THINKING", "chutes", "deepseek-ai/DeepSeek-V3.1:THINKING"),
        # §4.4: inline routing pools with "," and ":latency"/":throughput".
        (
            "chutes/zai-org/GLM-5-TEE,moonshotai/Kimi-K2.6-TEE:latency",
            "chutes",
            "zai-org/GLM-5-TEE,moonshotai/Kimi-K2.6-TEE:latency",
        ),
        ("chutes/a,b:throughput", "chutes", "a,b:throughput"),
        # A model id without any "/" of its own.
        ("chutes/Nemotron-3-Nano-Omni-30B-TEE", "chutes", "Nemotron-3-Nano-Omni-30B-TEE"),
        # Ids nobody knows are still routed (the catalog never blocks).
        ("stackit/some-org/brand-new-model", "stackit", "some-org/brand-new-model"),
    ],
)
def test_provider_prefix_split_on_first_slash_only(model: str, provider: str, model_id: str) -> None:
    route = parse_model(model)
    assert route.provider == provider
    assert route.model_id == model_id
    assert route.requested == model
    assert route.qualified_name == f"{provider}/{model_id}"


def test_routed_id_is_sent_verbatim_on_the_wire() -> None:
    recorder = Recorder(json_response(chat_completion()))
    pool = "chutes/zai-org/GLM-5-TEE,moonshotai/Kimi-K2.6-TEE:latency"
    chat(endpoint(pool, recorder), ChatRequest(messages=[Message(role="user", content="hi")]))
    assert recorder.last_body()["model"] == "zai-org/GLM-5-TEE,moonshotai/Kimi-K2.6-TEE:latency"
    assert recorder.last.url.host == "llm.chutes.ai"
    assert recorder.last.url.path == "/v1/chat/completions"


# providers.md §1.3: the legacy models.dev short ids -> real STACKIT ids.
@pytest.mark.parametrize(
    ("short", "real"),
    [
        ("e5-mistral-7b", "intfloat/e5-mistral-7b-instruct"),
        ("qwen3-vl-embedding-8b", "Qwen/Qwen3-VL-Embedding-8B"),
        ("gpt-oss-120b", "openai/gpt-oss-120b"),
        ("llama-3.3-70b", "cortecs/Llama-3.3-70B-Instruct-FP8-Dynamic"),
        ("llama-3.1-8b", "neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8"),
        ("mistral-nemo", "neuralmagic/Mistral-Nemo-Instruct-2407-FP8"),
        ("gemma-3-27b", "google/gemma-3-27b-it"),
        ("qwen3-vl-235b", "Qwen/Qwen3-VL-235B-A22B-Instruct-FP8"),
    ],
)
def test_stackit_short_aliases_resolve_to_real_ids(short: str, real: str) -> None:
    route = parse_model(f"stackit/{short}")
    assert route.model_id == real
    assert route.requested == f"stackit/{short}"
    assert route.info is not None
    assert route.info.id == real


def test_alias_is_resolved_before_sending() -> None:
    recorder = Recorder(json_response(chat_completion()))
    chat(endpoint("stackit/gpt-oss-120b", recorder), ChatRequest(messages=[Message(role="user", content="hi")]))
    assert recorder.last_body()["model"] == "openai/gpt-oss-120b"


def test_stackit_aliases_do_not_apply_to_chutes() -> None:
    # "gpt-oss-120b" is a STACKIT alias only; on Chutes it is an (unknown) id sent as is.
    route = parse_model("chutes/gpt-oss-120b")
    assert route.model_id == "gpt-oss-120b"
    assert route.info is None


def test_catalog_lookup_through_routing() -> None:
    known = parse_model("stackit/intfloat/e5-mistral-7b-instruct")
    assert known.info is not None
    assert known.info.kind == "embedding"
    assert known.info.embedding_dimensions == 4096
    assert known.info is catalog.lookup("stackit", "intfloat/e5-mistral-7b-instruct")
    # Same id, other provider: its own row.
    chutes_oss = parse_model("chutes/openai/gpt-oss-120b")
    assert chutes_oss.info is not None
    assert chutes_oss.info.provider == "chutes"
    # Unknown models route with info None ("unknown"), never an error.
    assert parse_model("chutes/unknown-org/unknown-model").info is None


def test_unknown_provider_lists_known_ones_and_suggests_closest() -> None:
    with pytest.raises(UnknownProviderError) as caught:
        parse_model("stackt/openai/gpt-oss-120b")
    error = caught.value
    assert error.provider == "stackt"
    assert error.suggestion == "stackit"
    assert set(error.known) >= {"stackit", "chutes"}
    message = str(error)
    assert "'stackit'" in message
    assert "chutes" in message
    assert isinstance(error, ConfigurationError)


def test_unknown_provider_chutes_typo() -> None:
    with pytest.raises(UnknownProviderError) as caught:
        parse_model("chute/zai-org/GLM-4.5-Air")
    assert caught.value.suggestion == "chutes"


def test_model_without_provider_prefix_suggests_qualified_name() -> None:
    # "openai" is no provider; the catalog knows the whole string as a STACKIT id.
    with pytest.raises(UnknownProviderError) as caught:
        parse_model("openai/gpt-oss-20b")
    assert caught.value.suggestion == "stackit/openai/gpt-oss-20b"
    assert "stackit/openai/gpt-oss-20b" in str(caught.value)


def test_bare_name_without_slash_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="names no provider"):
        parse_model("gpt-oss-120b")


@pytest.mark.parametrize("bad", ["", "   ", "stackit/", "chutes/"])
def test_empty_model_strings_are_rejected(bad: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_model(bad)


def test_provider_less_id_with_explicit_provider() -> None:
    route = parse_model("openai/gpt-oss-120b", provider="chutes")
    assert route.provider == "chutes"
    assert route.model_id == "openai/gpt-oss-120b"
    # With the prefix already written, it is not doubled.
    again = parse_model("stackit/openai/gpt-oss-120b", provider="stackit")
    assert again.model_id == "openai/gpt-oss-120b"
    # Aliases resolve with an explicit provider too.
    assert parse_model("e5-mistral-7b", provider="stackit").model_id == "intfloat/e5-mistral-7b-instruct"


def test_explicit_provider_routes_the_request() -> None:
    recorder = Recorder(json_response(chat_completion()))
    ep = endpoint("deepseek-ai/DeepSeek-V3.1:THINKING", recorder, provider="chutes")
    chat(ep, ChatRequest(messages=[Message(role="user", content="hi")]))
    assert recorder.last.url.host == "llm.chutes.ai"
    assert recorder.last_body()["model"] == "deepseek-ai/DeepSeek-V3.1:THINKING"


def test_explicit_unknown_provider() -> None:
    with pytest.raises(UnknownProviderError) as caught:
        parse_model("openai/gpt-oss-120b", provider="chutez")
    assert caught.value.suggestion == "chutes"


@pytest.fixture
def acme() -> Iterator[str]:
    register_provider(
        "acme",
        base_url="https://llm.acme.example/v1/",
        api_key_env="ACME_API_KEY",
        base_url_env="ACME_BASE_URL",
        display_name="ACME",
        currency="EUR",
    )
    try:
        yield "acme"
    finally:
        unregister_provider("acme")


def test_register_provider_routes_to_another_endpoint(acme: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_API_KEY", "acme-secret")
    assert acme in known_providers()
    provider = get_provider(acme)
    assert provider is not None
    assert provider.base_url == "https://llm.acme.example/v1"
    route = parse_model("acme/org/model:variant")
    assert route.provider == "acme"
    assert route.model_id == "org/model:variant"
    recorder = Recorder(json_response(chat_completion()))
    ep = resolve_endpoint("acme/org/model:variant", http_client=recorder.client(), max_retries=0)
    chat(ep, ChatRequest(messages=[Message(role="user", content="hi")], max_tokens=7))
    request = recorder.last
    assert request.url.host == "llm.acme.example"
    assert request.url.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer acme-secret"
    body = recorder.last_body()
    assert body["model"] == "org/model:variant"
    assert body["max_tokens"] == 7  # the default rename for registered endpoints


def test_registered_provider_base_url_variable(acme: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_API_KEY", "acme-secret")
    monkeypatch.setenv("ACME_BASE_URL", "http://127.0.0.1:8080/v1")
    assert resolve_endpoint("acme/m").base_url == "http://127.0.0.1:8080/v1"
    monkeypatch.delenv("ACME_API_KEY")
    with pytest.raises(MissingAPIKeyError, match="ACME_API_KEY"):
        resolve_endpoint("acme/m")


def test_register_provider_refuses_duplicates_and_openai_variables(acme: str) -> None:
    with pytest.raises(ConfigurationError, match="already registered"):
        register_provider(acme, base_url="https://x.example/v1", api_key_env="X_KEY")
    with pytest.raises(ConfigurationError):
        register_provider("other", base_url="https://x.example/v1", api_key_env="OPENAI_API_KEY")
    with pytest.raises(ConfigurationError):
        register_provider("bad/name", base_url="https://x.example/v1", api_key_env="X_KEY")
    with pytest.raises(ConfigurationError):
        register_provider("noscheme", base_url="x.example/v1", api_key_env="X_KEY")
    assert "other" not in known_providers()


def test_builtin_providers_cannot_be_unregistered() -> None:
    with pytest.raises(ConfigurationError):
        unregister_provider("stackit")
    assert get_provider("stackit") is not None


def test_unknown_provider_suggests_registered_one(acme: str) -> None:
    with pytest.raises(UnknownProviderError) as caught:
        parse_model("acm/some/model")
    assert caught.value.suggestion == "acme"
    assert "acme" in caught.value.known
