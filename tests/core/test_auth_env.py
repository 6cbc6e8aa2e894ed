"""Keys, base URLs and environment hygiene (DESIGN "Auth"; providers.md §1.1, §4.1, §4.2, Implications 1-3).

The conftest sets ``STACKIT_API_KEY`` / ``CHUTES_API_KEY`` to replay keys and scrubs ``OPENAI_*`` and
the base-URL variables for the session; tests here change them with ``monkeypatch``.
"""

from __future__ import annotations

import asyncio

import httpx2
import pytest
from pydantic import SecretStr

from stackit_chutes_core import (
    ChatRequest,
    ConfigurationError,
    EmbeddingItem,
    Message,
    MissingAPIKeyError,
    achat,
    astream_chat,
    chat,
    clear_client_cache,
    embed_items,
    embed_texts,
    resolve_endpoint,
    stream_chat,
)
from stackit_chutes_core._clients import async_client_for, sync_client_for
from tests._http import (
    CHUTES_EMBED_HOST,
    CHUTES_HOST,
    STACKIT_HOST,
    Recorder,
    chat_completion,
    chunk,
    json_response,
    sse_response,
)

HELLO = ChatRequest(messages=[Message(role="user", content="hi")])
EMBEDDING = {"object": "list", "data": [{"index": 0, "object": "embedding", "embedding": [0.5, 0.25]}]}


# --- key precedence ---------------------------------------------------------------------------


def test_explicit_key_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKIT_API_KEY", "from-env")
    recorder = Recorder(json_response(chat_completion()))
    ep = resolve_endpoint("stackit/openai/gpt-oss-120b", api_key="explicit", http_client=recorder.client())
    chat(ep, HELLO)
    assert recorder.last.headers["authorization"] == "Bearer explicit"


def test_explicit_secretstr_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHUTES_API_KEY", "from-env")
    ep = resolve_endpoint("chutes/zai-org/GLM-4.5-Air", api_key=SecretStr("cpk_explicit"))
    assert ep.api_key.get_secret_value() == "cpk_explicit"


@pytest.mark.parametrize(
    ("model", "variable", "host"),
    [
        ("stackit/openai/gpt-oss-120b", "STACKIT_API_KEY", STACKIT_HOST),
        ("chutes/zai-org/GLM-4.5-Air", "CHUTES_API_KEY", CHUTES_HOST),
    ],
)
def test_key_from_provider_variable(monkeypatch: pytest.MonkeyPatch, model: str, variable: str, host: str) -> None:
    monkeypatch.setenv(variable, "  env-key  ")
    recorder = Recorder(json_response(chat_completion()))
    chat(resolve_endpoint(model, http_client=recorder.client(), max_retries=0), HELLO)
    assert recorder.last.headers["authorization"] == "Bearer env-key"
    assert recorder.last.url.host == host


@pytest.mark.parametrize(
    ("model", "variable"),
    [("stackit/openai/gpt-oss-120b", "STACKIT_API_KEY"), ("chutes/zai-org/GLM-4.5-Air", "CHUTES_API_KEY")],
)
def test_missing_key_names_the_variable_before_any_request(
    monkeypatch: pytest.MonkeyPatch, model: str, variable: str
) -> None:
    monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-should-never-be-used")
    recorder = Recorder(json_response(chat_completion()))
    with pytest.raises(MissingAPIKeyError) as caught:
        resolve_endpoint(model, http_client=recorder.client())
    assert variable in str(caught.value)
    assert caught.value.env_vars == (variable,)
    assert isinstance(caught.value, ConfigurationError)
    assert recorder.requests == []


