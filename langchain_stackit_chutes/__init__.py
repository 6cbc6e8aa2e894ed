"""LangChain integration for STACKIT AI Model Serving and Chutes.

``ChatStackitChutes(model="stackit/openai/gpt-oss-120b")`` and
``StackitChutesEmbeddings(model="chutes/Qwen/Qwen3-Embedding-8B")`` route by the model string to the
right provider, URL and key (``STACKIT_API_KEY`` / ``CHUTES_API_KEY``).
"""

import langchain_stackit_chutes._require  # noqa: F401  (first: a clear ImportError without langchain-core)
from langchain_stackit_chutes.callbacks import StackitChutesCallbackHandler, get_stackit_chutes_callback
from langchain_stackit_chutes.chat_models import ChatStackitChutes
from langchain_stackit_chutes.embeddings import StackitChutesEmbeddings
from stackit_chutes_core import __version__

__all__ = [
    "ChatStackitChutes",
    "StackitChutesCallbackHandler",
    "StackitChutesEmbeddings",
    "__version__",
    "get_stackit_chutes_callback",
]
