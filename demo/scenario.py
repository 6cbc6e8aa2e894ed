"""What the demo does, provider calls only (the caller decides live, replay or record)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.vectorstores import InMemoryVectorStore

from langchain_stackit_chutes import ChatStackitChutes, StackitChutesEmbeddings
from llama_index_stackit_chutes import StackitChutes
from stackit_chutes_core import Usage, estimate_cost, parse_model
from tests.pngs import COLOURS, solid_png

DOCUMENTS = [
    "STACKIT AI Model Serving runs in German data centres and bills in euro.",
    "Chutes serves open models on decentralised GPUs and bills in US dollars.",
    "The Qwen3-VL-Embedding model embeds images and text into one vector space.",
    "gpt-oss-120b is an open-weight reasoning model with tool calling.",
]
QUESTION = "Which currency does STACKIT bill in?"
STACKIT_CHAT = "stackit/openai/gpt-oss-120b"
CHUTES_CHAT = "chutes/deepseek-ai/DeepSeek-V3.2-TEE"


def _cost(model: str, usage: dict[str, int] | None) -> str:
    if not usage:
        return "usage not reported"
    tokens = Usage(input_tokens=usage["input_tokens"], output_tokens=usage["output_tokens"])
    cost = estimate_cost(parse_model(model).info, tokens)
    spent = f", cost {cost}" if cost else ""
    return f"{usage['input_tokens']} in / {usage['output_tokens']} out tokens{spent}"


def langchain_rag() -> None:
    """Retrieve with STACKIT embeddings, answer with a STACKIT chat model (LangChain LCEL)."""
    print("1. LangChain RAG on STACKIT")
    store = InMemoryVectorStore.from_texts(
        DOCUMENTS, StackitChutesEmbeddings(model="stackit/intfloat/e5-mistral-7b-instruct")
    )
    hits = store.similarity_search(QUESTION, k=2)
    print(f"   retrieved: {hits[0].page_content}  (best of {len(hits)})")
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from this context only:\n{context}"), ("human", "{question}")]
    )
    llm = ChatStackitChutes(model=STACKIT_CHAT, max_tokens=200, temperature=0)
    context = "\n".join(hit.page_content for hit in hits)
    message = (prompt | llm).invoke({"context": context, "question": QUESTION})
    print(f"   answer:    {StrOutputParser().invoke(message)}")
    print(f"   usage:     {_cost(STACKIT_CHAT, message.usage_metadata)}\n")  # type: ignore[arg-type]


def llamaindex_stream() -> None:
    """Stream an answer from a Chutes model through LlamaIndex."""
    print("2. LlamaIndex streaming on Chutes")
    llm = StackitChutes(model=CHUTES_CHAT, max_tokens=200, temperature=0)
    print("   answer:    ", end="", flush=True)
    context = "\n".join(DOCUMENTS)
    for chunk in llm.stream_complete(f"Context:\n{context}\nQuestion: Which currency does Chutes bill in?"):
        print(chunk.delta or "", end="", flush=True)
    print("\n")


def multimodal_search() -> None:
    """Rank images against a text query with the multimodal embedding model."""
    print("3. Multimodal embeddings (images + text in one space) on STACKIT")
    embeddings = StackitChutesEmbeddings(model="stackit/Qwen/Qwen3-VL-Embedding-8B")
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for name in ("blue", "red"):
            path = Path(folder) / f"{name}.png"
            path.write_bytes(solid_png(COLOURS[name]))
            paths.append(path)
        image_vectors = embeddings.embed_image([str(p) for p in paths])
    query = embeddings.embed_query("a red picture")
    scores = {
        p.stem: sum(a * b for a, b in zip(query, v, strict=True)) for p, v in zip(paths, image_vectors, strict=True)
    }
    for name, score in sorted(scores.items(), key=lambda item: -item[1]):
        print(f"   {name:5s} image  similarity {score:.3f}")
    print()


def run_scenario() -> None:
    """Run the three demo parts."""
    langchain_rag()
    llamaindex_stream()
    multimodal_search()
