"""refresh_catalog("chutes") against a local listing server shaped like the real Chutes listing.

The entries follow the unauthenticated ``GET https://llm.chutes.ai/v1/models`` of 2026-09-28
(juspay/neurolink chutes.json) and the verbatim entry of providers.md section 4.3: ``context_length``,
``max_model_len``, ``max_output_length``, ``input_modalities``, ``supported_features``, ``pricing``.
The server binds 127.0.0.1 on an OS-chosen port and is shut down by its fixture.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from stackit_chutes_core import _discovery, _listing, catalog, refresh_catalog

ROOT = Path(__file__).resolve().parents[2]

KIMI = {
    "id": "moonshotai/Kimi-K2.6-TEE",
    "root": "moonshotai/Kimi-K2.6",
    "object": "model",
    "owned_by": "vllm",
    "pricing": {"prompt": 0.45, "completion": 2.5, "input_cache_read": 0.045},
    "max_model_len": 262144,
    "context_length": 262144,
    "max_output_length": 65535,
    "input_modalities": ["text", "image", "video"],
    "output_modalities": ["text"],
    "supported_features": ["json_mode", "structured_outputs", "tools", "reasoning"],
    "confidential_compute": True,
}
# Today only max_model_len is listed for it; here the listing starts documenting images and tools.
NEMO = {
    "id": "unsloth/Mistral-Nemo-Instruct-2407-TEE",
    "pricing": {"prompt": 0.02, "completion": 0.08},
    "max_model_len": 65536,
    "input_modalities": ["text", "image"],
    "supported_features": ["tools"],
}
SPARSE = {"id": "Nemotron-3-Nano-Omni-30B-TEE", "max_model_len": 131072}  # only max_model_len
BACK = {"id": "zai-org/GLM-5-TEE", "context_length": 202752, "pricing": {"prompt": 0.9, "completion": 2.5}}


class _Listing(BaseHTTPRequestHandler):
    entries: ClassVar[list[dict[str, Any]]] = []
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        body = json.dumps({"object": "list", "data": type(self).entries}).encode()
        self.send_response(200 if self.path == "/v1/models" else 404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def listing() -> Iterator[tuple[str, type[_Listing]]]:
    handler = type("Handler", (_Listing,), {"entries": [KIMI, NEMO, SPARSE, BACK], "hits": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _packaged_catalog() -> Iterator[None]:
    def reset() -> None:
        catalog._rows = None
        catalog._aliases.clear()
        catalog._user_rows.clear()
        _discovery._fetched_at.clear()
        _discovery._merged.clear()
        _discovery._listings.clear()

    reset()
    yield
    reset()


def test_refresh_merges_the_listing_shape(listing: tuple[str, type[_Listing]]) -> None:
    url, handler = listing
    before = catalog.lookup("chutes", NEMO["id"])
    assert before is not None and not before.capabilities.tools and not before.documents("input_modalities")

    rows = {row.id: row for row in refresh_catalog("chutes", base_url=url, environ={})}

    assert handler.hits == ["/v1/models"]
    kimi = catalog.lookup("chutes", KIMI["id"])
    assert kimi is rows[KIMI["id"]]
    assert (kimi.price.input, kimi.price.output, kimi.price.currency) == (Decimal("0.45"), Decimal("2.5"), "USD")
    assert kimi.context_window == 262144 and kimi.max_output_tokens == 65535
    caps = kimi.capabilities
    assert caps.tools and caps.structured_output and caps.json_mode and caps.reasoning and caps.image_input
    assert kimi.input_modalities == ("text", "image", "video")
    assert kimi.as_of == time.strftime("%Y-%m-%d", time.gmtime()) and kimi.source.startswith("chutes GET")
    nemo = catalog.lookup("chutes", NEMO["id"])
    assert nemo.capabilities.tools and nemo.capabilities.image_input and nemo.documents("input_modalities")
    assert nemo.context_window == 65536  # max_model_len when context_length is absent
    assert nemo.max_output_tokens == before.max_output_tokens  # not listed: packaged value kept
    # a sparse entry states nothing new but its context; its undocumented facts stay undocumented
    sparse = catalog.lookup("chutes", SPARSE["id"])
    assert sparse.context_window == 131072 and not sparse.documents("input_modalities")
    # a model back in the listing is active again
    assert catalog.lookup("chutes", BACK["id"]).status == "active"


def test_a_user_declared_capability_wins_over_the_refresh(listing: tuple[str, type[_Listing]]) -> None:
    url, _ = listing
    packaged = catalog.lookup("chutes", KIMI["id"])
    mine = replace(packaged, capabilities=replace(packaged.capabilities, tools=False), notes="mine")
    catalog.register_model(mine)
    refresh_catalog("chutes", base_url=url, environ={})
    assert catalog.lookup("chutes", KIMI["id"]) is mine
    assert [m for m in catalog.all_models("chutes") if m.id == KIMI["id"]] == [mine]
    catalog.unregister_model("chutes", KIMI["id"])
    assert catalog.lookup("chutes", KIMI["id"]).capabilities.tools  # the refreshed row shows again


def _lookup_in_a_new_process(cache: Path, model_id: str) -> dict[str, Any]:
    code = (
        "import json, sys\n"
        "import stackit_chutes_core\n"
        "from stackit_chutes_core import catalog\n"
        "assert catalog._rows is None, 'the catalog must load lazily, not at import'\n"
        f"info = catalog.lookup('chutes', {model_id!r})\n"
        "print(json.dumps({'price': str(info.price.input), 'context': info.context_window,\n"
        "                  'image': info.capabilities.image_input, 'as_of': info.as_of}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    env[_listing.CACHE_DIR_ENV] = str(cache)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=True
    )
    return json.loads(done.stdout)


def test_a_persisted_listing_is_loaded_by_later_processes(listing: tuple[str, type[_Listing]], tmp_path: Path) -> None:
    url, handler = listing
    refresh_catalog("chutes", base_url=url, environ={}, persist=True, cache_dir=tmp_path)
    cache = _listing.cache_file("chutes", tmp_path)
    assert json.loads(cache.read_text("utf-8"))["entries"][0]["id"] == KIMI["id"]
    seen = _lookup_in_a_new_process(tmp_path, NEMO["id"])
    assert seen == {"price": "0.02", "context": 65536, "image": True, "as_of": time.strftime("%Y-%m-%d", time.gmtime())}
    assert handler.hits == ["/v1/models"]  # the later process made no request


def test_persist_after_an_in_process_cache_hit_still_writes(
    listing: tuple[str, type[_Listing]], tmp_path: Path
) -> None:
    url, handler = listing
    refresh_catalog("chutes", base_url=url, environ={})
    refresh_catalog("chutes", base_url=url, environ={}, persist=True, cache_dir=tmp_path)
    assert handler.hits == ["/v1/models"]  # answered from the in-process cache...
    saved = _listing.read_cache(_listing.cache_file("chutes", tmp_path))
    assert saved is not None and [e["id"] for e in saved.entries] == [KIMI["id"], NEMO["id"], SPARSE["id"], BACK["id"]]


def test_a_stale_or_corrupt_cache_is_ignored(tmp_path: Path) -> None:
    old = _listing.CachedListing("chutes", "https://llm.chutes.ai/v1", "USD", time.time() - 2 * 86400, (NEMO,))
    _listing.write_cache(_listing.cache_file("chutes", tmp_path), old)
    (tmp_path / "catalog-other.json").write_text("{not json", "utf-8")
    seen = _lookup_in_a_new_process(tmp_path, NEMO["id"])
    assert seen["price"] == "0.0245" and seen["context"] == 131072 and seen["image"] is False
    assert _listing.read_cache(_listing.cache_file("chutes", tmp_path)) is None
    assert _listing.read_cache(tmp_path / "catalog-other.json") is None


def test_cache_dir_follows_xdg_and_the_override() -> None:
    assert _listing.cache_dir({"XDG_CACHE_HOME": "/x"}) == Path("/x/stackit-chutes")
    assert _listing.cache_dir({"XDG_CACHE_HOME": "/x", _listing.CACHE_DIR_ENV: "/y"}) == Path("/y")
