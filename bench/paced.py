"""Paced bulk embedding (issue #12): a server enforcing 600 requests/min and a token budget.

``tests.ratelimited_server.RateLimitedServer`` answers 429 (no ``Retry-After``) over budget and to
5 % of the requests at random. Its window is 10 s (100 requests, 1/6 of the per-minute token budget),
the same rate as 600/min but stricter against bursts, so a run of about a minute crosses many
windows. Every contender embeds the same texts in batches of the same size; ours are configured with
the budgets (``requests_per_minute`` / ``tokens_per_minute``), the comparators have no such option
and run with their defaults (the SDK retries 429s twice). Target for ours: 0 failed calls and
>= 90 % of the allowed rate, sync and async, both frameworks.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import time
from collections.abc import Callable
from typing import Any

from bench.harness import describe_error

MODEL = "stackit/intfloat/e5-mistral-7b-instruct"
KEY = "bench-key"
WINDOW_S = 10.0
REQUESTS_PER_MINUTE = 600
TOKENS_PER_MINUTE = 480_000
RANDOM_429 = 0.05
BATCH = 32
CONCURRENCY = 8
TARGET = 0.9

Run = Callable[[str, list[str]], int]


def _texts(count: int) -> list[str]:
    return [
        f"Document {i}: a short paragraph about topic {i % 97} and its long history in Europe." for i in range(count)
    ]


def _lc_sync(url: str, texts: list[str]) -> int:
    from langchain_stackit_chutes import StackitChutesEmbeddings

    emb = StackitChutesEmbeddings(
        model=MODEL,
        api_key=KEY,
        base_url=url,
        chunk_size=BATCH,
        max_concurrency=CONCURRENCY,
        requests_per_minute=REQUESTS_PER_MINUTE,
        tokens_per_minute=TOKENS_PER_MINUTE,
    )
    return len(emb.embed_documents(texts))


def _lc_async(url: str, texts: list[str]) -> int:
    from langchain_stackit_chutes import StackitChutesEmbeddings

    emb = StackitChutesEmbeddings(
        model=MODEL,
        api_key=KEY,
        base_url=url,
        chunk_size=BATCH,
        max_concurrency=CONCURRENCY,
        requests_per_minute=REQUESTS_PER_MINUTE,
        tokens_per_minute=TOKENS_PER_MINUTE,
    )
    return len(asyncio.run(emb.aembed_documents(texts)))


def _li(url: str) -> Any:
    from llama_index_stackit_chutes import StackitChutesEmbedding

    return StackitChutesEmbedding(
        model_name=MODEL,
        api_key=KEY,
        api_base=url,
        embed_batch_size=BATCH,
        num_workers=CONCURRENCY,
        requests_per_minute=REQUESTS_PER_MINUTE,
        tokens_per_minute=TOKENS_PER_MINUTE,
    )


def _li_sync(url: str, texts: list[str]) -> int:
    return len(_li(url).get_text_embedding_batch(texts))


def _li_async(url: str, texts: list[str]) -> int:
    return len(asyncio.run(_li(url).aget_text_embedding_batch(texts)))


def _lc_openai(url: str, texts: list[str]) -> int:
    from langchain_openai import OpenAIEmbeddings
    from pydantic import SecretStr

    emb = OpenAIEmbeddings(
        model=MODEL.split("/", 1)[1],
        base_url=url,
        api_key=SecretStr(KEY),
        check_embedding_ctx_length=False,
        chunk_size=BATCH,
    )
    return len(emb.embed_documents(texts))


def _openai_like(url: str, texts: list[str]) -> int:
    from llama_index.embeddings.openai_like import OpenAILikeEmbedding

    emb = OpenAILikeEmbedding(
        model_name=MODEL.split("/", 1)[1], api_base=url, api_key=KEY, embed_batch_size=BATCH, num_workers=CONCURRENCY
    )
    return len(emb.get_text_embedding_batch(texts))


def _openai_like_async(url: str, texts: list[str]) -> int:
    from llama_index.embeddings.openai_like import OpenAILikeEmbedding

    emb = OpenAILikeEmbedding(
        model_name=MODEL.split("/", 1)[1], api_base=url, api_key=KEY, embed_batch_size=BATCH, num_workers=CONCURRENCY
    )
    return len(asyncio.run(emb.aget_text_embedding_batch(texts)))


CONTENDERS: list[tuple[str, str, Run]] = [
    ("ours: LangChain embed_documents (sync)", "ours", _lc_sync),
    ("ours: LangChain aembed_documents (async)", "ours", _lc_async),
    ("ours: LlamaIndex get_text_embedding_batch (sync)", "ours", _li_sync),
    ("ours: LlamaIndex aget_text_embedding_batch (async)", "ours", _li_async),
    ("langchain-openai OpenAIEmbeddings (sync)", "comparator", _lc_openai),
    ("llama-index OpenAILikeEmbedding (sync)", "comparator", _openai_like),
    ("llama-index OpenAILikeEmbedding (async)", "comparator", _openai_like_async),
]


def run_paced(count: int) -> list[dict[str, Any]]:
    """Each contender against a fresh server; rates as a share of the window's budgets."""
    from stackit_chutes_core._limiter import reset_limiters
    from tests.ratelimited_server import RateLimitedServer

    texts = _texts(count)
    # Imports before the clocks start (llama-index alone takes seconds on a loaded machine).
    for module in (
        "langchain_stackit_chutes",
        "llama_index_stackit_chutes",
        "langchain_openai",
        "llama_index.embeddings.openai_like",
    ):
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    window_requests = int(REQUESTS_PER_MINUTE * WINDOW_S / 60)
    window_tokens = int(TOKENS_PER_MINUTE * WINDOW_S / 60)
    rows = []
    for name, role, run in CONTENDERS:
        reset_limiters()
        row: dict[str, Any] = {"name": name, "role": role}
        with RateLimitedServer(
            requests=window_requests, tokens=window_tokens, window_s=WINDOW_S, random_429=RANDOM_429, seed=7
        ) as server:
            started = time.perf_counter()
            try:
                done = run(server.base_url, texts)
                row["failed"] = 0 if done == count else 1
            except Exception as exc:
                row["failed"] = 1
                row["error"] = describe_error(exc)
            row["elapsed_s"] = round(time.perf_counter() - started, 1)
            requests, tokens = server.achieved()
            row["accepted"] = len(server.accepted)
            row["over_budget_429"] = server.over_budget
            row["random_429"] = server.random_rejections
            row["request_rate_share"] = round(requests / window_requests, 3)
            row["token_rate_share"] = round(tokens / window_tokens, 3)
            binding = max(row["request_rate_share"], row["token_rate_share"])
            row["rate_share"] = binding
            row["target_met"] = (row["failed"] == 0 and binding >= TARGET) if role == "ours" else None
        rows.append(row)
        print(f"  {name}: {row}", flush=True)
    return rows


def format_paced(result: dict[str, Any]) -> str:
    """The table of the paced scenario."""
    lines = [
        result["title"],
        f"{'contender':<52} {'failed':>6} {'time s':>7} {'429 over':>8} {'429 rnd':>7} "
        f"{'req %':>6} {'tok %':>6}  target",
    ]
    for row in result["rows"]:
        met = {True: "met", False: "MISSED", None: ""}[row["target_met"]]
        lines.append(
            f"{row['name']:<52} {row['failed']:>6} {row['elapsed_s']:>7.1f} {row['over_budget_429']:>8} "
            f"{row['random_429']:>7} {100 * row['request_rate_share']:>6.1f} "
            f"{100 * row['token_rate_share']:>6.1f}  {met}" + (f"  ({row['error']})" if row.get("error") else "")
        )
    return "\n".join(lines)
