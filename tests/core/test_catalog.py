"""Tests for the packaged model catalog (``stackit_chutes_core/data/catalog.json``). No network."""

from __future__ import annotations

import copy
import glob
import json
import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from stackit_chutes_core import catalog

CATALOG_JSON = Path(catalog.__file__).parent / "data" / "catalog.json"
SEEDS_DIR = Path("/work/shared/seeds")

# providers.md §1.3: Mastra / models.dev legacy short ids -> real STACKIT ids (rename diff c9a7f6c81).
STACKIT_SHORT_NAMES = {
    "e5-mistral-7b": "intfloat/e5-mistral-7b-instruct",
    "qwen3-vl-embedding-8b": "Qwen/Qwen3-VL-Embedding-8B",
    "gpt-oss-120b": "openai/gpt-oss-120b",
    "llama-3.3-70b": "cortecs/Llama-3.3-70B-Instruct-FP8-Dynamic",
    "llama-3.1-8b": "neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8",
    "mistral-nemo": "neuralmagic/Mistral-Nemo-Instruct-2407-FP8",
    "gemma-3-27b": "google/gemma-3-27b-it",
    "qwen3-vl-235b": "Qwen/Qwen3-VL-235B-A22B-Instruct-FP8",
}

# providers.md §1.2: every real STACKIT id.
STACKIT_REAL_IDS = {
    "openai/gpt-oss-120b",
    "openai/gpt-oss-20b",
    "cortecs/Llama-3.3-70B-Instruct-FP8-Dynamic",
    "Qwen/Qwen3-VL-235B-A22B-Instruct-FP8",
    "google/gemma-3-27b-it",
    "Qwen/Qwen3.6-27B",
    "Qwen/Qwen3.8-27B",
    "google/gemma-4-31B-it",
    "neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8",
    "neuralmagic/Mistral-Nemo-Instruct-2407-FP8",
    "neuralmagic/Meta-Llama-3.1-70B-Instruct-FP8",
    "intfloat/e5-mistral-7b-instruct",
    "Qwen/Qwen3-VL-Embedding-8B",
}

# juspay/neurolink chutes.json: the 14 models of the unauthenticated GET /v1/models of 2026-09-28.
CHUTES_LISTED_2026_09_28 = {
    "Qwen/Qwen3-235B-A22B-Thinking-2507-TEE",
    "Qwen/Qwen3-32B-TEE",
    "Qwen/Qwen3.5-397B-A17B-TEE",
    "Qwen/Qwen3.6-27B-TEE",
    "deepseek-ai/DeepSeek-V3.2-TEE",
    "google/gemma-4-31B-turbo-TEE",
    "moonshotai/Kimi-K2.6-TEE",
    "unsloth/Mistral-Nemo-Instruct-2407-TEE",
    "zai-org/GLM-5.1-TEE",
    "zai-org/GLM-5.2-TEE",
    "moonshotai/Kimi-K3-TEE",
    "deepseek-ai/DeepSeek-V4-Flash-0731-TEE",
    "Qwen/Qwen3.8-27B-TEE",
    "Nemotron-3-Nano-Omni-30B-TEE",
}
# TEE models of models.dev (2026-07-02) absent from that listing (providers.md section 0).
CHUTES_UNLISTED_TEE = {"MiniMaxAI/MiniMax-M2.5-TEE", "zai-org/GLM-5-TEE", "moonshotai/Kimi-K2.5-TEE"}
CHUTES_TEE_IDS = CHUTES_LISTED_2026_09_28 | CHUTES_UNLISTED_TEE

SEED_CHUTES_NOTE = "Listed on Mastra's Chutes page"

