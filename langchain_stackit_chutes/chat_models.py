"""``ChatStackitChutes``: STACKIT AI Model Serving and Chutes chat models for LangChain."""

from __future__ import annotations

import math
import warnings
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LangSmithParams, LanguageModelInput, ModelProfile
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import AliasChoices, ConfigDict, Field, model_validator
from typing_extensions import Self

import stackit_chutes_core as core
from langchain_stackit_chutes._base import ProviderConnection, home_provider, route_of
from langchain_stackit_chutes._convert import (
    delta_to_chunk,
    messages_to_core,
    normalise_tool_choice,
    result_to_message,
    tool_to_openai,
    tools_to_specs,
)
from langchain_stackit_chutes._errors import (
    agen_with_langchain_errors,
    call_with_langchain_errors,
    gen_with_langchain_errors,
    to_langchain_error,
)
from langchain_stackit_chutes._profile import catalog_profile
from langchain_stackit_chutes._structured import (
    StructuredMethod,
    content_parser,
    json_schema_format,
    tool_parser,
    with_raw,
)

__all__ = ["ChatStackitChutes"]

# Per-call keyword arguments with a meaning of their own; any other keyword goes to the body verbatim.
_SAMPLING = ("temperature", "max_tokens", "top_p", "seed", "frequency_penalty", "presence_penalty")
_IGNORED_KWARGS = ("stream", "ls_structured_output_format", "structured_output_format")


