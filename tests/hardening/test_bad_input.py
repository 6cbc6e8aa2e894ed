"""Bad input is rejected before any request, with errors of the tree that are also TypeError/ValueError.

Before the fix ``embed_texts(ep, "a string")`` embedded each character, ``None``/numbers/lone
surrogates went to the provider (or crashed in the JSON encoder), image "files" such as
``/dev/zero`` were read without end, and PIL images were encoded in full before their size was
checked.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from stackit_chutes_core import (
    ChatRequest,
    EmbeddingItem,
    ImagePart,
    InvalidInputError,
    InvalidInputTypeError,
    InvalidInputValueError,
    Message,
    StackitChutesError,
    TextPart,
    aembed_texts,
    chat,
    embed_items,
    embed_texts,
    to_image_url,
)
from tests._http import Recorder, chat_completion, endpoint, json_response

ROOT = Path(__file__).resolve().parents[2]
SURROGATE = "caf\udce9"  # what b"caf\xe9".decode("utf-8", "surrogateescape") gives


@pytest.fixture
def recorder() -> Recorder:
    return Recorder(json_response(chat_completion()))


@pytest.mark.parametrize(
    ("texts", "kind"),
    [
        ("a single string", TypeError),
        (b"bytes", TypeError),
        (None, TypeError),
        (42, TypeError),
        (["ok", None], TypeError),
        (["ok", 3.5], TypeError),
        (["ok", b"bytes"], TypeError),
        (["ok", ""], ValueError),
        (["ok", SURROGATE], ValueError),
    ],
)
def test_bad_embedding_texts_fail_before_any_request(recorder: Recorder, texts: Any, kind: type) -> None:
    ep = endpoint("stackit/intfloat/e5-mistral-7b-instruct", recorder, purpose="embeddings")
    with pytest.raises(InvalidInputError) as caught:
        embed_texts(ep, texts)
    with pytest.raises(kind):
        asyncio.run(aembed_texts(ep, texts))
    assert isinstance(caught.value, kind) and isinstance(caught.value, StackitChutesError)
    assert recorder.requests == []


@pytest.mark.parametrize(
    "items",
    [
        "not a list",
        [EmbeddingItem(text=SURROGATE)],
        [EmbeddingItem()],
        [EmbeddingItem(text="")],
        ["a string, not an item"],
        [EmbeddingItem(text="x", image_url=b"bytes")],  # type: ignore[arg-type]
    ],
)
def test_bad_embedding_items_fail_before_any_request(recorder: Recorder, items: Any) -> None:
    ep = endpoint("stackit/Qwen/Qwen3-VL-Embedding-8B", recorder, purpose="embeddings")
    with pytest.raises(InvalidInputError):
        embed_items(ep, items)
    assert recorder.requests == []


def ask(*messages: Any) -> ChatRequest:
    return ChatRequest(messages=list(messages))


@pytest.mark.parametrize(
    ("request_", "kind"),
    [
        (ChatRequest(messages="hi"), InvalidInputTypeError),  # type: ignore[arg-type]
        (ChatRequest(messages=[]), InvalidInputValueError),
        (ask("hi"), InvalidInputTypeError),
        (ask(Message(role="user", content=SURROGATE)), InvalidInputValueError),
        (ask(Message(role="user", content=[TextPart(text=SURROGATE)])), InvalidInputValueError),
        (ask(Message(role="user", content=42)), InvalidInputTypeError),  # type: ignore[arg-type]
        (ask(Message(role="user", content=[TextPart(text=None)])), InvalidInputTypeError),  # type: ignore[arg-type]
        (ask(Message(role="user", content=["raw string part"])), InvalidInputTypeError),  # type: ignore[list-item]
        (ask(Message(role="user", content=[ImagePart(url=None)])), InvalidInputTypeError),  # type: ignore[arg-type]
        (ask(Message(role="user", content="")), InvalidInputValueError),
        (ask(Message(role="user", content=None)), InvalidInputValueError),
        (ask(Message(role="usr", content="hi")), InvalidInputValueError),  # type: ignore[arg-type]
    ],
)
def test_bad_chat_messages_fail_before_any_request(recorder: Recorder, request_: ChatRequest, kind: type) -> None:
    with pytest.raises(kind) as caught:
        chat(endpoint("stackit/openai/gpt-oss-120b", recorder), request_)
    assert isinstance(caught.value, InvalidInputError)
    assert recorder.requests == []


def test_normal_empty_turns_still_pass(recorder: Recorder) -> None:
    from stackit_chutes_core import ToolCall

    call = ToolCall(id="c1", name="f", arguments="{}")
    history = ask(
        Message(role="user", content="go"),
        Message(role="assistant", content="", tool_calls=[call]),
        Message(role="tool", content="", tool_call_id="c1"),
    )
    assert chat(endpoint("stackit/openai/gpt-oss-120b", recorder), history).text == "ok"
    assert len(recorder.requests) == 1


# The special files run in a subprocess with a memory and time limit: code that reads them without
# bound (as before the fix) fails there instead of hanging or exhausting this process.
SPECIAL_FILES = textwrap.dedent(
    """
    import json, os, resource, sys, tempfile
    resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))
    from stackit_chutes_core import InvalidInputError, to_image_url
    folder = tempfile.mkdtemp()
    fifo = os.path.join(folder, "pipe.png")
    os.mkfifo(fifo)
    results = {}
    for path in [folder, "/dev/zero", "/dev/urandom", fifo]:
        try:
            to_image_url(path)
            results[path] = "accepted"
        except InvalidInputError as exc:
            results[path] = "InvalidInputError: " + str(exc)
        except BaseException as exc:
            results[path] = type(exc).__name__
    os.unlink(fifo)
    os.rmdir(folder)
    print(json.dumps(results))
    """
)


@pytest.mark.skipif(not (hasattr(os, "mkfifo") and Path("/dev/zero").exists()), reason="POSIX special files")
def test_special_files_are_refused_without_reading() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SPECIAL_FILES],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(results) == 4
    for path, outcome in results.items():
        assert outcome.startswith("InvalidInputError: Image path"), (path, outcome)
        assert "directory" in outcome or "not a regular file" in outcome


def test_file_objects_are_read_with_a_bound() -> None:
    class Endless(io.RawIOBase):
        """A PNG header followed by zeros for ever; an unbounded read() would never return."""

        def __init__(self) -> None:
            super().__init__()
            self.asked: list[int] = []

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            self.asked.append(size)
            if size is None or size < 0:
                raise AssertionError("unbounded read of an image stream")
            return (b"\x89PNG\r\n\x1a\n" + bytes(size))[:size]

    source = Endless()
    with pytest.raises(InvalidInputError, match="more than 1,024 bytes"):
        to_image_url(source, max_bytes=1024)
    assert source.asked == [1025]


def test_pil_images_are_refused_while_encoding_not_after() -> None:
    class Huge:
        """A PIL-like image whose encoder writes 1 MiB at a time, 256 times (256 MiB in full)."""

        mode, format, size = "RGB", None, (20000, 20000)
        writes = 0

        def save(self, fp: Any, format: str, **_: Any) -> None:
            for _ in range(256):
                fp.write(bytes(1024 * 1024))
                Huge.writes += 1

    with pytest.raises(InvalidInputError, match="20000x20000 pixels"):
        to_image_url(Huge(), max_bytes=4 * 1024 * 1024)
    assert Huge.writes == 4  # stopped at the limit, not after encoding all 256 MiB


def test_real_pil_image_over_the_limit() -> None:
    image_module = pytest.importorskip("PIL.Image")
    noise = image_module.frombytes("RGB", (512, 512), os.urandom(512 * 512 * 3))  # ~790 KB as PNG
    with pytest.raises(InvalidInputError, match="encodes to more than"):
        to_image_url(noise, max_bytes=100_000)
    assert to_image_url(noise.resize((32, 32))).startswith("data:image/png;base64,")