# providers.md §4.3: verbatim GET /v1/models entry (captured 2026-07-26).
QWEN3_32B_TEE_ENTRY = {
    "id": "Qwen/Qwen3-32B-TEE",
    "root": "Qwen/Qwen3-32B-FP8",
    "price": {
        "input": {"tao": 0.0005268015346133935, "usd": 0.104},
        "output": {"tao": 0.002107206138453574, "usd": 0.416},
        "input_cache_read": {"tao": 0.00026340076730669676, "usd": 0.052},
    },
    "object": "model",
    "parent": None,
    "created": 1785076921,
    "pricing": {"prompt": 0.104, "completion": 0.416, "input_cache_read": 0.052},
    "chute_id": "ac059e33-eb27-541c-b9a9-24b214036475",
    "owned_by": "sglang",
    "quantization": "fp8",
    "max_model_len": 40960,
    "context_length": 40960,
    "input_modalities": ["text"],
    "max_output_length": 40960,
    "output_modalities": ["text"],
    "supported_features": ["json_mode", "tools", "structured_outputs", "reasoning"],
    "confidential_compute": True,
    "supported_sampling_parameters": ["temperature", "top_p"],
}


@pytest.fixture(autouse=True)
def _fresh_catalog():
    """Every test starts from (and leaves behind) the packaged catalog: refresh mutates globals."""
    catalog._rows = None
    catalog._aliases.clear()
    catalog._user_rows.clear()
    yield
    catalog._rows = None
    catalog._aliases.clear()
    catalog._user_rows.clear()


@pytest.fixture(scope="module")
def raw() -> dict:
    return json.loads(CATALOG_JSON.read_text("utf-8"))


def _seed(prefix: str) -> str:
    matches = sorted(glob.glob(str(SEEDS_DIR / f"{prefix}_*.txt")))
    if not matches:
        pytest.skip(f"seed {prefix} not available at {SEEDS_DIR}")
    return Path(matches[0]).read_text("utf-8")


def _parse_chutes_seed() -> dict[str, dict]:
    """Parse Mastra's Chutes table: Model | Image | Audio | Video | Tools | Streaming | Context Window."""
    pattern = re.compile(r"^chutes/(\S+) \| ([✓✗]) \| ([✓✗]) \| ([✓✗]) \| ([✓✗]) \| ([✓✗]) \| ([\d,]+) \|\s*$", re.M)
    rows = {}
    for model_id, image, _audio, _video, tools, _streaming, context in pattern.findall(_seed("002")):
        rows[model_id] = {
            "image": image == "✓",
            "tools": tools == "✓",
            "context": int(context.replace(",", "")),
        }
    return rows


# --- file structure -------------------------------------------------------------------------------


def test_file_header(raw):
    assert raw["version"] == 2
    assert raw["generated"] == "2026-12-01"
    # where evidence conflicted, the choice is written in the data itself
    assert any("Mistral-Nemo" in c and "live" in c for c in raw["conflicts"])
    assert any("USD" in c and "EUR" in c for c in raw["conflicts"])
    assert raw["sources"] and all(isinstance(s, str) and s for s in raw["sources"])


REQUIRED_KEYS = {
    "provider", "id", "kind", "aliases", "context_window", "max_output_tokens", "capabilities",
    "input_modalities", "embedding_dimensions", "accepts_dimensions", "query_instruction",
    "document_instruction", "price", "status", "replacement", "notes", "source", "as_of", "documented",
    "rate_limits",
}  # fmt: skip
FACTS = {
    "input_modalities", "tools", "structured_output", "json_mode", "reasoning", "reasoning_effort",
    "context_window", "max_output_tokens", "price",
}  # fmt: skip
ISO_DATE = re.compile(r"^20\d\d-[01]\d-[0-3]\d$")


def test_rows_well_formed(raw):
    for row in raw["models"]:
        assert set(row) >= REQUIRED_KEYS, row["id"]
        assert row["provider"] in {"stackit", "chutes"}
        assert row["kind"] in {"chat", "embedding"}
        assert row["status"] in {"active", "deprecated", "retired", "unlisted"}
        assert set(row["capabilities"]) - {"reasoning_in_content"} == {
            "tools", "structured_output", "reasoning", "image_input", "reasoning_effort", "json_mode",
        }  # fmt: skip
        assert row["source"] and ISO_DATE.match(row["as_of"]), row["id"]
        assert set(row["documented"]) <= FACTS, row["id"]
        if row["price"] is not None:
            assert row["price"]["source"] and ISO_DATE.match(row["price"]["as_of"]), row["id"]
        else:
            assert "price" not in row["documented"], row["id"]
        if row["rate_limits"] is not None:
            limits = row["rate_limits"]
            assert limits["source"] and ISO_DATE.match(limits["as_of"]), row["id"]
            assert limits["requests_per_minute"] > 0 and limits["tokens_per_minute"] > 0, row["id"]
        if row["capabilities"].get("reasoning_in_content"):
            assert row["capabilities"]["reasoning"], row["id"]
        assert row["notes"], row["id"]
        assert ("image" in row["input_modalities"]) == row["capabilities"]["image_input"], row["id"]
        for key in ("context_window", "max_output_tokens", "embedding_dimensions"):
            assert row[key] is None or (isinstance(row[key], int) and row[key] > 0), (row["id"], key)


