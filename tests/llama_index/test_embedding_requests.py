"""What StackitChutesEmbedding sends, checked offline against an in-process fake server."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from io import BytesIO
from typing import Any

import httpx2
import pytest

from llama_index_stackit_chutes import StackitChutesEmbedding
from stackit_chutes_core import ConfigurationError
from tests._http import CHUTES_EMBED_HOST, STACKIT_HOST, Recorder, json_response, request_json
from tests.llama_index._helpers import EMBED_MODELS, IMAGE_EMBED_MODEL, RED, make_png

E5_TASK = "Given a web search query, retrieve relevant passages that answer the query"


@pytest.fixture(autouse=True)
def _real_provider_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STACKIT_BASE_URL", "CHUTES_BASE_URL", "CHUTES_EMBEDDINGS_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _answer(request: httpx2.Request) -> httpx2.Response:
    body = request_json(request)
    count = len(body["input"]) if "input" in body else 1
    size = body.get("dimensions", 4)
    data = [{"index": i, "object": "embedding", "embedding": [float(i + 1)] * size} for i in reversed(range(count))]
    return json_response({"object": "list", "data": data, "usage": {"prompt_tokens": count, "total_tokens": count}})


def _model(server: Recorder, name: str = EMBED_MODELS["stackit"], **kwargs: Any) -> StackitChutesEmbedding:
    return StackitChutesEmbedding(model_name=name, **server.clients(llama_index=True), **kwargs)


class TestTextRequests:
    def test_query_gets_instruction_documents_do_not(self) -> None:
        server = Recorder(_answer)
        model = _model(server)
        model.get_query_embedding("rivers in Germany")
        model.get_text_embedding("The Rhine flows through Germany.")
        query, document = server.bodies()
        assert query["input"] == [f"Instruct: {E5_TASK}\nQuery: rivers in Germany"]
        assert document["input"] == ["The Rhine flows through Germany."]
        assert document["encoding_format"] == "base64"
        assert server.requests[0].url.host == STACKIT_HOST

    def test_query_instruction_override_and_off(self) -> None:
        server = Recorder(_answer)
        _model(server, query_instruction="Find code").get_query_embedding("q")
        _model(server, query_instruction="").get_query_embedding("q")
        assert server.bodies()[0]["input"] == ["Instruct: Find code\nQuery: q"]
        assert server.bodies()[1]["input"] == ["q"]

    def test_batches_follow_embed_batch_size_and_keep_order(self) -> None:
        server = Recorder(_answer)
        vectors = _model(server, embed_batch_size=2).get_text_embedding_batch(["a", "b", "c", "d", "e"])
        # Batches run concurrently (num_workers), so they may arrive in any order; the result keeps input order.
        assert sorted(len(b["input"]) for b in server.bodies()) == [1, 2, 2]
        assert [v[0] for v in vectors] == [1.0, 2.0, 1.0, 2.0, 1.0]  # data[i].index order, not list order

    def test_async_batches(self) -> None:
        server = Recorder(_answer)
        model = _model(server, embed_batch_size=2, num_workers=2)
        vectors = asyncio.run(model.aget_text_embedding_batch(["a", "b", "c"]))
        assert len(vectors) == 3
        assert sorted(len(b["input"]) for b in server.bodies()) == [1, 2]
        # a second event loop reuses nothing from the first
        assert len(asyncio.run(model.aget_text_embedding_batch(["a"]))) == 1

    def test_chutes_embeds_on_its_own_host_with_dimensions(self) -> None:
        server = Recorder(_answer)
        vector = _model(server, EMBED_MODELS["chutes"], dimensions=8).get_query_embedding("x")
        assert len(vector) == 8
        assert server.requests[0].url.host == CHUTES_EMBED_HOST
        assert server.bodies()[0]["dimensions"] == 8

    def test_show_progress_field(self, capsys: pytest.CaptureFixture[str]) -> None:
        server = Recorder(_answer)
        _model(server, show_progress=True, embed_batch_size=1).get_text_embedding_batch(["a", "b", "c"])
        err = capsys.readouterr().err
        assert "Generating embeddings" in err and "3/3" in err and "doc/s" in err

    def test_progress_without_tqdm_names_the_extra(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setitem(sys.modules, "tqdm", None)
        monkeypatch.setitem(sys.modules, "tqdm.auto", None)
        server = Recorder(_answer)
        model = _model(server)
        with pytest.raises(ConfigurationError, match=r"stackit-chutes\[progress\]"):
            model.get_text_embedding_batch(["a"], show_progress=True)
        with pytest.raises(ConfigurationError, match=r"stackit-chutes\[progress\]"):
            asyncio.run(model.aget_text_embedding_batch(["a"], show_progress=True))
        assert server.requests == []  # refused before sending
        assert len(model.get_text_embedding_batch(["a", "b"])) == 2  # off: nothing imported


class TestSyncBatchConcurrency:
    """Sync batches run concurrently (bounded by num_workers), in order, with one event pair per batch."""

    def _gated(self, workers: int, total: int) -> tuple[Recorder, dict[str, int]]:
        state = {"in_flight": 0, "peak": 0}
        cond = threading.Condition()

        def answer(request: httpx2.Request) -> httpx2.Response:
            body = request_json(request)
            with cond:
                state["in_flight"] += 1
                state["peak"] = max(state["peak"], state["in_flight"])
                cond.notify_all()
                # Hold until `workers` requests are in flight: sequential batches would time out here.
                cond.wait_for(lambda: state["in_flight"] >= workers or state.get("done", 0) >= total - workers, 5)
            with cond:
                state["in_flight"] -= 1
                state["done"] = state.get("done", 0) + 1
            data = [{"index": i, "embedding": [float(t.split()[-1])]} for i, t in enumerate(body["input"])]
            return json_response({"object": "list", "data": data})

        return Recorder(answer), state

    def test_batches_overlap_up_to_num_workers_and_keep_order(self) -> None:
        from llama_index.core.callbacks import CallbackManager, LlamaDebugHandler
        from llama_index.core.callbacks.schema import CBEventType

        server, state = self._gated(workers=3, total=6)
        debug = LlamaDebugHandler()
        model = _model(server, embed_batch_size=2, num_workers=3, callback_manager=CallbackManager([debug]))
        texts = [f"text {i}" for i in range(12)]
        started = time.monotonic()
        vectors = model.get_text_embedding_batch(texts)
        assert time.monotonic() - started < 4  # no 5 s gate timeout: the batches really overlapped
        assert vectors == [[float(i)] for i in range(12)]
        assert state["peak"] == 3  # bounded by num_workers
        pairs = debug.get_event_pairs(CBEventType.EMBEDDING)
        assert len(pairs) == 6
        chunks = [pair[1].payload["chunks"] for pair in pairs]
        assert [t for chunk in chunks for t in chunk] == texts

    def test_a_failed_batch_ends_every_event_with_the_error(self) -> None:
        from llama_index.core.callbacks import CallbackManager, LlamaDebugHandler
        from llama_index.core.callbacks.schema import CBEventType, EventPayload

        from stackit_chutes_core import BadRequestError

        def answer(request: httpx2.Request) -> httpx2.Response:
            if "text 3" in request_json(request)["input"]:
                return httpx2.Response(400, json={"error": {"message": "bad text", "code": 400}})
            return _answer(request)

        debug = LlamaDebugHandler()
        model = _model(Recorder(answer), embed_batch_size=2, callback_manager=CallbackManager([debug]), max_retries=0)
        with pytest.raises(BadRequestError, match="bad text"):
            model.get_text_embedding_batch([f"text {i}" for i in range(6)])
        pairs = debug.get_event_pairs(CBEventType.EMBEDDING)
        assert len(pairs) == 3
        assert all(EventPayload.EXCEPTION in pair[1].payload for pair in pairs)


class TestImageRequests:
    def test_image_goes_through_messages(self) -> None:
        server = Recorder(_answer)
        model = _model(server, IMAGE_EMBED_MODEL, dimensions=16)
        vector = model.get_image_embedding(BytesIO(make_png(RED)))
        assert len(vector) == 16
        body = server.bodies()[0]
        assert "input" not in body
        assert body["continue_final_message"] is True
        assert body["add_special_tokens"] is True
        system, user, assistant = body["messages"]
        assert system["role"] == "system"
        assert user["content"][0]["image_url"]["url"].startswith("data:image/png;base64,")
        assert assistant == {"role": "assistant", "content": [{"type": "text", "text": ""}]}

    def test_http_url_passes_through(self) -> None:
        server = Recorder(_answer)
        _model(server, IMAGE_EMBED_MODEL).get_image_embedding("https://example.com/cat.png")
        assert server.bodies()[0]["messages"][1]["content"][0]["image_url"]["url"] == "https://example.com/cat.png"

    def test_image_batch_one_request_per_image(self) -> None:
        server = Recorder(_answer)
        model = _model(server, IMAGE_EMBED_MODEL, num_workers=2)
        vectors = asyncio.run(model.aget_image_embedding_batch([BytesIO(make_png(RED))] * 3))
        assert len(vectors) == 3
        assert len(server.requests) == 3

    def test_text_query_shares_the_image_space(self) -> None:
        server = Recorder(_answer)
        _model(server, IMAGE_EMBED_MODEL).get_query_embedding("a red square")
        body = server.bodies()[0]
        assert body["messages"][0]["content"][0]["text"] == "Retrieve images or text relevant to the user's query."
        assert body["messages"][1]["content"] == [{"type": "text", "text": "a red square"}]

    def test_bad_image_source(self) -> None:
        from stackit_chutes_core import InvalidInputError

        model = _model(Recorder(_answer), IMAGE_EMBED_MODEL)
        with pytest.raises(InvalidInputError):
            model.get_image_embedding(BytesIO(b"not an image"))
