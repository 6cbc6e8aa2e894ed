"""Fork safety: a forked child never shares a pooled keep-alive connection with its parent.

gunicorn ``--preload`` and ``multiprocessing`` (fork) children inherit the parent's pooled clients.
Before the fix, parent and children wrote to the same socket and read each other's answers.
"""

from __future__ import annotations

import json
import os
import signal
import time
import traceback
import uuid

import pytest

from stackit_chutes_core import ChatRequest, Endpoint, Message, chat, resolve_endpoint
from tests.emulator import ProviderEmulator

CALLS = 200
CHILDREN = 4
DEADLINE_S = 180.0

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork() is POSIX-only")


def _ask(endpoint: Endpoint, token: str) -> str:
    return chat(endpoint, ChatRequest(messages=[Message(role="user", content=f"Repeat: {token}")])).text


def _run(endpoint: Endpoint, tag: str) -> dict[str, object]:
    """``CALLS`` calls with distinct prompts; counts answers that are not this process's own."""
    wrong, errors = 0, []
    for i in range(CALLS):
        token = f"{tag}-{i}-{uuid.uuid4().hex[:8]}"
        try:
            answer = _ask(endpoint, token)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
            continue
        wrong += answer.strip() != token
    return {"tag": tag, "wrong": wrong, "errors": errors[:5], "error_count": len(errors)}


def _child(endpoint: Endpoint, tag: str, write_fd: int) -> None:
    """Body of a forked child: never returns (``os._exit``), so pytest never runs twice."""
    code = 1
    try:
        payload = _run(endpoint, tag)
        code = 0
    except BaseException:
        payload = {"tag": tag, "crash": traceback.format_exc()}
    try:
        os.write(write_fd, json.dumps(payload).encode())
        os.close(write_fd)
    finally:
        os._exit(code)


def _collect(pid: int, read_fd: int, deadline: float) -> dict[str, object]:
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read_fd)
        return {"tag": f"pid {pid}", "crash": "timed out"}
    chunks = []
    while chunk := os.read(read_fd, 65536):
        chunks.append(chunk)
    os.close(read_fd)
    return json.loads(b"".join(chunks) or b'{"crash": "no report"}')


def test_forked_children_get_their_own_answers() -> None:
    with ProviderEmulator(max_lifetime_s=DEADLINE_S + 30) as emu:
        endpoint = resolve_endpoint(
            "stackit/openai/gpt-oss-120b", api_key="k", base_url=emu.base_urls["stackit"], max_retries=0, timeout=30
        )
        assert _ask(endpoint, "warm-up") == "warm-up"  # the parent now holds a pooled keep-alive socket
        deadline = time.monotonic() + DEADLINE_S
        children = []
        for n in range(CHILDREN):
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read_fd)
                _child(endpoint, f"child{n}", write_fd)
            os.close(write_fd)
            children.append((pid, read_fd))
        reports = [_run(endpoint, "parent")]
        reports += [_collect(pid, fd, deadline) for pid, fd in children]
    assert all("crash" not in r for r in reports), reports
    assert [(r["wrong"], r["error_count"]) for r in reports] == [(0, 0)] * (CHILDREN + 1), reports