def test_no_duplicates_and_aliases_unique(raw):
    keys = [(r["provider"], r["id"]) for r in raw["models"]]
    assert len(keys) == len(set(keys))
    ids = set(keys)
    seen_aliases: set[tuple[str, str]] = set()
    for row in raw["models"]:
        for alias in row["aliases"]:
            key = (row["provider"], alias)
            assert key not in seen_aliases, key
            assert key not in ids, key
            seen_aliases.add(key)


def test_replacements_point_to_known_rows():
    for info in catalog.all_models():
        if info.replacement is not None:
            assert info.status in {"deprecated", "retired", "unlisted"}
            target = catalog.lookup(info.provider, info.replacement)
            assert target is not None and target.status == "active", info.id


# --- STACKIT --------------------------------------------------------------------------------------


def test_stackit_has_every_real_model():
    assert {m.id for m in catalog.all_models(provider="stackit")} == STACKIT_REAL_IDS


@pytest.mark.parametrize(("short", "real"), sorted(STACKIT_SHORT_NAMES.items()))
def test_stackit_short_names_resolve(short, real):
    assert catalog.resolve_alias("stackit", short) == real
    info = catalog.lookup("stackit", short)
    assert info is not None and info.id == real
    assert short in info.aliases
    # a short name is a STACKIT alias only
    assert catalog.lookup("chutes", short) is None


def test_seed_000_short_names_match_mapping():
    text = _seed("000")
    names = set(re.findall(r"^stackit/(\S+?)\d+K\$", text, re.M))
    assert names == set(STACKIT_SHORT_NAMES)


def test_real_id_resolves_to_itself():
    assert catalog.resolve_alias("stackit", "openai/gpt-oss-120b") == "openai/gpt-oss-120b"
    assert catalog.resolve_alias("stackit", "no/such-model") == "no/such-model"


def test_stackit_prices_keep_the_currency_of_their_source():
    # No public STACKIT EUR list exists; models.dev states USD (converted by models.dev from EUR),
    # so the catalog stores USD with that source instead of back-calculating EUR.
    tiers = {
        "openai/gpt-oss-120b": ("0.53", "0.76"),
        "cortecs/Llama-3.3-70B-Instruct-FP8-Dynamic": ("0.53", "0.76"),
        "google/gemma-3-27b-it": ("0.53", "0.76"),
        "openai/gpt-oss-20b": ("0.18", "0.29"),
        "Qwen/Qwen3-VL-235B-A22B-Instruct-FP8": ("1.76", "2.05"),
        "intfloat/e5-mistral-7b-instruct": ("0.02", "0"),
        "Qwen/Qwen3-VL-Embedding-8B": ("0.09", "0"),
    }
    for info in catalog.all_models(provider="stackit"):
        if info.id == "neuralmagic/Meta-Llama-3.1-70B-Instruct-FP8":
            assert info.price is None  # historic id, no price evidence
            continue
        assert info.price is not None, info.id
        assert info.price.currency == "USD" and "models.dev" in info.price.source, info.id
        assert "EUR" in info.price.source, info.id  # says where the USD came from
    for model_id, (inp, out) in tiers.items():
        price = catalog.lookup("stackit", model_id).price
        assert (price.input, price.output) == (Decimal(inp), Decimal(out)), model_id


def test_embeddings_bill_input_tokens_only():
    for info in catalog.all_models(provider="stackit", kind="embedding"):
        assert info.price.output == 0 and info.price.input > 0, info.id
        assert "only input tokens" in info.price.source, info.id


