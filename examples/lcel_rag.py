"""LCEL RAG: STACKIT embeddings in an InMemoryVectorStore, answered by a STACKIT chat model.

Run: python examples/lcel_rag.py (needs STACKIT_API_KEY).
"""

from __future__ import annotations

from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore

from langchain_stackit_chutes import ChatStackitChutes, StackitChutesEmbeddings

DOCS = [
    "The Rhine ferry departs every forty minutes from the Koblenz pier.",
    "The Brandenburg lighthouse keeper paints seagulls on Sundays.",
    "STACKIT AI Model Serving runs in German data centres and bills in euro.",
]


def format_docs(docs: list[Document]) -> str:
    """Join the retrieved documents into one context block."""
    return "\n".join(doc.page_content for doc in docs)


def main() -> None:
    """Index three documents, then answer a question from the best two."""
    embeddings = StackitChutesEmbeddings(model="stackit/intfloat/e5-mistral-7b-instruct")
    retriever = InMemoryVectorStore.from_texts(DOCS, embeddings).as_retriever(search_kwargs={"k": 2})
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer using only this context:\n{context}"), ("human", "{question}")]
    )
    llm = ChatStackitChutes(model="stackit/openai/gpt-oss-120b", temperature=0, max_tokens=300)
    chain = {"context": retriever | format_docs, "question": RunnablePassthrough()} | prompt | llm | StrOutputParser()

    question = "How often does the Rhine ferry leave Koblenz?"
    print("question:", question)
    print("top hit: ", retriever.invoke(question)[0].page_content)
    print("answer:  ", chain.invoke(question))


if __name__ == "__main__":
    main()
