"""The ``stackit-chutes`` command line: ``models``, ``chat``, ``embed`` and ``demo``.

Built on the core alone. ``models`` reads the packaged catalog without importing the ``openai`` SDK
(it is loaded on the first request), so it starts in a fraction of the time a framework import takes.

Exit codes scripts can rely on: 0 success, 2 usage error, 3 configuration error (missing key,
unknown provider or model, unusable input), 4 provider error (auth, quota, rate limit, bad request,
server, connection), 130 interrupted. Expected errors print one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from stackit_chutes_core._selection import CAPABILITY_NAMES, has_capability, is_confidential, list_models
from stackit_chutes_core.catalog import ModelInfo
from stackit_chutes_core.errors import APIError, ConfigurationError, MissingAPIKeyError, NotFoundError

__all__ = ["main"]

EXIT_OK, EXIT_USAGE, EXIT_CONFIG, EXIT_PROVIDER, EXIT_INTERRUPTED = 0, 2, 3, 4, 130

# Where a user gets a key, per provider (shown with the "missing key" error).
KEY_HELP = {
    "stackit": "create an auth token in the STACKIT portal (https://portal.stackit.cloud): "
    "your project > AI Model Serving > Create token",
    "chutes": "create an API key in your Chutes account at https://chutes.ai (API keys)",
}


def _price_text(info: ModelInfo) -> str:
    if info.price is None:
        return "-"
    return f"{info.price.input.normalize():f}/{info.price.output.normalize():f} {info.price.currency}"


def _context_text(tokens: int | None) -> str:
    if tokens is None:
        return "-"
    return f"{round(tokens / 1000)}K" if tokens >= 1000 else str(tokens)


def _capability_names(info: ModelInfo) -> list[str]:
    names = [name for name in CAPABILITY_NAMES if has_capability(info, name)]
    return [*names, "tee"] if is_confidential(info) else names


def model_to_json(info: ModelInfo) -> dict[str, Any]:
    """One catalog row as the ``models --json`` object."""
    price = info.price
    return {
        "id": info.qualified_name,
        "provider": info.provider,
        "model_id": info.id,
        "kind": info.kind,
        "aliases": list(info.aliases),
        "context_window": info.context_window,
        "max_output_tokens": info.max_output_tokens,
        "capabilities": [name for name in CAPABILITY_NAMES if has_capability(info, name)],
        "confidential_compute": is_confidential(info),
        "embedding_dimensions": info.embedding_dimensions,
        "price": None
        if price is None
        else {"input": float(price.input), "output": float(price.output), "currency": price.currency},
        "status": info.status,
        "replacement": info.replacement,
    }


def _table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() + "\n")


def cmd_models(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``models``: the catalog as a table or JSON."""
    rows = list_models(
        provider=args.provider,
        kind=args.kind,
        capabilities=args.capability or (),
        confidential_compute=True if args.tee else None,
        max_price=args.max_price,
        min_context=args.min_context,
        live=args.live,
    )
    if args.json:
        json.dump([model_to_json(info) for info in rows], out, indent=2)
        out.write("\n")
        return EXIT_OK
    if not rows:
        err.write("no model matches these filters\n")
        return EXIT_OK
    header = ("MODEL", "ALIASES", "KIND", "CONTEXT", "CAPABILITIES", "PRICE IN/OUT PER 1M", "STATUS")
    body = [
        (
            info.qualified_name,
            ",".join(info.aliases) or "-",
            info.kind,
            _context_text(info.context_window),
            ",".join(_capability_names(info)) or "-",
            _price_text(info),
            info.status if not info.replacement else f"{info.status} (use {info.replacement})",
        )
        for info in rows
    ]
    _table([header, *body], out)
    err.write(f"{len(rows)} models; paste the MODEL column into ChatStackitChutes(model=...) or StackitChutes(...)\n")
    return EXIT_OK


def _usage_json(usage: Any) -> dict[str, Any] | None:
    if usage is None:
        return None
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
    }


def _cost_json(cost: Any) -> dict[str, Any] | None:
    return None if cost is None else dict(cost.as_dict())