def test_stackit_rate_limits_are_data():
    big = catalog.lookup("stackit", "openai/gpt-oss-120b").rate_limits
    assert (big.requests_per_minute, big.tokens_per_minute) == (30, 200_000)
    assert "prompt + 5 x generated" in big.source and big.as_of == "2026-03-08"
    llama = catalog.lookup("stackit", "cortecs/Llama-3.3-70B-Instruct-FP8-Dynamic").rate_limits
    assert llama.requests_per_minute == 80
    for model_id in ("intfloat/e5-mistral-7b-instruct", "Qwen/Qwen3-VL-Embedding-8B"):
        assert catalog.lookup("stackit", model_id).rate_limits.requests_per_minute == 600
    # models added after the dated evidence carry no invented limits
    for model_id in ("Qwen/Qwen3.8-27B", "google/gemma-4-31B-it", "openai/gpt-oss-20b"):
        assert catalog.lookup("stackit", model_id).rate_limits is None, model_id
    assert all(m.rate_limits is None for m in catalog.all_models("chutes"))


def test_stackit_capabilities():
    big = catalog.lookup("stackit", "openai/gpt-oss-120b").capabilities
    assert big.tools and big.reasoning and big.structured_output and not big.image_input
    assert big.reasoning_effort == ("low", "medium", "high")

    vl = catalog.lookup("stackit", "Qwen/Qwen3-VL-235B-A22B-Instruct-FP8")
    assert vl.capabilities.tools and vl.capabilities.image_input
    assert vl.input_modalities == ("text", "image")

    gemma3 = catalog.lookup("stackit", "google/gemma-3-27b-it").capabilities
    assert gemma3.image_input and not gemma3.tools

    # live 400 '"auto" tool choice requires --enable-auto-tool-choice ...' (Onyx, 2026-03-08)
    nemo = catalog.lookup("stackit", "neuralmagic/Mistral-Nemo-Instruct-2407-FP8")
    assert not nemo.capabilities.tools and nemo.documents("tools")
    assert "enable-auto-tool-choice" in nemo.source

    for model_id in ("Qwen/Qwen3.8-27B", "google/gemma-4-31B-it"):
        caps = catalog.lookup("stackit", model_id).capabilities
        assert caps.tools and caps.reasoning and caps.image_input, model_id

    llama = catalog.lookup("stackit", "cortecs/Llama-3.3-70B-Instruct-FP8-Dynamic")
    assert llama.capabilities.tools and llama.input_modalities == ("text",)


def test_deprecated_stackit_models_marked():
    for model_id in ("google/gemma-3-27b-it", "Qwen/Qwen3.6-27B"):
        assert catalog.lookup("stackit", model_id).status == "deprecated", model_id
    assert catalog.lookup("stackit", "neuralmagic/Meta-Llama-3.1-70B-Instruct-FP8").status == "retired"
    # gone from the docs page on 2026-09-29, migration target gpt-oss-20b
    for model_id in (
        "neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8",
        "neuralmagic/Mistral-Nemo-Instruct-2407-FP8",
    ):
        info = catalog.lookup("stackit", model_id)
        assert info.status == "retired" and info.replacement == "openai/gpt-oss-20b", model_id
        assert info.as_of == "2026-09-29"
    # every neuralmagic/* id is out of service
    neuralmagic = [m for m in catalog.all_models("stackit") if m.id.startswith("neuralmagic/")]
    assert len(neuralmagic) == 3 and all(m.status != "active" for m in neuralmagic)
    for model_id in ("openai/gpt-oss-120b", "Qwen/Qwen3.8-27B", "google/gemma-4-31B-it"):
        assert catalog.lookup("stackit", model_id).status == "active"


def test_stackit_embedding_rows():
    e5 = catalog.lookup("stackit", "e5-mistral-7b")
    assert e5.id == "intfloat/e5-mistral-7b-instruct" and e5.kind == "embedding"
    assert e5.embedding_dimensions == 4096 and e5.context_window == 4096
    assert e5.accepts_dimensions is False
    assert e5.query_instruction == ("Given a web search query, retrieve relevant passages that answer the query")
    assert e5.document_instruction is None
    assert e5.input_modalities == ("text",) and not e5.capabilities.image_input

    vl = catalog.lookup("stackit", "qwen3-vl-embedding-8b")
    assert vl.id == "Qwen/Qwen3-VL-Embedding-8B" and vl.kind == "embedding"
    assert vl.embedding_dimensions == 4096 and vl.context_window == 32768  # HF card, not models.dev's 32,000
    assert vl.accepts_dimensions is True
    assert vl.capabilities.image_input and vl.input_modalities == ("text", "image")
    assert vl.query_instruction == "Retrieve images or text relevant to the user's query."
    assert vl.document_instruction == "Represent the user's input."