class ChatStackitChutes(ProviderConnection, BaseChatModel):
    """Chat models of STACKIT AI Model Serving and Chutes, routed by the model string.

    Setup:
        ``pip install 'stackit-chutes[langchain]'`` and set ``STACKIT_API_KEY`` and/or ``CHUTES_API_KEY``.

    Example:
        .. code-block:: python

            from langchain_stackit_chutes import ChatStackitChutes

            llm = ChatStackitChutes(model="stackit/openai/gpt-oss-120b", temperature=0)
            llm.invoke("Hello").content
            llm.invoke("Hello", model="chutes/deepseek-ai/DeepSeek-V3.2-TEE")  # per-call switch

    Reasoning is returned in ``additional_kwargs["reasoning_content"]`` (and as reasoning content
    blocks); ``response_metadata`` carries ``model_provider`` (``"stackit"``/``"chutes"``),
    ``model_name`` (``"<provider>/<model id>"``), ``finish_reason`` and, where the catalog has a price,
    ``cost`` in the provider's currency. Provider errors are raised as classes that are both
    ``stackit_chutes_core`` errors and ``langchain_core.exceptions`` errors (context overflow ->
    ``ContextOverflowError``).
    """

    model_config = ConfigDict(populate_by_name=True, extra="forbid", arbitrary_types_allowed=True)

    temperature: float | None = None
    """Sampling temperature."""
    max_tokens: int | None = Field(default=None, validation_alias=AliasChoices("max_tokens", "max_completion_tokens"))
    """Output-token limit (sent as ``max_completion_tokens`` to STACKIT and ``max_tokens`` to Chutes)."""
    top_p: float | None = None
    """Nucleus sampling."""
    stop: list[str] | None = Field(default=None, validation_alias=AliasChoices("stop", "stop_sequences"))
    """Stop sequences."""
    seed: int | None = None
    """Sampling seed (where the backend honours it)."""
    frequency_penalty: float | None = None
    """Frequency penalty."""
    presence_penalty: float | None = None
    """Presence penalty."""
    reasoning_effort: str | None = None
    """``"low"`` / ``"medium"`` / ``"high"`` for models with effort control (e.g. gpt-oss); checked
    against the catalog. Dropped (with a warning) for models the catalog knows have no such control."""
    thinking: bool | None = None
    """Hybrid reasoning models: switch thinking on or off (``chat_template_kwargs`` and, on Chutes,
    the ``X-Enable-Thinking`` header). ``None`` leaves the model's default."""
    extra_body: dict[str, Any] | None = None
    """Provider-specific fields merged into every request body (``top_k``, ``chat_template_kwargs``...)."""
    streaming: bool | None = None
    """``True``: ``invoke`` streams internally (callbacks receive tokens). ``False``: never stream, not even
    for ``stream()`` (LangChain semantics). ``None`` (default): ``stream()`` streams, ``invoke`` does not;
    unlike ``False`` this survives ``configurable_fields``, which re-passes every field explicitly."""
    stream_usage: bool = True
    """Ask for token usage at the end of streams (``stream_options.include_usage``)."""

    @model_validator(mode="before")
    @classmethod
    def _stackit_chutes_stale_profile(cls, values: Any) -> Any:
        """Drop a catalog profile copied from another model (``configurable_fields`` copies ``profile``)."""
        if not isinstance(values, dict) or not isinstance(values.get("profile"), dict):
            return values
        name = values["profile"].get("name")
        model = values.get("model", values.get("model_name"))
        if not isinstance(name, str) or not isinstance(model, str):
            return values
        try:
            current = route_of(model, values.get("provider")).qualified_name
            previous = core.parse_model(name)
        except core.ConfigurationError:
            return values
        if name != current and values["profile"] == catalog_profile(previous.info):
            return {**values, "profile": None}
        return values

    @model_validator(mode="after")
    def _stackit_chutes_chat_model(self) -> Self:
        """Refuse embedding models before any request."""
        info = route_of(self.model, self.provider).info
        if info is not None and info.kind != "chat":
            raise core.CapabilityError(
                f"{info.qualified_name!r} is an embedding model; use StackitChutesEmbeddings for it."
            )
        return self

    @property
    def _llm_type(self) -> str:
        return "stackit-chutes-chat"

    @classmethod
    def is_lc_serializable(cls) -> bool:
        """Serializable with ``langchain_core.load.dumpd`` (the key as a secret reference)."""
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        """``["langchain_stackit_chutes", "chat_models"]``."""
        return ["langchain_stackit_chutes", "chat_models"]

    @property
    def lc_secrets(self) -> dict[str, str]:
        """``api_key`` is serialized as a reference to the key variable of its provider."""
        return {"api_key": self._secret_env_name()}

    @property
    def _identifying_params(self) -> dict[str, Any]:
        params = {"model": self.model, "provider": self.provider, "reasoning_effort": self.reasoning_effort}
        params.update({name: getattr(self, name) for name in (*_SAMPLING, "stop", "thinking")})
        return {k: v for k, v in params.items() if v is not None}

    def _resolve_model_profile(self) -> ModelProfile | None:
        return catalog_profile(route_of(self.model, self.provider).info)

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        requested = kwargs.get("model")
        model: str = requested if isinstance(requested, str) else self.model
        provider = home_provider(model, self.provider) or home_provider(self.model, self.provider)
        params = LangSmithParams(ls_provider=provider or "stackit_chutes", ls_model_name=model, ls_model_type="chat")
        temperature = kwargs.get("temperature", self.temperature)
        if isinstance(temperature, (int, float)):
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        if isinstance(max_tokens, int):
            params["ls_max_tokens"] = max_tokens
        if stop_value := stop or kwargs.get("stop") or self.stop:
            params["ls_stop"] = list(stop_value)
        return params

    # ---- requests -------------------------------------------------------------------------

    def _build(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> tuple[core.Endpoint, core.ChatRequest]:
        """Resolve the endpoint for this call and translate everything to a core ``ChatRequest``."""
        params = dict(kwargs)
        for name in _IGNORED_KWARGS:
            params.pop(name, None)
        endpoint = self._endpoint(params.pop("model", None) or self.model)
        tools = tools_to_specs(params.pop("tools", None) or [])
        tool_choice = params.pop("tool_choice", None)
        if tool_choice is not None and not isinstance(tool_choice, dict):
            tool_choice = normalise_tool_choice(tool_choice, [t.name for t in tools])
        if "max_completion_tokens" in params:
            params["max_tokens"] = params.pop("max_completion_tokens")
        sampling = {name: params.pop(name, getattr(self, name)) for name in _SAMPLING}
        stop_value = stop if stop is not None else params.pop("stop", None)
        params.pop("stop", None)
        effort = self._effort_for(endpoint, params.pop("reasoning_effort", self.reasoning_effort))
        request = core.ChatRequest(
            messages=messages_to_core(messages),
            tools=tools,
            tool_choice=tool_choice,
            parallel_tool_calls=params.pop("parallel_tool_calls", None),
            response_format=params.pop("response_format", None),
            stop=stop_value if stop_value is not None else self.stop,
            reasoning_effort=effort,
            thinking=params.pop("thinking", self.thinking),
            include_usage=bool(params.pop("stream_usage", self.stream_usage)),
            extra_headers=params.pop("extra_headers", None),
            **sampling,
        )
        extra = {**(self.extra_body or {}), **(params.pop("extra_body", None) or {}), **params}
        request.extra_body = extra or None
        return endpoint, request

    @staticmethod
    def _effort_for(endpoint: core.Endpoint, effort: str | None) -> str | None:
        info = endpoint.route.info
        if effort is not None and info is not None and not info.capabilities.reasoning_effort:
            warnings.warn(
                f"{info.qualified_name!r} has no reasoning_effort control (per the catalog); "
                f"reasoning_effort={effort!r} is not sent.",
                stacklevel=4,
            )
            return None
        return effort

    def _chat_result(self, endpoint: core.Endpoint, result: core.ChatResult) -> ChatResult:
        message = result_to_message(result, endpoint.route.info)
        metadata = message.response_metadata
        return ChatResult(
            generations=[ChatGeneration(message=message, generation_info={"finish_reason": result.finish_reason})],
            llm_output={"model_provider": metadata["model_provider"], "model_name": metadata["model_name"]},
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        endpoint, request = self._build(messages, stop, kwargs)
        return self._chat_result(endpoint, call_with_langchain_errors(core.chat, endpoint, request))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        endpoint, request = self._build(messages, stop, kwargs)
        try:
            result = await core.achat(endpoint, request)
        except core.APIError as exc:
            raise to_langchain_error(exc) from exc
        return self._chat_result(endpoint, result)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        endpoint, request = self._build(messages, stop, kwargs)
        provider, info = endpoint.provider.name, endpoint.route.info
        for delta in gen_with_langchain_errors(core.stream_chat(endpoint, request)):
            chunk = ChatGenerationChunk(
                message=delta_to_chunk(delta, provider=provider, info=info, output_version=self.output_version)
            )
            if run_manager:
                run_manager.on_llm_new_token(delta.text, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        endpoint, request = self._build(messages, stop, kwargs)
        provider, info = endpoint.provider.name, endpoint.route.info
        async for delta in agen_with_langchain_errors(core.astream_chat(endpoint, request)):
            chunk = ChatGenerationChunk(
                message=delta_to_chunk(delta, provider=provider, info=info, output_version=self.output_version)
            )
            if run_manager:
                await run_manager.on_llm_new_token(delta.text, chunk=chunk)
            yield chunk

    # ---- tools and structured output --------------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: dict[str, Any] | str | bool | None = None,
        strict: bool | None = None,
        parallel_tool_calls: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (any form LangChain accepts) to the model.

        Args:
            tools: ``BaseTool`` objects, functions, Pydantic/TypedDict classes or OpenAI tool dicts.
            tool_choice: ``"auto"``, ``"none"``, ``"any"``/``"required"``/``True`` (must call a tool), or
                a tool name (must call that tool).
            strict: Ask for strict schema adherence of the tool arguments.
            parallel_tool_calls: Allow (``True``) or forbid (``False``) several calls in one turn.
            **kwargs: Further per-call arguments (e.g. ``response_format``).
        """
        formatted = [tool_to_openai(tool, strict=strict) for tool in tools]
        choice = normalise_tool_choice(tool_choice, [t["function"]["name"] for t in formatted])
        if choice is not None:
            kwargs["tool_choice"] = choice
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        return super().bind(tools=formatted, **kwargs)

    def _default_structured_method(self) -> StructuredMethod:
        info = route_of(self.model, self.provider).info
        return "json_schema" if info is not None and info.capabilities.structured_output else "function_calling"

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: StructuredMethod | None = None,
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | Any]:
        """A runnable that answers with ``schema`` (Pydantic object, or dict for other schemas).

        Args:
            schema: Pydantic class, TypedDict, JSON Schema or OpenAI function schema
                (optional only for ``method="json_mode"``).
            method: ``"json_schema"`` (``response_format``), ``"function_calling"`` (a forced tool call)
                or ``"json_mode"`` (JSON object mode; describe the shape in the prompt). Default:
                ``json_schema`` where the catalog says the model supports structured output, else
                ``function_calling``.
            include_raw: Return ``{"raw": AIMessage, "parsed": ..., "parsing_error": ...}`` instead.
            strict: Ask the provider for strict schema adherence.
            **kwargs: Not supported; raises ``ValueError``.
        """
        if kwargs:
            raise ValueError(f"Unsupported arguments for with_structured_output: {sorted(kwargs)}")
        method = method or self._default_structured_method()
        if schema is None and method != "json_mode":
            raise ValueError(f"schema is required for method={method!r}.")
        trace = {"kwargs": {"method": method, "strict": strict}, "schema": schema}
        if method == "function_calling" and schema is not None:
            name = convert_to_openai_tool(schema)["function"]["name"]
            llm = self.bind_tools(
                [schema],
                tool_choice=name,
                strict=strict,
                parallel_tool_calls=False,
                ls_structured_output_format=trace,
            )
            return with_raw(llm, tool_parser(schema, name), include_raw=include_raw)
        if method == "json_schema":
            response_format: dict[str, Any] = json_schema_format(schema, strict)
        elif method == "json_mode":
            response_format = {"type": "json_object"}
        else:
            raise ValueError(f"Unknown method {method!r}; use 'json_schema', 'function_calling' or 'json_mode'.")
        bound: dict[str, Any] = {"response_format": response_format}
        if schema is not None:
            bound["ls_structured_output_format"] = trace
        llm = self.bind(**bound)
        return with_raw(llm, content_parser(schema), include_raw=include_raw)

    # ---- token counting (offline, no tokenizer downloads) -----------------------------------

    def get_num_tokens(self, text: str) -> int:
        """Approximate token count of ``text`` (about 4 characters per token; nothing is downloaded)."""
        return math.ceil(len(text) / 4)

    def get_num_tokens_from_messages(self, messages: list[BaseMessage], tools: Sequence[Any] | None = None) -> int:
        """Approximate token count of ``messages`` (and ``tools``), via ``count_tokens_approximately``."""
        return count_tokens_approximately(messages, tools=list(tools) if tools else None)

    def get_token_ids(self, text: str) -> list[int]:
        """Not available: the providers expose no tokenizer. Use :meth:`get_num_tokens`."""
        raise NotImplementedError("STACKIT/Chutes expose no tokenizer; use get_num_tokens() for an estimate.")
