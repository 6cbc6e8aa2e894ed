"""LlamaIndex RAG: a VectorStoreIndex answering through a query engine and a condense_plus_context chat engine.

Run: python examples/llamaindex_rag.py (needs STACKIT_API_KEY and CHUTES_API_KEY).
"""

from __future__ import annotations

from llama_index.core import Settings, VectorStoreIndex
from llama_index.core.schema import TextNode

from llama_index_stackit_chutes import StackitChutes, StackitChutesEmbedding

DOCS = {
    "ferry": "The Rhine ferry departs every forty minutes from the Koblenz pier.",
    "lighthouse": "The Brandenburg lighthouse keeper paints seagulls on Sundays.",
    "serving": "STACKIT AI Model Serving runs in German data centres and bills in euro.",
}


def main() -> None:
    """Index three documents, ask one question, then hold a two-turn conversation about them."""
    Settings.embed_model = StackitChutesEmbedding(model_name="stackit/intfloat/e5-mistral-7b-instruct")
    Settings.llm = StackitChutes(model="chutes/deepseek-ai/DeepSeek-V3.2-TEE", temperature=0, max_tokens=300)
    index = VectorStoreIndex([TextNode(id_=key, text=text) for key, text in DOCS.items()])  # stable ids

    response = index.as_query_engine(similarity_top_k=1).query("How often does the Rhine ferry leave Koblenz?")
    print("query engine:", response)
    print("  source:    ", response.source_nodes[0].node.node_id)

    chat = index.as_chat_engine(chat_mode="condense_plus_context", similarity_top_k=1)
    for question in ("What does the lighthouse keeper paint?", "On which day does he do that?"):
        print("user:        ", question)
        print("chat engine: ", chat.chat(question))


if __name__ == "__main__":
    main()
