"""``python -m bench [--quick] [--json PATH] [--only SCENARIO ...]``: run the benchmarks, print tables, write JSON."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import clients, harness, images, imports, paced, report, streams
from bench.emulator import ROOT, EmulatorProcess

SCENARIOS = ("chat_sync", "chat_stream", "chat_async", "embeddings", "images", "long_streams", "paced", "imports")


@dataclass
class Config:
    """Request counts of one run (``--quick`` shrinks them)."""

    sync_calls: int = 200
    stream_calls: int = 100
    async_calls: int = 200
    async_concurrency: int = 16
    embedding_calls: int = 40
    rounds: int = 5
    async_rounds: int = 5
    warmup: int = 5
    image_count: int = 100
    image_latency_s: float = 0.05
    image_concurrencies: list[int] = field(default_factory=lambda: [8, 16])
    image_repeats: int = 3
    stream_small: int = 1_000
    stream_large: int = 100_000
    stream_small_repeats: int = 5
    stream_large_repeats: int = 1
    paced_texts: int = 20_000
    import_runs: int = 7


QUICK = Config(
    sync_calls=30,
    stream_calls=30,
    async_calls=64,
    embedding_calls=9,
    rounds=3,
    async_rounds=2,
    warmup=3,
    image_repeats=1,
    stream_large=20_000,
    stream_small_repeats=3,
    stream_large_repeats=1,
    paced_texts=4_000,
    import_runs=3,
)


def _chat_scenario(sid: str, urls: dict[str, str], cfg: Config) -> dict[str, Any]:
    if sid == "chat_async":
        rows = harness.run_concurrent(
            clients.chat_contenders(urls, "async"),
            calls=cfg.async_calls,
            concurrency=cfg.async_concurrency,
            rounds=cfg.async_rounds,
            warmup=cfg.warmup,
        )
        title = (
            f"(c) async chat: {cfg.async_calls} calls at concurrency {cfg.async_concurrency}, "
            f"{cfg.async_rounds} rounds; effective ms per call (round wall / calls)"
        )
        return {
            "id": sid,
            "title": title,
            "calls": cfg.async_calls,
            "rounds": cfg.async_rounds,
            "concurrency": cfg.async_concurrency,
            "rows": harness.summarise(rows),
        }
    mode: clients.Mode = "stream" if sid == "chat_stream" else "sync"
    calls = cfg.stream_calls if mode == "stream" else cfg.sync_calls
    rows = harness.run_sequential(
        clients.chat_contenders(urls, mode), calls=calls, rounds=cfg.rounds, warmup=cfg.warmup
    )
    what = "sync streaming chat, every chunk consumed" if mode == "stream" else "sync non-stream chat"
    title = f"({'b' if mode == 'stream' else 'a'}) {what}: {calls} sequential calls in {cfg.rounds} interleaved rounds"
    return {"id": sid, "title": title, "calls": calls, "rounds": cfg.rounds, "rows": harness.summarise(rows)}


def _embedding_scenario(urls: dict[str, str], cfg: Config) -> dict[str, Any]:
    rows = harness.run_sequential(
        clients.embedding_contenders(urls), calls=cfg.embedding_calls, rounds=cfg.rounds, warmup=cfg.warmup
    )
    title = (
        f"(d) text embeddings: {len(clients.TEXTS)} texts per call, {clients.TEXT_EMBED_MODEL} (4096-d), "
        f"{cfg.embedding_calls} sequential calls in {cfg.rounds} rounds"
    )
    return {
        "id": "embeddings",
        "title": title,
        "calls": cfg.embedding_calls,
        "rounds": cfg.rounds,
        "texts_per_call": len(clients.TEXTS),
        "rows": harness.summarise(rows),
    }


def _image_scenario(emu: EmulatorProcess, cfg: Config) -> dict[str, Any]:
    from stackit_chutes_core import to_image_url

    urls = emu.base_urls
    body = images.raw_body(to_image_url(images.make_pngs(1)[0]))
    emu.set_latency(0.0)
    info: dict[str, Any] = {"count": cfg.image_count, "latency_ms": cfg.image_latency_s * 1000}
    info["service_ms"] = round(images.measure_service_ms(urls["stackit"], body), 3)
    emu.set_latency(cfg.image_latency_s)
    try:
        info["parallel_check"] = images.check_parallel(urls["stackit"], body, cfg.image_latency_s)
        rows = images.run_images(
            urls,
            count=cfg.image_count,
            latency_s=cfg.image_latency_s,
            concurrencies=cfg.image_concurrencies,
            repeats=cfg.image_repeats,
        )
    finally:
        emu.set_latency(0.0)
    measured = [r for r in rows if r["status"] == "ok"]
    worst = max(measured, key=lambda r: r["ratio_to_ideal"]) if measured else None
    return {
        "id": "images",
        "title": "images (issue #6)",
        **info,
        "repeats": cfg.image_repeats,
        "target_ratio": images.TARGET_RATIO,
        "all_targets_met": bool(measured) and all(r["target_met"] for r in measured),
        "worst": {k: worst[k] for k in ("name", "concurrency", "ratio_to_ideal")} if worst else None,
        "rows": rows,
    }


def _long_stream_scenario(cfg: Config) -> dict[str, Any]:
    rows = streams.run_streams(cfg.stream_small, cfg.stream_large, cfg.stream_small_repeats, cfg.stream_large_repeats)
    title = (
        f"(e) long streams: per-chunk cost at {cfg.stream_small:,} and {cfg.stream_large:,} chunks "
        f"(best of {cfg.stream_small_repeats} / {cfg.stream_large_repeats}); target ratio <= {streams.TARGET}"
    )
    ours = [r for r in rows if r["role"] == "ours"]
    return {
        "id": "long_streams",
        "title": title,
        "small": cfg.stream_small,
        "large": cfg.stream_large,
        "all_targets_met": bool(ours) and all(r.get("target_met") for r in ours),
        "rows": rows,
    }


def _paced_scenario(cfg: Config) -> dict[str, Any]:
    rows = paced.run_paced(cfg.paced_texts)
    title = (
        f"(f) paced bulk embedding: {cfg.paced_texts:,} texts in batches of {paced.BATCH} against a server enforcing "
        f"{paced.REQUESTS_PER_MINUTE} requests/min and {paced.TOKENS_PER_MINUTE:,} tokens/min (10 s window), "
        f"{paced.RANDOM_429:.0%} random 429s; target for ours: 0 failed, >= {paced.TARGET:.0%} of the allowed rate"
    )
    ours = [r for r in rows if r["role"] == "ours"]
    return {
        "id": "paced",
        "title": title,
        "texts": cfg.paced_texts,
        "all_targets_met": bool(ours) and all(r.get("target_met") for r in ours),
        "rows": rows,
    }


def _import_scenario(cfg: Config) -> dict[str, Any]:
    rows = imports.run_imports(cfg.import_runs)
    title = f"(g) import time: median of {cfg.import_runs} fresh interpreters each (-X importtime, start-up excluded)"
    targeted = [r for r in rows if r.get("target") is not None]
    return {
        "id": "imports",
        "title": title,
        "all_targets_met": bool(targeted) and all(r.get("target_met") for r in targeted),
        "rows": rows,
    }


def _print_scenario(result: dict[str, Any]) -> None:
    if result["id"] == "imports":
        print(imports.format_imports(result), flush=True)
    elif result["id"] == "paced":
        print(paced.format_paced(result), flush=True)
    elif result["id"] == "long_streams":
        print(streams.format_streams(result), flush=True)
    elif result["id"] == "images":
        print(images.format_images(result["rows"], result), flush=True)
    else:
        print(harness.format_table(result["title"], result["rows"]), flush=True)
    print(flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the selected scenarios against one emulator process."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer calls (~40 s instead of ~3 min)")
    parser.add_argument(
        "--json",
        type=Path,
        default=ROOT / "bench" / "results" / "latest.json",
        help="where to write the results (default: bench/results/latest.json)",
    )
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, help="run only these scenarios")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else Config()
    selected = args.only or list(SCENARIOS)
    env = report.environment(ROOT)
    print(report.format_environment(env), end="\n\n", flush=True)
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    with EmulatorProcess(latency_s=0.0) as emu:
        nagle_patched = emu.nagle_patched
        if nagle_patched:
            print(
                "note: the emulator's server sockets had Nagle on (40 ms delayed-ACK stalls); "
                "bench switched on TCP_NODELAY in its own emulator process\n",
                flush=True,
            )
        clients.configure_environment(emu.base_urls)
        for sid in selected:
            if sid == "images":
                result = _image_scenario(emu, cfg)
            elif sid == "long_streams":
                result = _long_stream_scenario(cfg)
            elif sid == "paced":
                result = _paced_scenario(cfg)
            elif sid == "imports":
                result = _import_scenario(cfg)
            elif sid == "embeddings":
                result = _embedding_scenario(emu.base_urls, cfg)
            else:
                result = _chat_scenario(sid, emu.base_urls, cfg)
            emu.clear()
            results.append(result)
            _print_scenario(result)
    elapsed = time.perf_counter() - started
    document = {
        "schema": 1,
        "command": "python -m bench" + (" --quick" if args.quick else ""),
        "environment": env,
        "config": asdict(cfg),
        "emulator": {
            "what": "tests.emulator.ProviderEmulator in a child process on 127.0.0.1",
            "tcp_nodelay_patched_by_bench": nagle_patched,
        },
        "chat_model": clients.CHAT_MODEL,
        "elapsed_s": round(elapsed, 1),
        "load_average_at_end": report.load_average(),
        "scenarios": results,
    }
    report.write_json(args.json, document)
    print(f"done in {elapsed:.0f} s; results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