# --- Chutes ---------------------------------------------------------------------------------------


def test_chutes_seed_models_match_seed():
    seed = _parse_chutes_seed()
    assert len(seed) == 31
    for model_id, expected in seed.items():
        info = catalog.lookup("chutes", model_id)
        assert info is not None, model_id
        assert info.id == model_id  # verbatim, incl. "deepseek-ai/DeepSeek-V3.1:THINKING"
        assert info.context_window == expected["context"], model_id
        assert info.capabilities.image_input == expected["image"], model_id
        assert info.capabilities.tools == expected["tools"], model_id
        assert ("image" in info.input_modalities) == expected["image"], model_id
        assert info.status == "unlisted" and info.price is None, model_id
        assert not info.documented, model_id  # undated crawl: never used to refuse
        assert SEED_CHUTES_NOTE in info.notes
    # ... and no other row claims to come from the seed page
    from_seed = {m.id for m in catalog.all_models("chutes") if SEED_CHUTES_NOTE in m.notes}
    assert from_seed == set(seed)


def test_chutes_seed_reasoning_flags():
    for model_id in (
        "moonshotai/Kimi-VL-A3B-Thinking",
        "Qwen/Qwen3-235B-A22B-Thinking-2507",
        "Qwen/Qwen3-Next-80B-A3B-Thinking",
        "deepseek-ai/DeepSeek-R1-0528",
        "tngtech/DeepSeek-TNG-R1T2-Chimera",
        "deepseek-ai/DeepSeek-V3.1:THINKING",
    ):
        assert catalog.lookup("chutes", model_id).capabilities.reasoning, model_id
    for model_id in ("deepseek-ai/DeepSeek-V3.1", "Qwen/Qwen3-235B-A22B-Instruct-2507"):
        assert not catalog.lookup("chutes", model_id).capabilities.reasoning, model_id
    assert (
        catalog.lookup("chutes", "Qwen/Qwen3-235B-A22B-Thinking-2507").replacement
        == "Qwen/Qwen3-235B-A22B-Thinking-2507-TEE"
    )


def test_chutes_listed_models_active_and_missing_ones_unlisted():
    chat_ids = {m.id for m in catalog.all_models("chutes", "chat")}
    assert chat_ids >= CHUTES_TEE_IDS
    for model_id in CHUTES_LISTED_2026_09_28:
        info = catalog.lookup("chutes", model_id)
        assert info.status == "active" and info.as_of == "2026-09-28", model_id
        assert info.price.as_of == "2026-09-28" and info.price.currency == "USD", model_id
    for model_id in CHUTES_UNLISTED_TEE:
        assert catalog.lookup("chutes", model_id).status == "unlisted", model_id
    active = {m.id for m in catalog.all_models("chutes", "chat") if m.status == "active"}
    assert active == CHUTES_LISTED_2026_09_28
    # listed without an org prefix
    assert catalog.lookup("chutes", "Nemotron-3-Nano-Omni-30B-TEE") is not None
    assert catalog.lookup("chutes", "nvidia/Nemotron-3-Nano-Omni-30B-TEE") is None


