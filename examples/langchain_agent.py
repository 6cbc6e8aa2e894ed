"""A LangChain agent (create_agent) with two tools and a structured response.

Run: python examples/langchain_agent.py (needs STACKIT_API_KEY).
"""

from __future__ import annotations

from langchain.agents import create_agent
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from langchain_stackit_chutes import ChatStackitChutes


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"It is 21 degrees and sunny in {city}."


@tool
def get_population(city: str) -> str:
    """Get the number of inhabitants of a city."""
    return f"{city} has 3.9 million inhabitants."


class CityReport(BaseModel):
    """What the agent found out about a city."""

    city: str = Field(description="The city asked about")
    weather: str = Field(description="The current weather")
    population: str = Field(description="How many people live there")


def main() -> None:
    """Ask about Berlin; the agent calls both tools, then fills a CityReport."""
    llm = ChatStackitChutes(model="stackit/openai/gpt-oss-120b", temperature=0)
    agent = create_agent(llm, tools=[get_weather, get_population], response_format=CityReport)
    result = agent.invoke({"messages": [("user", "What are the weather and the population of Berlin?")]})
    for message in result["messages"]:
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                print(f"tool call: {call['name']}({call['args']})")
    report: CityReport = result["structured_response"]
    print("report:   ", report.model_dump_json())


if __name__ == "__main__":
    main()
