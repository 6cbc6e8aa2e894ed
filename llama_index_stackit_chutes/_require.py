"""Fail early, and helpfully, when LlamaIndex is not installed."""

try:
    import llama_index.core  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "llama_index_stackit_chutes needs llama-index-core. Install the extra: "
        "pip install 'stackit-chutes[llama-index]'"
    ) from exc
