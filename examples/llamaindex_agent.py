"""A LlamaIndex FunctionAgent calling Python functions as tools, streaming its events.

Run: python examples/llamaindex_agent.py (needs STACKIT_API_KEY).
"""

from __future__ import annotations

import asyncio

from llama_index.core.agent.workflow import AgentStream, FunctionAgent, ToolCallResult

from llama_index_stackit_chutes import StackitChutes


def multiply(a: float, b: float) -> float:
    """Multiply two numbers."""
    return a * b


def add(a: float, b: float) -> float:
    """Add two numbers."""
    return a + b


async def ask(question: str) -> str:
    """Run the agent on one question, printing each tool call as it happens."""
    agent = FunctionAgent(
        tools=[multiply, add],
        llm=StackitChutes(model="stackit/openai/gpt-oss-120b", temperature=0),
        system_prompt="You are a calculator. Always use the tools for arithmetic.",
    )
    handler = agent.run(user_msg=question)
    async for event in handler.stream_events():
        if isinstance(event, ToolCallResult):
            print(f"tool call:  {event.tool_name}({event.tool_kwargs}) -> {event.tool_output.content}")
        elif isinstance(event, AgentStream) and event.delta:
            pass  # token-by-token text, e.g. for a UI
    return str(await handler)


def main() -> None:
    """Ask the agent one arithmetic question."""
    question = "What is 6 times 7?"
    print("question:  ", question)
    print("answer:    ", asyncio.run(ask(question)))


if __name__ == "__main__":
    main()