def test_chutes_contexts_outputs_and_prices_of_the_listing():
    expected = {
        # id: (context, max output, input $, output $)
        "moonshotai/Kimi-K2.6-TEE": (262_144, 65_535, "0.5", "2.85"),
        "moonshotai/Kimi-K3-TEE": (1_048_576, 65_535, "3", "15"),
        "deepseek-ai/DeepSeek-V4-Flash-0731-TEE": (1_048_576, 131_072, "0.44", "1.32"),
        "zai-org/GLM-5.2-TEE": (1_048_576, 65_535, "1.25", "3.95"),
        "Qwen/Qwen3.8-27B-TEE": (262_144, 65_536, "0.24", "2.2"),
        "google/gemma-4-31B-turbo-TEE": (131_072, 65_536, "0.12", "0.37"),
        "Nemotron-3-Nano-Omni-30B-TEE": (131_072, None, "0.0245", "0.0978"),
    }
    for model_id, (context, output, inp, out) in expected.items():
        info = catalog.lookup("chutes", model_id)
        assert (info.context_window, info.max_output_tokens) == (context, output), model_id
        assert (info.price.input, info.price.output) == (Decimal(inp), Decimal(out)), model_id
    assert catalog.lookup("chutes", "moonshotai/Kimi-K2.5-TEE").context_window == 262_144


def test_chutes_capabilities_of_the_listing():
    for model_id in (
        "moonshotai/Kimi-K2.6-TEE",
        "moonshotai/Kimi-K3-TEE",
        "google/gemma-4-31B-turbo-TEE",
        "Qwen/Qwen3.8-27B-TEE",
    ):
        info = catalog.lookup("chutes", model_id)
        assert info.capabilities.image_input and "image" in info.input_modalities, model_id
        assert info.documents("input_modalities"), model_id
    for model_id in CHUTES_LISTED_2026_09_28 - {
        "unsloth/Mistral-Nemo-Instruct-2407-TEE",
        "Nemotron-3-Nano-Omni-30B-TEE",
    }:
        caps = catalog.lookup("chutes", model_id).capabilities
        assert caps.tools and caps.structured_output and caps.reasoning, model_id
    for model_id in (
        "moonshotai/Kimi-K2.6-TEE",
        "Qwen/Qwen3-32B-TEE",
        "zai-org/GLM-5.1-TEE",
        "deepseek-ai/DeepSeek-V4-Flash-0731-TEE",
    ):
        assert catalog.lookup("chutes", model_id).capabilities.json_mode, model_id
    text_only = catalog.lookup("chutes", "deepseek-ai/DeepSeek-V3.2-TEE")
    assert not text_only.capabilities.image_input and text_only.documents("input_modalities")
    # entries that carry only max_model_len document no modalities: nothing may be refused on them
    for model_id in ("unsloth/Mistral-Nemo-Instruct-2407-TEE", "Nemotron-3-Nano-Omni-30B-TEE"):
        info = catalog.lookup("chutes", model_id)
        assert not info.documents("input_modalities") and not info.documents("tools"), model_id


def test_priced_chutes_rows_in_usd():
    priced = [m for m in catalog.all_models("chutes") if m.price is not None]
    assert len(priced) >= 14
    assert all(m.price.currency == "USD" for m in priced)


def test_chutes_embedding_row():
    emb = catalog.lookup("chutes", "Qwen/Qwen3-Embedding-8B")
    assert emb is not None and emb.kind == "embedding"
    assert emb.embedding_dimensions == 4096 and emb.accepts_dimensions is True
    assert emb.input_modalities == ("text",) and not emb.capabilities.image_input
    assert emb.query_instruction == ("Given a web search query, retrieve relevant passages that answer the query")
    assert emb.price is None
    assert "embed.chutes.ai" in emb.notes


# --- API behaviour --------------------------------------------------------------------------------


def test_unknown_model_is_none():
    assert catalog.lookup("stackit", "no/such-model") is None
    assert catalog.lookup("chutes", "no/such-model") is None
    assert catalog.lookup("other", "openai/gpt-oss-120b") is None


def test_all_models_filters():
    everything = catalog.all_models()
    stackit = catalog.all_models(provider="stackit")
    chutes = catalog.all_models(provider="chutes")
    assert len(everything) == len(stackit) + len(chutes)
    assert all(m.provider == "stackit" for m in stackit)
    embeddings = catalog.all_models(kind="embedding")
    assert {(m.provider, m.id) for m in embeddings} == {
        ("stackit", "intfloat/e5-mistral-7b-instruct"),
        ("stackit", "Qwen/Qwen3-VL-Embedding-8B"),
        ("chutes", "Qwen/Qwen3-Embedding-8B"),
    }
    stackit_chat = catalog.all_models(provider="stackit", kind="chat")
    assert len(stackit_chat) == len(STACKIT_REAL_IDS) - 2
    assert all(m.kind == "chat" and m.provider == "stackit" for m in stackit_chat)
    assert catalog.all_models(provider="nobody") == []


