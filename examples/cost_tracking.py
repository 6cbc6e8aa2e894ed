"""Cost tracking: tokens and cost per provider and model, in each provider's currency, in both frameworks.

Run: python examples/cost_tracking.py (needs STACKIT_API_KEY and CHUTES_API_KEY).
"""

from __future__ import annotations

from decimal import Decimal

from langchain_core.vectorstores import InMemoryVectorStore
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.callbacks import CallbackManager

from langchain_stackit_chutes import ChatStackitChutes, StackitChutesEmbeddings, get_stackit_chutes_callback
from llama_index_stackit_chutes import StackitChutes, StackitChutesCostHandler, StackitChutesEmbedding

DOCS = ["STACKIT bills in euro.", "Chutes bills in US dollars."]
EMBED = "stackit/intfloat/e5-mistral-7b-instruct"


def money(total_cost: dict[str, Decimal]) -> str:
    """``{"EUR": ..., "USD": ...}`` as text: one amount per currency, never summed across them."""
    return ", ".join(f"{amount:.8f} {currency}" for currency, amount in sorted(total_cost.items()))


def langchain_part() -> None:
    """Embeddings and chat on STACKIT plus a streamed Chutes answer, counted in one block (per currency)."""
    with get_stackit_chutes_callback() as cb:
        store = InMemoryVectorStore.from_texts(DOCS, StackitChutesEmbeddings(model=EMBED))
        context = store.similarity_search("Which currency does STACKIT bill in?", k=1)[0].page_content
        ChatStackitChutes(model="stackit/openai/gpt-oss-120b").invoke(f"{context} Which currency?")
        for _chunk in ChatStackitChutes(model="chutes/deepseek-ai/DeepSeek-V3.2-TEE").stream("Say hello."):
            pass  # a stream is counted once, when it ends
    print(f"LangChain:  {money(cb.total_cost)}  ({cb.successful_requests} requests, {cb.total_tokens} tokens)")
    for model, row in sorted(cb.by_model.items()):
        tokens = f"{row.prompt_tokens:3} in {row.completion_tokens:3} out"
        print(f"  {model:40} {row.kind:9} {tokens}  {row.cost:.8f} {row.currency}")


def llamaindex_part() -> None:
    """The same accounting for an index and a query engine, through LlamaIndex's callback manager."""
    handler = StackitChutesCostHandler()
    Settings.callback_manager = CallbackManager([handler])
    Settings.embed_model = StackitChutesEmbedding(model_name=EMBED)
    Settings.llm = StackitChutes(model="stackit/openai/gpt-oss-120b")
    index = VectorStoreIndex.from_documents([Document(text=text) for text in DOCS])
    index.as_query_engine(similarity_top_k=1).query("Which currency does Chutes bill in?")
    print(f"LlamaIndex: {money(handler.total_cost)}  ({handler.successful_requests} requests)")
    print(f"  embedding tokens {handler.total_embedding_token_count}, LLM tokens {handler.total_llm_token_count}")


def main() -> None:
    """Run both parts."""
    langchain_part()
    llamaindex_part()


if __name__ == "__main__":
    main()
