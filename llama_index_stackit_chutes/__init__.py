"""STACKIT AI Model Serving and Chutes models for LlamaIndex.

.. code-block:: python

    from llama_index.core import Settings
    from llama_index_stackit_chutes import StackitChutes, StackitChutesEmbedding

    Settings.llm = StackitChutes(model="stackit/openai/gpt-oss-120b")
    Settings.embed_model = StackitChutesEmbedding(model_name="stackit/intfloat/e5-mistral-7b-instruct")

Keys come from ``api_key=...`` or ``STACKIT_API_KEY`` / ``CHUTES_API_KEY``.
"""

import llama_index_stackit_chutes._require  # noqa: F401  (first: a clear error without the extra)
from llama_index_stackit_chutes.callbacks import StackitChutesCostHandler
from llama_index_stackit_chutes.embeddings import StackitChutesEmbedding
from llama_index_stackit_chutes.llms import StackitChutes
from stackit_chutes_core import __version__

__all__ = ["StackitChutes", "StackitChutesCostHandler", "StackitChutesEmbedding", "__version__"]
