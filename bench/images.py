"""Issue #6: 100 image embeddings at 50 ms emulated latency; wall time against the ideal.

ideal = ceil(images / concurrency) * latency, i.e. perfect waves with zero client and server cost.
Every client runs at its own default concurrency and at each explicit one; the ratio to the ideal
should stay <= 2.0. Async clients keep one event loop per case (steady state: pooled clients and
connections survive between repetitions). Also checks that the emulator serves concurrent requests
in parallel and measures its own per-request cost.
"""

from __future__ import annotations

import asyncio
import gc
import json
import math
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.clients import API_KEY, IMAGE_EMBED_MODEL, close_core_async_clients, wire_id
from bench.harness import describe_error

TARGET_RATIO = 2.0
INSTRUCTION = "Represent the user's input."


def make_pngs(count: int) -> list[bytes]:
    """``count`` distinct tiny PNGs (deterministic colours) from ``tests/pngs.py``."""
    from tests.pngs import COLOURS, solid_png

    base = list(COLOURS.values())
    out = []
    for i in range(count):
        r, g, b = base[i % len(base)]
        out.append(solid_png(((r + 7 * i) % 256, (g + 13 * i) % 256, (b + 29 * i) % 256), 8))
    return out


def raw_body(data_url: str) -> dict[str, Any]:
    """The vLLM ``messages`` embedding body, written out by hand (what the core sends)."""
    return {
        "model": wire_id(IMAGE_EMBED_MODEL),
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": INSTRUCTION}]},
            {
                "role": "user",
                "content": [{"type": "image_url", "image_url": {"url": data_url}}, {"type": "text", "text": ""}],
            },
            {"role": "assistant", "content": [{"type": "text", "text": ""}]},
        ],
        "encoding_format": "float",
        "continue_final_message": True,
        "add_special_tokens": True,
    }


Run = Callable[[list[Any]], Any]
Runner = Run | tuple[Run, Callable[[], None]]
"""``run(images) -> vectors``, optionally with a ``close()`` for its clients and event loop."""


@dataclass
class Case:
    """One client at one concurrency: ``setup(concurrency)`` returns ``run(images) -> vectors``."""

    name: str
    setup: Callable[[int | None], Runner]
    default_concurrency: Callable[[], int]
    inputs: str = "png"
    """``png`` (bytes), ``path`` (files) or ``body`` (pre-built request bodies)."""


