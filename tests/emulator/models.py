"""The emulator's own model table (independent of the package under test).

Each host knows a fixed set of models. Capabilities follow ``providers.md``: context windows,
image input, tool support, and where/how a model reports its reasoning:

* ``"reasoning"`` / ``"reasoning_content"`` -- a reasoning model; the *field* is per host, not per
  model: STACKIT answers ``reasoning`` (vLLM >= 0.16, no evidence of a per-model split), Chutes
  ``reasoning_content`` (SGLang / older vLLM),
* ``"think"`` -- ``<think>...</think>`` inside ``content`` (Chutes ids containing ``R1``).

``reasoning_mode``: ``"always"`` (cannot be switched off), ``"on"`` (hybrid, on by default,
``enable_thinking: false`` disables it), ``"off"`` (hybrid, off unless enabled).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from tests.emulator.errors import Provider, model_not_found, provider_error, vllm_error

ReasoningField = Literal["reasoning", "reasoning_content", "think"]
ReasoningMode = Literal["always", "on", "off"]

CREATED = 1_767_225_600  # 2026-01-01T00:00:00Z, fixed so listings are reproducible


@dataclass(frozen=True)
class ModelSpec:
    """Static facts about one model served by one emulated host."""

    id: str
    kind: Literal["chat", "embedding"] = "chat"
    context: int = 131_072
    max_output: int = 8_192
    reasoning_field: ReasoningField | None = None
    reasoning_mode: ReasoningMode | None = None
    vision: bool = False
    tools: bool = True
    max_images: int | None = None
    embed_dim: int = 4096
    dimensions_range: tuple[int, int] | None = None
    price: tuple[float, float, float] = (0.2, 0.8, 0.1)
    tee: bool = False
    sparse_listing: bool = False


def _chat(mid: str, ctx: int, out: int = 8_192, **kw: Any) -> ModelSpec:
    return ModelSpec(id=mid, context=ctx, max_output=out, **kw)


_R: dict[str, Any] = {"reasoning_field": "reasoning", "reasoning_mode": "always"}
_RC_ALWAYS: dict[str, Any] = {"reasoning_field": "reasoning_content", "reasoning_mode": "always"}
_RC_ON: dict[str, Any] = {"reasoning_field": "reasoning_content", "reasoning_mode": "on"}
_RC_OFF: dict[str, Any] = {"reasoning_field": "reasoning_content", "reasoning_mode": "off"}
_THINK: dict[str, Any] = {"reasoning_field": "think", "reasoning_mode": "always"}
_VLM10: dict[str, Any] = {"vision": True, "max_images": 10}

STACKIT_MODELS: dict[str, ModelSpec] = {
    m.id: m
    for m in [
        _chat("openai/gpt-oss-120b", 131_072, **_R),
        _chat("openai/gpt-oss-20b", 131_072, **_R),
        _chat("cortecs/Llama-3.3-70B-Instruct-FP8-Dynamic", 128_000, 4_096),
        _chat("Qwen/Qwen3-VL-235B-A22B-Instruct-FP8", 218_000, 16_384, **_VLM10),
        _chat("google/gemma-3-27b-it", 37_000, 4_096, tools=False, **_VLM10),
        _chat("google/gemma-4-31B-it", 262_144, 4_096, reasoning_field="reasoning", reasoning_mode="off", **_VLM10),
        _chat("Qwen/Qwen3.8-27B", 262_144, 16_384, **_RC_ON, **_VLM10),
        _chat("Qwen/Qwen3.6-27B", 262_144, 16_384),
        _chat("neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8", 128_000),
        # no tool parser: a tools request gets vLLM's 400 (Onyx runbook, live 2026-03-08)
        _chat("neuralmagic/Mistral-Nemo-Instruct-2407-FP8", 128_000, tools=False),
        ModelSpec("intfloat/e5-mistral-7b-instruct", "embedding", 4_096, 0, tools=False, price=(0.02, 0.02, 0)),
        ModelSpec(
            "Qwen/Qwen3-VL-Embedding-8B",
            "embedding",
            32_768,
            0,
            tools=False,
            vision=True,
            max_images=10,
            dimensions_range=(64, 4096),
            price=(0.09, 0.09, 0),
        ),
    ]
}

_TEE: dict[str, Any] = {"tee": True}

CHUTES_MODELS: dict[str, ModelSpec] = {
    m.id: m
    for m in [
        # TEE catalog: the 2026-09-28 listing (juspay/neurolink chutes.json) plus three models it no
        # longer lists (MiniMax-M2.5, GLM-5, Kimi-K2.5), still served here for old cassettes.
        _chat("Qwen/Qwen3-32B-TEE", 40_960, 40_960, price=(0.104, 0.416, 0.052), **_RC_ON, **_TEE),
        _chat("MiniMaxAI/MiniMax-M2.5-TEE", 196_608, 65_536, price=(0.15, 1.2, 0.075), **_RC_ALWAYS, **_TEE),
        _chat(
            "Qwen/Qwen3-235B-A22B-Thinking-2507-TEE",
            262_144,
            262_144,
            price=(0.2989, 1.1957, 0.14945),
            **_RC_ALWAYS,
            **_TEE,
        ),
        _chat("Qwen/Qwen3.5-397B-A17B-TEE", 262_144, 65_536, vision=True, price=(0.45, 3, 0.045), **_RC_ON, **_TEE),
        _chat("Qwen/Qwen3.6-27B-TEE", 262_144, 65_536, vision=True, price=(0.3, 2, 0.03), **_RC_ON, **_TEE),
        _chat("Qwen/Qwen3.8-27B-TEE", 262_144, 65_536, vision=True, price=(0.24, 2.2, 0.024), **_RC_ON, **_TEE),
        _chat("deepseek-ai/DeepSeek-V3.2-TEE", 131_072, 65_536, price=(1, 1, 0.1), **_RC_OFF, **_TEE),
        _chat(
            "deepseek-ai/DeepSeek-V4-Flash-0731-TEE", 1_048_576, 131_072, price=(0.44, 1.32, 0.044), **_RC_OFF, **_TEE
        ),
        _chat("google/gemma-4-31B-turbo-TEE", 131_072, 65_536, vision=True, price=(0.12, 0.37, 0.012), **_TEE),
        _chat("moonshotai/Kimi-K2.5-TEE", 262_144, 65_535, vision=True, price=(0.44, 2, 0.22), **_RC_ON, **_TEE),
        _chat("moonshotai/Kimi-K2.6-TEE", 262_144, 65_535, vision=True, price=(0.5, 2.85, 0.05), **_RC_ON, **_TEE),
        _chat("moonshotai/Kimi-K3-TEE", 1_048_576, 65_535, vision=True, price=(3, 15, 0.3), **_RC_ON, **_TEE),
        _chat(
            "unsloth/Mistral-Nemo-Instruct-2407-TEE",
            131_072,
            131_072,
            tools=False,
            price=(0.0245, 0.0978, 0.01225),
            sparse_listing=True,
            **_TEE,
        ),
        _chat("zai-org/GLM-5-TEE", 202_752, 65_535, price=(0.95, 2.55, 0.475), **_RC_ON, **_TEE),
        _chat("zai-org/GLM-5.1-TEE", 202_752, 65_535, price=(0.98, 3.08, 0.098), **_RC_ON, **_TEE),
        _chat("zai-org/GLM-5.2-TEE", 1_048_576, 65_535, price=(1.25, 3.95, 0.125), **_RC_ON, **_TEE),
        _chat("Nemotron-3-Nano-Omni-30B-TEE", 131_072, 32_768, vision=True, sparse_listing=True, **_TEE),
        # Older Mastra seed catalog (seeds/002).
        _chat("moonshotai/Kimi-Dev-72B", 131_072),
        _chat("moonshotai/Kimi-K2-Instruct-75k", 75_000),
        _chat("moonshotai/Kimi-K2-Instruct-0905", 262_144),
        _chat("moonshotai/Kimi-VL-A3B-Thinking", 131_072, vision=True, **_RC_ALWAYS),
        _chat("meituan-longcat/LongCat-Flash-Chat-FP8", 131_072),
        _chat("tngtech/DeepSeek-R1T-Chimera", 163_840, tools=False, **_THINK),
        _chat("tngtech/DeepSeek-TNG-R1T2-Chimera", 163_840, tools=False, **_THINK),
        _chat("openai/gpt-oss-120b", 131_072, **_RC_ALWAYS),
        _chat("chutesai/Devstral-Small-2505", 32_768),
        _chat("chutesai/Mistral-Small-3.2-24B-Instruct-2506", 131_072),
        _chat("Qwen/Qwen3-30B-A3B", 40_960, **_RC_ON),
        _chat("Qwen/Qwen3-30B-A3B-Thinking-2507", 262_144, **_RC_ALWAYS),
        _chat("Qwen/Qwen3-235B-A22B-Instruct-2507", 262_144),
        _chat("Qwen/Qwen3-Coder-30B-A3B-Instruct", 262_144),
        _chat("Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8", 262_144),
        _chat("Qwen/Qwen3-30B-A3B-Instruct-2507", 262_144),
        _chat("Qwen/Qwen3-235B-A22B-Thinking-2507", 262_144, **_RC_ALWAYS),
        _chat("Qwen/Qwen3-Next-80B-A3B-Instruct", 262_144),
        _chat("Qwen/Qwen3-Next-80B-A3B-Thinking", 262_144, **_RC_ALWAYS),
        _chat("zai-org/GLM-4.5-turbo", 131_072, **_RC_ON),
        _chat("zai-org/GLM-4.6-FP8", 204_800, **_RC_ON),
        _chat("zai-org/GLM-4.5-FP8", 131_072, **_RC_ON),
        _chat("zai-org/GLM-4.5-Air", 131_072, **_RC_ON),
        _chat("deepseek-ai/DeepSeek-R1-0528-Qwen3-8B", 131_072, **_THINK),
        _chat("deepseek-ai/DeepSeek-R1-0528", 75_000, **_THINK),
        _chat("deepseek-ai/DeepSeek-V3.1-Terminus", 131_072, **_RC_OFF),
        _chat("deepseek-ai/DeepSeek-V3.1-turbo", 128_000, **_RC_OFF),
        _chat("deepseek-ai/DeepSeek-R1-Distill-Llama-70B", 131_072, tools=False, **_THINK),
        _chat("deepseek-ai/DeepSeek-V3.1", 163_840, **_RC_OFF),
        _chat("deepseek-ai/DeepSeek-V3-0324", 75_000),
    ]
}

CHUTES_EMBED_MODELS: dict[str, ModelSpec] = {
    "Qwen/Qwen3-Embedding-8B": ModelSpec(
        "Qwen/Qwen3-Embedding-8B",
        "embedding",
        32_768,
        0,
        tools=False,
        dimensions_range=(32, 4096),
        price=(0.01, 0.0, 0.0),
    ),
}

_ROUTING_SUFFIXES = (":latency", ":throughput")
_THINKING_SUFFIX = ":THINKING"  # case-sensitive: the gateway checks model.endswith(":THINKING")


@dataclass(frozen=True)
class Resolved:
    """Result of resolving a requested model string on one host."""

    requested: str
    spec: ModelSpec
    thinking_suffix: bool = False

    @property
    def served(self) -> str:
        """The ``model`` an answer names: Chutes rewrites it to the chute name (no pool, no suffix)."""
        return self.spec.id


def _resolve_chutes_member(member: str) -> tuple[ModelSpec | None, bool]:
    thinking = member.endswith(_THINKING_SUFFIX)
    base = member[: -len(_THINKING_SUFFIX)] if thinking else member
    return CHUTES_MODELS.get(base), thinking


def resolve(provider: Provider, model: Any, kind: Literal["chat", "embedding"]) -> Resolved:
    """Map the request's ``model`` to a known spec or raise the host's 404/400 error."""
    if not isinstance(model, str) or not model:
        raise provider_error(provider, "`model` must be a non-empty string", 400)
    if provider == "stackit":
        spec = STACKIT_MODELS.get(model)
        if spec is None:
            raise model_not_found(provider, model)
        if spec.kind != kind:
            api = "Chat Completions API" if kind == "chat" else "Embeddings API"
            raise vllm_error(f"The model does not support {api}", 400)
        return Resolved(model, spec)
    if provider == "chutes_embeddings":
        # Only chutes with the embedding template are served; any other id is a 404 like on the gateway.
        spec = CHUTES_EMBED_MODELS.get(model)
        if spec is None or kind != "embedding":
            raise model_not_found(provider, model)
        return Resolved(model, spec)
    # Chutes LLM host: routing pools "a,b:latency" and ":THINKING" suffixes.
    pool = model
    for suffix in _ROUTING_SUFFIXES:
        if pool.lower().endswith(suffix):
            pool = pool[: -len(suffix)]
    for member in (p.strip() for p in pool.split(",")):
        spec, thinking = _resolve_chutes_member(member)
        if spec is not None and kind == "chat":
            return Resolved(model, spec, thinking)
    raise model_not_found(provider, model)


def _perm_id(mid: str) -> str:
    return "modelperm-" + hashlib.sha256(mid.encode()).hexdigest()[:32]


def stackit_models_payload() -> dict[str, Any]:
    """STACKIT ``GET /v1/models``: vLLM ModelCards in an OpenAI list."""
    data = []
    for spec in STACKIT_MODELS.values():
        data.append(
            {
                "id": spec.id,
                "object": "model",
                "created": CREATED,
                "owned_by": "vllm",
                "root": spec.id,
                "parent": None,
                "max_model_len": spec.context,
                "permission": [
                    {
                        "id": _perm_id(spec.id),
                        "object": "model_permission",
                        "created": CREATED,
                        "allow_create_engine": False,
                        "allow_sampling": True,
                        "allow_logprobs": True,
                        "allow_search_indices": False,
                        "allow_view": True,
                        "allow_fine_tuning": False,
                        "organization": "*",
                        "group": None,
                        "is_blocking": False,
                    }
                ],
            }
        )
    return {"object": "list", "data": data}


_TAO_PER_USD = 0.0050654


def _chutes_entry(spec: ModelSpec) -> dict[str, Any]:
    p_in, p_out, p_cache = spec.price
    chute_id = hashlib.sha256(spec.id.encode()).hexdigest()
    entry: dict[str, Any] = {
        "id": spec.id,
        "root": spec.id.removesuffix("-TEE"),
        "price": {
            "input": {"tao": p_in * _TAO_PER_USD, "usd": p_in},
            "output": {"tao": p_out * _TAO_PER_USD, "usd": p_out},
            "input_cache_read": {"tao": p_cache * _TAO_PER_USD, "usd": p_cache},
        },
        "object": "model",
        "parent": None,
        "created": CREATED,
        "pricing": {"prompt": p_in, "completion": p_out, "input_cache_read": p_cache},
        "chute_id": f"{chute_id[:8]}-{chute_id[8:12]}-{chute_id[12:16]}-{chute_id[16:20]}-{chute_id[20:32]}",
        "owned_by": "sglang",
        "quantization": "fp8" if "FP8" in spec.id or spec.tee else "bf16",
        "max_model_len": spec.context,
    }
    if spec.sparse_listing:
        return entry
    features = ["json_mode", "structured_outputs"]
    if spec.tools:
        features.append("tools")
    if spec.reasoning_field:
        features.append("reasoning")
    context = 131_072 if spec.id == "google/gemma-4-31B-turbo-TEE" else spec.context
    if spec.id == "google/gemma-4-31B-turbo-TEE":
        entry["max_model_len"] = 262_144
    entry.update(
        {
            "context_length": context,
            "input_modalities": ["text", "image"] if spec.vision else ["text"],
            "max_output_length": spec.max_output,
            "output_modalities": ["text"],
            "supported_features": features,
            "confidential_compute": spec.tee,
            "supported_sampling_parameters": ["temperature", "top_p"],
        }
    )
    return entry


def chutes_models_payload() -> dict[str, Any]:
    """Chutes ``GET /v1/models``: the rich shape of providers.md section 4.3 (TEE models first)."""
    return {"object": "list", "data": [_chutes_entry(s) for s in CHUTES_MODELS.values()]}