def test_qualified_name():
    assert catalog.lookup("stackit", "gpt-oss-120b").qualified_name == "stackit/openai/gpt-oss-120b"


def test_refresh_updates_known_row():
    key = ("chutes", "Qwen/Qwen3-32B-TEE")
    rows = catalog._load()
    # make the packaged row stale so the refresh visibly changes it
    rows[key] = replace(
        rows[key],
        context_window=1,
        max_output_tokens=1,
        price=catalog.Price(Decimal("9"), Decimal("9"), "USD"),
        capabilities=catalog.Capabilities(),
    )

    merged = catalog.merge_listing("chutes", [copy.deepcopy(QWEN3_32B_TEE_ENTRY)], currency="USD")

    assert [m.id for m in merged] == ["Qwen/Qwen3-32B-TEE"]
    info = catalog.lookup("chutes", "Qwen/Qwen3-32B-TEE")
    assert info is merged[0]
    assert (info.price.input, info.price.output, info.price.currency) == (Decimal("0.104"), Decimal("0.416"), "USD")
    assert info.context_window == 40960 and info.max_output_tokens == 40960
    assert info.capabilities.tools and info.capabilities.structured_output
    assert info.capabilities.reasoning and not info.capabilities.image_input
    assert info.input_modalities == ("text",)
    # fields the listing lacks keep their packaged values
    assert info.status == "active" and info.kind == "chat" and info.notes


def test_refresh_verbatim_entry_matches_packaged_facts():
    before = catalog.lookup("chutes", "Qwen/Qwen3-32B-TEE")
    catalog.merge_listing("chutes", [QWEN3_32B_TEE_ENTRY], currency="USD", fetched_at=1_785_076_921)
    after = catalog.lookup("chutes", "Qwen/Qwen3-32B-TEE")
    assert after.capabilities == before.capabilities and after.input_modalities == before.input_modalities
    assert (after.context_window, after.max_output_tokens) == (before.context_window, before.max_output_tokens)
    assert (after.price.input, after.price.output) == (before.price.input, before.price.output)
    # the facts are re-dated to the fetch and name the listing as their source
    assert after.as_of == "2026-07-26" and after.source.startswith("chutes GET")


def test_refresh_adds_unseen_model():
    entry = dict(copy.deepcopy(QWEN3_32B_TEE_ENTRY), id="example-org/Brand-New-Model-TEE")
    assert catalog.lookup("chutes", entry["id"]) is None
    count = len(catalog.all_models("chutes"))

    catalog.merge_listing("chutes", [entry], currency="USD")

    info = catalog.lookup("chutes", entry["id"])
    assert info is not None and info.provider == "chutes" and info.kind == "chat"
    assert (info.price.input, info.price.output, info.price.currency) == (Decimal("0.104"), Decimal("0.416"), "USD")
    assert info.context_window == 40960
    assert info.capabilities.tools and info.capabilities.reasoning
    assert len(catalog.all_models("chutes")) == count + 1


def test_refresh_partial_entry_keeps_packaged_values():
    model_id = "unsloth/Mistral-Nemo-Instruct-2407-TEE"
    before = catalog.lookup("chutes", model_id)
    catalog.merge_listing("chutes", [{"id": model_id, "max_model_len": 65536}, {"no": "id"}], currency="USD")
    after = catalog.lookup("chutes", model_id)
    assert after.context_window == 65536
    assert after.price == before.price and after.capabilities == before.capabilities
    assert after.max_output_tokens == before.max_output_tokens


def test_refresh_is_undone_by_reset():
    catalog.merge_listing("chutes", [{"id": "example-org/Temp", "context_length": 10}], currency="USD")
    assert catalog.lookup("chutes", "example-org/Temp") is not None
    catalog._rows = None
    catalog._aliases.clear()
    assert catalog.lookup("chutes", "example-org/Temp") is None
    assert catalog.lookup("stackit", "gpt-oss-120b") is not None