@pytest.mark.parametrize("value", ["", "   "])
def test_blank_key_counts_as_missing(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("STACKIT_API_KEY", value)
    with pytest.raises(MissingAPIKeyError):
        resolve_endpoint("stackit/openai/gpt-oss-120b")
    with pytest.raises(MissingAPIKeyError):
        resolve_endpoint("stackit/openai/gpt-oss-120b", api_key="")


def test_environ_mapping_can_be_injected() -> None:
    ep = resolve_endpoint(
        "chutes/x/y", environ={"CHUTES_API_KEY": "mapped", "CHUTES_BASE_URL": "http://127.0.0.1:9/v1"}
    )
    assert ep.api_key.get_secret_value() == "mapped"
    assert ep.base_url == "http://127.0.0.1:9/v1"


# --- base URLs --------------------------------------------------------------------------------


def test_default_base_urls() -> None:
    assert resolve_endpoint("stackit/openai/gpt-oss-120b").base_url == (
        "https://api.openai-compat.model-serving.eu01.onstackit.cloud/v1"
    )
    assert resolve_endpoint("stackit/intfloat/e5-mistral-7b-instruct", purpose="embeddings").base_url == (
        "https://api.openai-compat.model-serving.eu01.onstackit.cloud/v1"
    )
    assert resolve_endpoint("chutes/zai-org/GLM-4.5-Air").base_url == "https://llm.chutes.ai/v1"
    # §4.1/§4.9: Chutes embeds on another host.
    assert resolve_endpoint("chutes/Qwen/Qwen3-Embedding-8B", purpose="embeddings").base_url == (
        "https://embed.chutes.ai/v1"
    )


def test_stackit_base_url_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKIT_BASE_URL", "https://proxy.example/stackit/v1/")
    recorder = Recorder(json_response(chat_completion()))
    chat(resolve_endpoint("stackit/openai/gpt-oss-120b", http_client=recorder.client()), HELLO)
    assert str(recorder.last.url) == "https://proxy.example/stackit/v1/chat/completions"
    # It also moves STACKIT embeddings (same host for both).
    assert resolve_endpoint("stackit/x/y", purpose="embeddings").base_url == "https://proxy.example/stackit/v1"


def test_chutes_base_url_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHUTES_BASE_URL", "https://chat-proxy.example/v1")
    chat_ep = resolve_endpoint("chutes/zai-org/GLM-4.5-Air")
    assert chat_ep.base_url == "https://chat-proxy.example/v1"
    # CHUTES_BASE_URL does not move embeddings: they keep embed.chutes.ai ...
    assert resolve_endpoint("chutes/Qwen/Qwen3-Embedding-8B", purpose="embeddings").base_url == (
        "https://embed.chutes.ai/v1"
    )
    # ... unless CHUTES_EMBEDDINGS_BASE_URL says otherwise.
    monkeypatch.setenv("CHUTES_EMBEDDINGS_BASE_URL", "https://embed-proxy.example/v1")
    recorder = Recorder(json_response(EMBEDDING))
    ep = resolve_endpoint("chutes/Qwen/Qwen3-Embedding-8B", purpose="embeddings", http_client=recorder.client())
    embed_texts(ep, ["x"])
    assert str(recorder.last.url) == "https://embed-proxy.example/v1/embeddings"


def test_chutes_embeddings_go_to_embed_host_on_the_wire() -> None:
    recorder = Recorder(json_response(EMBEDDING))
    ep = resolve_endpoint("chutes/Qwen/Qwen3-Embedding-8B", purpose="embeddings", http_client=recorder.client())
    embed_texts(ep, ["x"])
    assert recorder.last.url.host == CHUTES_EMBED_HOST
    assert recorder.last.url.path == "/v1/embeddings"


def test_explicit_base_url_beats_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHUTES_BASE_URL", "https://env.example/v1")
    monkeypatch.setenv("CHUTES_EMBEDDINGS_BASE_URL", "https://env-embed.example/v1")
    assert resolve_endpoint("chutes/x/y", base_url="https://arg.example/v1").base_url == "https://arg.example/v1"
    assert (
        resolve_endpoint("chutes/x/y", base_url="https://arg.example/v1", purpose="embeddings").base_url
        == "https://arg.example/v1"
    )


def test_base_url_must_be_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKIT_BASE_URL", "api.example/v1")
    with pytest.raises(ConfigurationError, match="http"):
        resolve_endpoint("stackit/openai/gpt-oss-120b")


# --- secrets ----------------------------------------------------------------------------------


def test_keys_are_secret_and_never_in_repr() -> None:
    ep = resolve_endpoint("stackit/openai/gpt-oss-120b", api_key="super-secret-value")
    assert isinstance(ep.api_key, SecretStr)
    assert "super-secret-value" not in repr(ep)
    assert "super-secret-value" not in str(ep)
    assert "super-secret-value" not in repr(ep.api_key)
    assert "super-secret-value" not in str(ep.route)


# --- no key of one provider ever reaches the other ----------------------------------------------


def test_credentials_for_other_provider_are_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHUTES_API_KEY", "chutes-env-key")
    recorder = Recorder(json_response(chat_completion()))
    # Configured for STACKIT (key + URL), switched to a Chutes model at run time.
    ep = resolve_endpoint(
        "chutes/zai-org/GLM-4.5-Air",
        api_key="stackit-explicit-key",
        base_url="https://stackit-proxy.example/v1",
        credentials_for="stackit",
        http_client=recorder.client(),
    )
    chat(ep, HELLO)
    assert recorder.last.headers["authorization"] == "Bearer chutes-env-key"
    assert recorder.last.url.host == CHUTES_HOST
    assert "stackit-explicit-key" not in str(recorder.last.headers)


def test_credentials_for_other_provider_without_own_key_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHUTES_API_KEY")
    with pytest.raises(MissingAPIKeyError, match="CHUTES_API_KEY"):
        resolve_endpoint("chutes/zai-org/GLM-4.5-Air", api_key="stackit-explicit-key", credentials_for="stackit")


def test_credentials_for_same_provider_are_used() -> None:
    ep = resolve_endpoint(
        "stackit/openai/gpt-oss-120b",
        api_key="stackit-explicit-key",
        base_url="https://stackit-proxy.example/v1",
        credentials_for="stackit",
    )
    assert ep.api_key.get_secret_value() == "stackit-explicit-key"
    assert ep.base_url == "https://stackit-proxy.example/v1"


def test_each_provider_gets_its_own_environment_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKIT_API_KEY", "stackit-env")
    monkeypatch.setenv("CHUTES_API_KEY", "chutes-env")
    recorder = Recorder(json_response(chat_completion()))
    for model in ("stackit/openai/gpt-oss-120b", "chutes/openai/gpt-oss-120b"):
        chat(resolve_endpoint(model, http_client=recorder.client()), HELLO)
    stackit_request, chutes_request = recorder.requests
    assert (stackit_request.url.host, stackit_request.headers["authorization"]) == (STACKIT_HOST, "Bearer stackit-env")
    assert (chutes_request.url.host, chutes_request.headers["authorization"]) == (CHUTES_HOST, "Bearer chutes-env")


# --- OPENAI_* variables are neither read nor sent -----------------------------------------------

OPENAI_ENV = {
    "OPENAI_API_KEY": "sk-openai-leak",
    "OPENAI_BASE_URL": "https://openai-leak.example/v1",
    "OPENAI_API_BASE": "https://openai-leak-base.example/v1",
    "OPENAI_ORG_ID": "org-leak",
    "OPENAI_PROJECT_ID": "proj_leak",
    "OPENAI_ADMIN_KEY": "sk-admin-leak",
    "OPENAI_CUSTOM_HEADERS": "X-Leak: custom-leak\nAuthorization: Bearer custom-auth-leak",
    "OPENAI_WEBHOOK_SECRET": "whsec-leak",
}


def _assert_clean(request: httpx2.Request, host: str, key: str) -> None:
    assert request.url.host == host
    assert request.headers["authorization"] == f"Bearer {key}"
    assert request.headers.get_list("authorization") == [f"Bearer {key}"]
    lowered = {name.lower() for name in request.headers}
    assert "openai-organization" not in lowered
    assert "openai-project" not in lowered
    assert "x-leak" not in lowered
    for name, value in request.headers.items():
        assert "leak" not in value, (name, value)
    assert b"leak" not in request.content


@pytest.fixture
def openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in OPENAI_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("STACKIT_API_KEY", "stackit-key")
    monkeypatch.setenv("CHUTES_API_KEY", "chutes-key")


@pytest.mark.usefixtures("openai_env")
@pytest.mark.parametrize(
    ("model", "host", "key"),
    [
        ("stackit/openai/gpt-oss-120b", STACKIT_HOST, "stackit-key"),
        ("chutes/zai-org/GLM-4.5-Air", CHUTES_HOST, "chutes-key"),
    ],
)
def test_openai_variables_never_reach_chat_requests(model: str, host: str, key: str) -> None:
    recorder = Recorder(
        lambda request: (
            sse_response([chunk({"content": "x"}, finish_reason="stop")])
            if b'"stream"' in request.content
            else json_response(chat_completion())
        )
    )
    ep = resolve_endpoint(model, http_client=recorder.client(), http_async_client=recorder.async_client())
    chat(ep, HELLO)
    list(stream_chat(ep, HELLO))

    async def run_async() -> None:
        await achat(ep, HELLO)
        async for _ in astream_chat(ep, HELLO):
            pass

    asyncio.run(run_async())
    assert len(recorder.requests) == 4
    for request in recorder.requests:
        _assert_clean(request, host, key)


@pytest.mark.usefixtures("openai_env")
@pytest.mark.parametrize(
    ("model", "host", "key"),
    [
        ("stackit/Qwen/Qwen3-VL-Embedding-8B", STACKIT_HOST, "stackit-key"),
        ("chutes/Qwen/Qwen3-Embedding-8B", CHUTES_EMBED_HOST, "chutes-key"),
    ],
)
def test_openai_variables_never_reach_embedding_requests(model: str, host: str, key: str) -> None:
    recorder = Recorder(json_response(EMBEDDING))
    ep = resolve_endpoint(model, purpose="embeddings", http_client=recorder.client())
    embed_texts(ep, ["a"])
    if ep.route.info is not None and ep.route.info.capabilities.image_input:
        embed_items(ep, [EmbeddingItem(text="b", image_url="https://example.org/cat.png")])
    assert recorder.requests
    for request in recorder.requests:
        _assert_clean(request, host, key)


@pytest.mark.usefixtures("openai_env")
def test_openai_variables_ignored_by_pooled_clients_without_custom_http_client() -> None:
    clear_client_cache()
    ep = resolve_endpoint("stackit/openai/gpt-oss-120b")
    client = sync_client_for(ep)
    assert client.organization is None
    assert client.project is None
    assert str(client.base_url).startswith("https://api.openai-compat.model-serving.eu01.onstackit.cloud/v1")
    assert client.api_key == "stackit-key"
    assert "X-Leak" not in client._custom_headers
    assert getattr(client, "admin_api_key", None) is None
    clear_client_cache()


# --- client pooling ----------------------------------------------------------------------------


def test_same_endpoint_same_client() -> None:
    clear_client_cache()
    try:
        first = resolve_endpoint("stackit/openai/gpt-oss-120b", api_key="k1")
        second = resolve_endpoint("stackit/openai/gpt-oss-20b", api_key="k1")  # other model, same endpoint
        assert sync_client_for(first) is sync_client_for(second)
        other_key = resolve_endpoint("stackit/openai/gpt-oss-120b", api_key="k2")
        assert sync_client_for(other_key) is not sync_client_for(first)
        other_provider = resolve_endpoint("chutes/openai/gpt-oss-120b", api_key="k1")
        assert sync_client_for(other_provider) is not sync_client_for(first)
        other_url = resolve_endpoint("stackit/openai/gpt-oss-120b", api_key="k1", base_url="https://p.example/v1")
        assert sync_client_for(other_url) is not sync_client_for(first)
    finally:
        clear_client_cache()


def test_pooled_client_with_custom_http_client_is_shared() -> None:
    recorder = Recorder(json_response(chat_completion()))
    http_client = recorder.client()
    a = resolve_endpoint("stackit/openai/gpt-oss-120b", api_key="k", http_client=http_client)
    b = resolve_endpoint("stackit/openai/gpt-oss-120b", api_key="k", http_client=http_client)
    assert sync_client_for(a) is sync_client_for(b)


def test_async_clients_are_per_event_loop() -> None:
    recorder = Recorder(json_response(chat_completion()))
    ep = resolve_endpoint("chutes/zai-org/GLM-4.5-Air", api_key="k", http_async_client=recorder.async_client())

    async def run() -> object:
        client = async_client_for(ep)
        assert async_client_for(ep) is client  # same loop: pooled
        result = await achat(ep, HELLO)
        assert result.text == "ok"
        return client

    first = asyncio.run(run())
    second = asyncio.run(run())  # a new loop must not reuse the first loop's client
    assert first is not second
    assert len(recorder.requests) == 2
