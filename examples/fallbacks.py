"""Fallbacks across providers: when a model is not served, rate-limited or down, the next one answers.

Run: python examples/fallbacks.py (needs STACKIT_API_KEY and CHUTES_API_KEY).
"""

from __future__ import annotations

import logging

from llama_index.core.llms import ChatMessage

import stackit_chutes_core as core
from langchain_stackit_chutes import ChatStackitChutes
from llama_index_stackit_chutes import StackitChutes

# A model id no provider serves answers 404, as a cold Chutes chute does ("No matching cord found!").
UNAVAILABLE = "chutes/example-org/model-that-is-not-served"
FALLBACKS = ["stackit/openai/gpt-oss-120b", "chutes/deepseek-ai/DeepSeek-V3.2-TEE"]
QUESTION = "In one sentence: why would an application fall back to another model?"


def main() -> None:
    """The same fallback policy through LangChain, LlamaIndex and LangChain's own with_fallbacks."""
    logging.getLogger("stackit_chutes").setLevel(logging.ERROR)  # quiet "not in the catalog" / "falling back"
    llm = ChatStackitChutes(model=UNAVAILABLE, fallback_models=FALLBACKS, max_retries=0)
    answer = llm.invoke(QUESTION)
    print(f"LangChain answered by:  {answer.response_metadata['model_name']}")
    print(f"  {answer.content}")

    streamed = "".join(str(chunk.content) for chunk in llm.stream("Count from one to three."))
    print(f"streamed (fell back before the first chunk): {streamed}")

    llama = StackitChutes(model=UNAVAILABLE, fallback_models=FALLBACKS, max_retries=0)
    response = llama.chat([ChatMessage(role="user", content=QUESTION)])
    print(f"LlamaIndex answered by: {response.additional_kwargs['model_name']}")

    primary = ChatStackitChutes(model=UNAVAILABLE, max_retries=0)
    backup = ChatStackitChutes(model=FALLBACKS[1])
    chain = primary.with_fallbacks([backup], exceptions_to_handle=(core.NotFoundError, core.RateLimitError))
    print(f"with_fallbacks answered by: {chain.invoke(QUESTION).response_metadata['model_name']}")


if __name__ == "__main__":
    main()
