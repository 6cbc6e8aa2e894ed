"""``with_structured_output`` building blocks: response formats, parsers and the ``include_raw`` wrapper."""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Literal

from langchain_core.language_models import LanguageModelInput
from langchain_core.output_parsers import JsonOutputKeyToolsParser, JsonOutputParser, PydanticToolsParser
from langchain_core.output_parsers.base import OutputParserLike
from langchain_core.output_parsers.pydantic import PydanticOutputParser
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass

__all__ = ["StructuredMethod", "content_parser", "json_schema_format", "tool_parser", "with_raw"]

StructuredMethod = Literal["function_calling", "json_mode", "json_schema"]


def is_pydantic_schema(schema: Any) -> bool:
    """Whether ``schema`` is a Pydantic (v1 or v2) model class."""
    return isinstance(schema, type) and is_basemodel_subclass(schema)


def json_schema_format(schema: Any, strict: bool | None) -> dict[str, Any]:
    """An OpenAI ``response_format`` of type ``json_schema`` for any schema LangChain accepts."""
    if isinstance(schema, dict) and schema.get("type") == "json_schema" and "json_schema" in schema:
        return schema
    function = convert_to_openai_tool(schema, strict=strict)["function"]
    json_schema: dict[str, Any] = {"name": function["name"], "schema": function["parameters"]}
    if function.get("description"):
        json_schema["description"] = function["description"]
    if strict is not None:
        json_schema["strict"] = strict
    return {"type": "json_schema", "json_schema": json_schema}


def tool_parser(schema: Any, tool_name: str) -> OutputParserLike[Any]:
    """Parser for the forced tool call of ``method="function_calling"``."""
    if is_pydantic_schema(schema):
        return PydanticToolsParser(tools=[schema], first_tool_only=True)
    return JsonOutputKeyToolsParser(key_name=tool_name, first_tool_only=True)


def content_parser(schema: Any) -> OutputParserLike[Any]:
    """Parser for JSON text content (``json_schema`` and ``json_mode``)."""
    if is_pydantic_schema(schema):
        return PydanticOutputParser(pydantic_object=schema)
    return JsonOutputParser()


def with_raw(
    llm: Runnable[LanguageModelInput, Any], parser: OutputParserLike[Any], *, include_raw: bool
) -> Runnable[LanguageModelInput, Any]:
    """``llm | parser``, or with ``include_raw`` a dict of ``raw``, ``parsed`` and ``parsing_error``."""
    if not include_raw:
        return llm | parser
    parse = RunnablePassthrough.assign(parsed=itemgetter("raw") | parser, parsing_error=lambda _: None)
    no_parse = RunnablePassthrough.assign(parsed=lambda _: None)
    return RunnableMap(raw=llm) | parse.with_fallbacks([no_parse], exception_key="parsing_error")