def _cases(base_urls: dict[str, str]) -> list[Case]:
    base = base_urls["stackit"]

    def core_default() -> int:
        from stackit_chutes_core._embeddings import DEFAULT_MAX_CONCURRENCY

        return DEFAULT_MAX_CONCURRENCY

    def openai_async(concurrency: int | None) -> Runner:
        import openai

        limit = concurrency or core_default()
        loop = asyncio.new_event_loop()
        client = openai.AsyncOpenAI(base_url=base, api_key=API_KEY)

        async def main(bodies: list[Any]) -> list[Any]:
            gate = asyncio.Semaphore(limit)

            async def one(body: dict[str, Any]) -> Any:
                async with gate:
                    return await client.post("/embeddings", body=body, cast_to=object)

            return await asyncio.gather(*(one(b) for b in bodies))

        def close() -> None:
            loop.run_until_complete(client.close())
            loop.close()

        return (lambda bodies: loop.run_until_complete(main(bodies))), close

    def core_sync(concurrency: int | None) -> Runner:
        from stackit_chutes_core import EmbeddingItem, embed_items, resolve_endpoint, to_image_url

        endpoint = resolve_endpoint(IMAGE_EMBED_MODEL, purpose="embeddings")
        options: dict[str, Any] = {"max_concurrency": concurrency} if concurrency else {}
        return lambda pngs: embed_items(endpoint, [EmbeddingItem(image_url=to_image_url(p)) for p in pngs], **options)

    def core_async(concurrency: int | None) -> Runner:
        from stackit_chutes_core import EmbeddingItem, aembed_items, resolve_endpoint, to_image_url

        endpoint = resolve_endpoint(IMAGE_EMBED_MODEL, purpose="embeddings")
        options: dict[str, Any] = {"max_concurrency": concurrency} if concurrency else {}
        loop = asyncio.new_event_loop()

        async def main(pngs: list[bytes]) -> Any:
            items = [EmbeddingItem(image_url=to_image_url(p)) for p in pngs]
            return await aembed_items(endpoint, items, **options)

        def close() -> None:
            loop.run_until_complete(close_core_async_clients())
            loop.close()

        return (lambda pngs: loop.run_until_complete(main(pngs))), close

    def langchain_default() -> int:
        from langchain_stackit_chutes import StackitChutesEmbeddings

        return int(StackitChutesEmbeddings(model=IMAGE_EMBED_MODEL).max_concurrency)

    def langchain(concurrency: int | None) -> Runner:
        from langchain_stackit_chutes import StackitChutesEmbeddings

        options: dict[str, Any] = {"max_concurrency": concurrency} if concurrency else {}
        embeddings = StackitChutesEmbeddings(model=IMAGE_EMBED_MODEL, **options)
        return lambda paths: embeddings.embed_image([str(p) for p in paths])

    def llama_default() -> int:
        from llama_index_stackit_chutes import StackitChutesEmbedding

        return int(StackitChutesEmbedding(model_name=IMAGE_EMBED_MODEL).num_workers or 1)

    def llama(concurrency: int | None) -> Runner:
        from llama_index_stackit_chutes import StackitChutesEmbedding

        options: dict[str, Any] = {"num_workers": concurrency} if concurrency else {}
        embedding = StackitChutesEmbedding(model_name=IMAGE_EMBED_MODEL, **options)
        return lambda paths: embedding.get_image_embedding_batch([str(p) for p in paths])

    return [
        Case("openai SDK AsyncOpenAI.post + semaphore", openai_async, core_default, inputs="body"),  # one loop
        Case("ours: core embed_items (threads)", core_sync, core_default),
        Case("ours: core aembed_items (async)", core_async, core_default),
        Case("ours: LangChain embed_image", langchain, langchain_default, inputs="path"),
        Case("ours: LlamaIndex get_image_embedding_batch", llama, llama_default, inputs="path"),
    ]


def check_parallel(base_url: str, body: dict[str, Any], latency_s: float, concurrency: int = 16) -> dict[str, Any]:
    """Fire ``concurrency`` raw requests at once: parallel serving takes ~1 latency, serial ~N."""
    import httpx

    payload = json.dumps(body).encode()
    headers = {"authorization": f"Bearer {API_KEY}", "content-type": "application/json"}
    url = f"{base_url}/embeddings"
    with httpx.Client(timeout=60, limits=httpx.Limits(max_connections=concurrency * 2)) as client:

        def one(_: int) -> None:
            client.post(url, content=payload, headers=headers).raise_for_status()

        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, range(concurrency)))  # connect + warm up
            start = time.perf_counter()
            list(pool.map(one, range(concurrency)))
            wall = time.perf_counter() - start
    serial = concurrency * latency_s
    return {
        "concurrent_requests": concurrency,
        "latency_ms": latency_s * 1000,
        "wall_ms": round(wall * 1000, 2),
        "serial_would_take_ms": round(serial * 1000, 2),
        "parallel": wall < serial / 2,
    }


def measure_service_ms(base_url: str, body: dict[str, Any], calls: int = 30) -> float:
    """Median round trip of one image embedding request at zero latency (emulator + socket cost)."""
    import httpx

    payload = json.dumps(body).encode()
    headers = {"authorization": f"Bearer {API_KEY}", "content-type": "application/json"}
    samples = []
    with httpx.Client(timeout=60) as client:
        for _ in range(calls + 3):
            start = time.perf_counter()
            client.post(f"{base_url}/embeddings", content=payload, headers=headers).raise_for_status()
            samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples[3:])


