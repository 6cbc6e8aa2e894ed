"""Fail early, and helpfully, when LangChain is not installed."""

try:
    import langchain_core  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "langchain_stackit_chutes needs langchain-core. Install the extra: pip install 'stackit-chutes[langchain]'"
    ) from exc
