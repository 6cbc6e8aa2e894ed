"""Usage + catalog price -> cost in the currency the price's source states (providers.md section 0:
STACKIT bills in EUR but the only public per-token figures are models.dev's USD; Chutes USD)."""

from __future__ import annotations

from decimal import Decimal

from stackit_chutes_core import (
    ChatRequest,
    Cost,
    Message,
    Usage,
    catalog,
    chat,
    estimate_cost,
    parse_model,
)
from tests._http import Recorder, chat_completion, endpoint, json_response

MILLION = Usage(input_tokens=1_000_000, output_tokens=1_000_000, total_tokens=2_000_000)


def test_stackit_costs_name_the_currency_of_their_source() -> None:
    # models.dev PR #2803 (2026-06-26): LLM-Plus USD 0.53 in / 0.76 out per 1M tokens; no EUR list exists,
    # so the cost is in USD and says so rather than a back-calculated EUR figure.
    cost = estimate_cost(catalog.lookup("stackit", "openai/gpt-oss-120b"), MILLION)
    assert cost == Cost(input=Decimal("0.53"), output=Decimal("0.76"), currency="USD")
    assert cost.total == Decimal("1.29")
    assert str(cost) == "1.290000 USD"


def test_stackit_premium_and_standard_tiers() -> None:
    premium = estimate_cost(catalog.lookup("stackit", "Qwen/Qwen3-VL-235B-A22B-Instruct-FP8"), MILLION)
    standard = estimate_cost(catalog.lookup("stackit", "openai/gpt-oss-20b"), MILLION)
    assert premium is not None
    assert standard is not None
    assert (premium.input, premium.output, premium.currency) == (Decimal("1.76"), Decimal("2.05"), "USD")
    assert (standard.input, standard.output, standard.currency) == (Decimal("0.18"), Decimal("0.29"), "USD")


def test_chutes_costs_are_in_usd() -> None:
    # §4.3 verbatim /v1/models entry: Qwen/Qwen3-32B-TEE pricing prompt 0.104, completion 0.416 (USD/1M).
    usage = Usage(input_tokens=2_000, output_tokens=500, total_tokens=2_500)
    cost = estimate_cost(catalog.lookup("chutes", "Qwen/Qwen3-32B-TEE"), usage)
    assert cost is not None
    assert cost.currency == "USD"
    assert cost.input == Decimal("0.104") * 2_000 / 1_000_000
    assert cost.output == Decimal("0.416") * 500 / 1_000_000
    assert cost.total == Decimal("0.000416")


def test_exact_decimal_arithmetic() -> None:
    usage = Usage(input_tokens=3, output_tokens=7, total_tokens=10)
    cost = estimate_cost(catalog.lookup("chutes", "unsloth/Mistral-Nemo-Instruct-2407-TEE"), usage)
    assert cost is not None
    assert cost.input == Decimal("0.0245") * 3 / Decimal(1_000_000)
    assert isinstance(cost.total, Decimal)


def test_embedding_models_charge_input_only_usage() -> None:
    # STACKIT service certificate: embeddings bill input tokens only, so the output price is 0 and
    # even a usage block that reports completion tokens costs nothing extra.
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000, total_tokens=1_001_000)
    cost = estimate_cost(catalog.lookup("stackit", "intfloat/e5-mistral-7b-instruct"), usage)
    assert cost is not None
    assert (cost.total, cost.output, cost.currency) == (Decimal("0.02"), Decimal("0"), "USD")


def test_unknown_is_none() -> None:
    assert estimate_cost(None, MILLION) is None  # model not in the catalog
    assert estimate_cost(parse_model("chutes/unknown/model").info, MILLION) is None
    unpriced = catalog.lookup("stackit", "neuralmagic/Meta-Llama-3.1-70B-Instruct-FP8")
    assert unpriced is not None
    assert unpriced.price is None
    assert estimate_cost(unpriced, MILLION) is None  # known model without a price
    assert estimate_cost(catalog.lookup("stackit", "openai/gpt-oss-120b"), None) is None  # no usage


def test_cost_of_a_real_call() -> None:
    usage = {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200}
    recorder = Recorder(json_response(chat_completion(usage=usage)))
    ep = endpoint("stackit/gpt-oss-120b", recorder)  # alias: priced through the real id's row
    result = chat(ep, ChatRequest(messages=[Message(role="user", content="hi")]))
    cost = estimate_cost(ep.route.info, result.usage)
    assert cost is not None
    assert cost.currency == "USD"
    assert cost.input == Decimal("0.00053")
    assert cost.output == Decimal("0.000152")