def run_images(
    base_urls: dict[str, str], *, count: int, latency_s: float, concurrencies: list[int], repeats: int
) -> list[dict[str, Any]]:
    """Every case at its default and at each explicit concurrency; median wall of ``repeats`` runs."""
    from stackit_chutes_core import to_image_url

    pngs = make_pngs(count)
    bodies = [raw_body(to_image_url(p)) for p in pngs]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-images-") as folder:
        paths = []
        for i, png in enumerate(pngs):
            path = Path(folder) / f"image-{i:03d}.png"
            path.write_bytes(png)
            paths.append(path)
        inputs: dict[str, list[Any]] = {"png": list(pngs), "path": list(paths), "body": list(bodies)}
        for case in _cases(base_urls):
            try:
                default = case.default_concurrency()
            except Exception as exc:
                rows.append({"name": case.name, "status": "n/a", "reason": describe_error(exc)})
                continue
            settings: list[tuple[str, int | None, int]] = [("default", None, default)]
            settings += [(str(c), c, c) for c in concurrencies if c != default]
            for label, explicit, effective in settings:
                rows.append(_run_case(case, inputs[case.inputs], label, explicit, effective, latency_s, repeats))
    return rows


def _run_case(
    case: Case, data: list[Any], label: str, explicit: int | None, effective: int, latency_s: float, repeats: int
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": case.name,
        "concurrency": effective,
        "concurrency_setting": "default" if explicit is None else "explicit",
        "label": label,
    }
    ideal = math.ceil(len(data) / effective) * latency_s * 1000
    row["ideal_ms"] = round(ideal, 1)
    close: Callable[[], None] | None = None
    try:
        made = case.setup(explicit)
        run, close = made if isinstance(made, tuple) else (made, None)
        run(data[: max(effective, 4)])  # warm up: connections, imports
        walls = []
        for _ in range(repeats):
            gc.collect()
            start = time.perf_counter()
            result = run(data)
            walls.append((time.perf_counter() - start) * 1000)
            _check_count(result, len(data))
    except Exception as exc:
        row.update(status="n/a", reason=describe_error(exc))
        return row
    finally:
        if close is not None:
            close()
    wall = statistics.median(walls)
    row.update(
        status="ok",
        wall_ms=round(wall, 1),
        min_wall_ms=round(min(walls), 1),
        ratio_to_ideal=round(wall / ideal, 3),
        target_met=wall / ideal <= TARGET_RATIO,
    )
    return row


def _check_count(result: Any, expected: int) -> None:
    vectors = getattr(result, "vectors", result)
    if len(vectors) != expected:
        raise RuntimeError(f"expected {expected} vectors, got {len(vectors)}")


def format_images(rows: list[dict[str, Any]], info: dict[str, Any]) -> str:
    """The image table (one line per client and concurrency)."""
    title = (
        f"Images (issue #6): {info['count']} image embeddings, {IMAGE_EMBED_MODEL}, "
        f"{info['latency_ms']:.0f} ms emulated latency; target wall <= {TARGET_RATIO:.1f}x ideal"
    )
    lines = [title, "-" * len(title)]
    width = max(len(r["name"]) for r in rows) if rows else 10
    lines.append(f"{'client':<{width}}  {'concurrency':>14}  {'wall ms':>8}  {'ideal ms':>8}  {'x ideal':>7}  target")
    for row in rows:
        setting = f"{row.get('concurrency', '?')} ({row.get('label', '')})" if "label" in row else ""
        if row["status"] != "ok":
            lines.append(f"{row['name']:<{width}}  {setting:>14}  n/a ({row['reason']})")
            continue
        mark = "ok" if row["target_met"] else "MISSED"
        lines.append(
            f"{row['name']:<{width}}  {setting:>14}  {row['wall_ms']:>8.1f}  {row['ideal_ms']:>8.1f}  "
            f"{row['ratio_to_ideal']:>7.2f}  {mark}"
        )
    check = info.get("parallel_check")
    if check:
        verdict = "serves in parallel" if check["parallel"] else "SERIALISES requests"
        lines.append(
            f"emulator: {check['concurrent_requests']} simultaneous requests took {check['wall_ms']:.1f} ms "
            f"(serial would be {check['serial_would_take_ms']:.0f} ms): {verdict}"
        )
    worst = info.get("worst")
    if worst:
        verdict = "all within target" if info.get("all_targets_met") else "TARGET MISSED"
        lines.append(
            f"worst: {worst['ratio_to_ideal']:.2f}x ideal ({worst['name']}, concurrency {worst['concurrency']}): "
            f"{verdict}"
        )
    if "service_ms" in info:
        lines.append(
            f"emulator: one image request at 0 ms latency takes {info['service_ms']:.2f} ms round trip "
            f"(server CPU per image; it adds to every wave)"
        )
    return "\n".join(lines)
