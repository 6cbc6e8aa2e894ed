"""``asyncio.run()`` per task: the async client pooled for each loop is closed with that loop.

The workload cycles through the core (``achat``, ``aembed_texts``), LangChain (``ainvoke``,
``aembed_documents``) and LlamaIndex (``achat``), all on one process.

Before the fix every ``asyncio.run()`` left one pooled client and its socket alive (the loop-keyed
pool never freed dead loops): ``OSError: Too many open files`` after ~250 runs at a 256-fd limit.
The workload runs in a subprocess under ``-W error::ResourceWarning`` so that an unclosed socket or
transport shows up on its stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.emulator import ProviderEmulator

ROOT = Path(__file__).resolve().parents[2]
RUNS = 300

WORKLOAD = textwrap.dedent(
    """
    import asyncio, gc, json, os, sys
    from llama_index.core.llms import ChatMessage
    from langchain_stackit_chutes import ChatStackitChutes, StackitChutesEmbeddings
    from llama_index_stackit_chutes import StackitChutes
    from stackit_chutes_core import ChatRequest, Message, achat, aembed_texts, resolve_endpoint

    base = os.environ["EMULATOR_STACKIT_URL"]
    chat_model, embed_model = "stackit/openai/gpt-oss-120b", "stackit/intfloat/e5-mistral-7b-instruct"
    chat_ep = resolve_endpoint(chat_model, api_key="k", base_url=base, max_retries=0)
    embed_ep = resolve_endpoint(embed_model, api_key="k", base_url=base, purpose="embeddings", max_retries=0)
    lc_chat = ChatStackitChutes(model=chat_model, api_key="k", base_url=base)
    lc_embed = StackitChutesEmbeddings(model=embed_model, api_key="k", base_url=base)
    li_chat = StackitChutes(model=chat_model, api_key="k", base_url=base)

    async def one(i):
        kind = i % 5
        if kind == 0:
            result = await achat(chat_ep, ChatRequest(messages=[Message(role="user", content=f"Repeat: run-{i}")]))
            assert result.text == f"run-{i}", result.text
        elif kind == 1:
            assert len((await aembed_texts(embed_ep, [f"text {i}", "second"])).vectors) == 2
        elif kind == 2:
            assert (await lc_chat.ainvoke(f"Repeat: lc-{i}")).content == f"lc-{i}"
        elif kind == 3:
            assert len(await lc_embed.aembed_documents([f"doc {i}"])) == 1
        else:
            answer = await li_chat.achat([ChatMessage(role="user", content=f"Repeat: li-{i}")])
            assert answer.message.content == f"li-{i}", answer.message.content

    def open_fds():
        return len(os.listdir("/proc/self/fd"))

    for i in range(5):  # warm-up: imports, TLS context, lazy module state
        asyncio.run(one(i))
    gc.collect()
    before = open_fds()
    for i in range(int(sys.argv[1])):
        asyncio.run(one(i))
    gc.collect()
    print(json.dumps({"before": before, "after": open_fds()}))
    """
)


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="counts open descriptors through /proc/self/fd")
def test_asyncio_run_per_task_keeps_descriptors_flat() -> None:
    with ProviderEmulator(max_lifetime_s=240) as emu:
        env = {**os.environ, "EMULATOR_STACKIT_URL": emu.base_urls["stackit"], "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-W", "error::ResourceWarning", "-c", WORKLOAD, str(RUNS)],
            capture_output=True,
            text=True,
            timeout=200,
            env=env,
            cwd=ROOT,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ResourceWarning" not in done.stderr, done.stderr[-3000:]
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts["after"] <= counts["before"] + 5, counts