def _report_usage(endpoint: Any, usage: Any, cost: Any, err: TextIO) -> None:
    if usage is None:
        err.write(f"[{endpoint.route.qualified_name}] usage not reported\n")
        return
    reasoning = f" ({usage.reasoning_tokens} reasoning)" if usage.reasoning_tokens else ""
    spent = (
        f"cost {cost.total.normalize():f} {cost.currency}"
        if cost is not None
        else "cost unknown (no catalog price for this model)"
    )
    err.write(
        f"[{endpoint.route.qualified_name}] {usage.input_tokens} in / {usage.output_tokens} out tokens"
        f"{reasoning}, {spent}\n"
    )


def cmd_chat(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``chat``: one prompt, the answer on stdout, usage and cost on stderr."""
    from stackit_chutes_core import ChatRequest, Message, chat, estimate_cost, resolve_endpoint, stream_chat

    endpoint = resolve_endpoint(args.model)
    messages = [Message(role="system", content=args.system)] if args.system else []
    request = ChatRequest(messages=[*messages, Message(role="user", content=args.prompt)])
    if args.stream:
        texts: list[str] = []
        reasonings: list[str] = []
        usage = None
        for delta in stream_chat(endpoint, request):
            texts.append(delta.text)
            reasonings.append(delta.reasoning)
            usage = delta.usage or usage
            if delta.text and not args.json:
                out.write(delta.text)
                out.flush()
        content, reasoning = "".join(texts), "".join(reasonings) or None
        if not args.json:
            out.write("\n")
    else:
        result = chat(endpoint, request)
        content, reasoning, usage = result.text, result.reasoning, result.usage
        if not args.json:
            out.write(content + "\n")
    cost = estimate_cost(endpoint.route.info, usage)
    if args.json:
        payload = {
            "model": endpoint.route.qualified_name,
            "content": content,
            "reasoning": reasoning,
            "usage": _usage_json(usage),
            "cost": _cost_json(cost),
        }
        json.dump(payload, out, ensure_ascii=False)
        out.write("\n")
    _report_usage(endpoint, usage, cost, err)
    return EXIT_OK


def cmd_embed(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``embed``: embed texts and images; dimensions and first values, or JSON."""
    from stackit_chutes_core import EmbeddingItem, embed_items, embed_texts, estimate_cost, resolve_endpoint
    from stackit_chutes_core._embeddings import _sum_usage
    from stackit_chutes_core._images import to_image_url

    endpoint = resolve_endpoint(args.model, purpose="embeddings")
    inputs: list[str] = list(args.texts)
    vectors: list[list[float]] = []
    usages = []
    if args.texts:
        result = embed_texts(endpoint, args.texts, dimensions=args.dimensions)
        vectors.extend(result.vectors)
        usages.append(result.usage)
    if args.image:
        items = [EmbeddingItem(image_url=to_image_url(source)) for source in args.image]
        result = embed_items(endpoint, items, dimensions=args.dimensions)
        vectors.extend(result.vectors)
        usages.append(result.usage)
        inputs.extend(f"image:{source}" for source in args.image)
    usage = _sum_usage(usages)
    cost = estimate_cost(endpoint.route.info, usage)
    if args.json:
        payload = {
            "model": endpoint.route.qualified_name,
            "vectors": vectors,
            "usage": _usage_json(usage),
            "cost": _cost_json(cost),
        }
        json.dump(payload, out)
        out.write("\n")
    else:
        for label, vector in zip(inputs, vectors, strict=True):
            head = ", ".join(f"{value:+.4g}" for value in vector[:4])
            shown = label if len(label) <= 40 else "..." + label[-37:]  # the end names the file
            out.write(f"{shown}\tdim={len(vector)}\t[{head}, ...]\n")
    _report_usage(endpoint, usage, cost, err)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``demo``: the README demo, from a source checkout (it replays the checkout's cassettes)."""
    checkout = Path(__file__).resolve().parent.parent
    if not (checkout / "demo" / "__main__.py").is_file():
        err.write(
            "error: the demo ships with the source checkout, not the installed package: "
            "clone the project and run `python3 dev.py demo` there\n"
        )
        return EXIT_CONFIG
    if str(checkout) not in sys.path:
        sys.path.insert(0, str(checkout))
    from demo.__main__ import main as demo_main  # type: ignore[import-not-found,unused-ignore]

    mode = [f"--{name}" for name in ("offline", "live", "record") if getattr(args, name)]
    return int(demo_main(mode))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (``--help`` text included)."""
    parser = argparse.ArgumentParser(
        prog="stackit-chutes",
        description="STACKIT AI Model Serving and Chutes models from the terminal.",
        epilog="Keys: STACKIT_API_KEY, CHUTES_API_KEY; endpoints: STACKIT_BASE_URL, CHUTES_BASE_URL, "
        "CHUTES_EMBEDDINGS_BASE_URL. Exit codes: 0 ok, 2 usage, 3 configuration, 4 provider error, 130 interrupted.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{models,chat,embed,demo}")

    models = commands.add_parser("models", help="list the model catalog")
    models.add_argument("--provider", choices=("stackit", "chutes"))
    models.add_argument("--kind", choices=("chat", "embedding"))
    models.add_argument(
        "--capability", action="append", choices=CAPABILITY_NAMES, help="required capability (repeatable)"
    )
    models.add_argument("--tee", action="store_true", help="only confidential-compute (TEE) models")
    models.add_argument("--max-price", type=float, metavar="X", help="max input price per 1M tokens")
    models.add_argument("--min-context", type=int, metavar="N", help="min context window in tokens")
    models.add_argument("--live", action="store_true", help="merge the providers' live /models listings first")
    models.add_argument("--json", action="store_true", help="print a JSON array")
    models.set_defaults(run=cmd_models)

    chat = commands.add_parser("chat", help="send one prompt")
    chat.add_argument("model", metavar="MODEL", help="e.g. stackit/openai/gpt-oss-120b")
    chat.add_argument("prompt", metavar="PROMPT")
    chat.add_argument("--system", metavar="TEXT", help="system message")
    chat.add_argument("--stream", action="store_true", help="print the answer as it arrives")
    chat.add_argument("--json", action="store_true", help="print {content, reasoning, usage, cost}")
    chat.set_defaults(run=cmd_chat)

    embed = commands.add_parser("embed", help="embed texts and images")
    embed.add_argument("model", metavar="MODEL", help="e.g. stackit/Qwen/Qwen3-VL-Embedding-8B")
    embed.add_argument("texts", metavar="TEXT", nargs="*")
    embed.add_argument("--image", action="append", metavar="PATH_OR_URL", help="an image to embed (repeatable)")
    embed.add_argument("--dimensions", type=int, metavar="N", help="truncate vectors to N (Matryoshka models)")
    embed.add_argument("--json", action="store_true", help="print {model, vectors, usage, cost}")
    embed.set_defaults(run=cmd_embed)

    demo = commands.add_parser("demo", help="run the README demo (source checkout)")
    mode = demo.add_mutually_exclusive_group()
    mode.add_argument("--offline", action="store_true", help="replay the recorded cassette (default without keys)")
    mode.add_argument("--live", action="store_true", help="call the real providers (default with both keys)")
    mode.add_argument("--record", action="store_true", help="re-record the demo cassette")
    demo.set_defaults(run=cmd_demo)
    return parser


def _explain(exc: Exception) -> str:
    if isinstance(exc, MissingAPIKeyError):
        where = KEY_HELP.get(exc.provider, "see the provider's documentation")
        names = " or ".join(exc.env_vars)
        return f"no API key for {exc.provider}: set {names} ({where})"
    if isinstance(exc, NotFoundError):
        return f"{exc} (see `stackit-chutes models --provider {exc.provider}` for the known ids)"
    return str(exc)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "embed" and not args.texts and not args.image:
        parser.error("embed needs at least one TEXT or --image")
    try:
        code: int = args.run(args, sys.stdout, sys.stderr)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
    except (ConfigurationError, NotFoundError) as exc:  # a 404 almost always means a wrong model id
        sys.stderr.write(f"error: {_explain(exc)}\n")
        return EXIT_CONFIG
    except APIError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_PROVIDER
    except BrokenPipeError:  # `stackit-chutes models | head`: the reader left, nothing to report
        return EXIT_OK
    return code


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
