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
from langchain_stackit_chutes._base import ProviderConnection
from langchain_stackit_chutes._convert import (
    delta_to_chunk,
    messages_to_core,
    openai_tools,
    result_to_message,
    tool_to_openai,
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

# LangChain-internal keywords that reach _generate(**kwargs) but are no API parameters.
_FRAMEWORK_KWARGS = frozenset({"stream", "ls_structured_output_format", "structured_output_format"})


class ChatStackitChutes(ProviderConnection, BaseChatModel):
    """STACKIT AI Model Serving and Chutes chat models, routed by the model string.

    Setup:
        Install the package and set the key of each provider you use.

        .. code-block:: bash

            pip install -U "stackit-chutes[langchain]"
            export STACKIT_API_KEY="..."   # STACKIT portal: AI Model Serving -> auth tokens
            export CHUTES_API_KEY="..."    # chutes.ai: API keys

    Key init args — completion params:
        model: str
            ``"stackit/<model id>"`` or ``"chutes/<model id>"``, e.g. ``"stackit/openai/gpt-oss-120b"``
            (``model_name=`` works too). A bare id with ``provider="stackit"``.
        temperature: float | None
            Sampling temperature.
        max_tokens: int | None
            Output-token limit (sent as ``max_completion_tokens`` to STACKIT, ``max_tokens`` to Chutes).
        reasoning_effort: str | None
            ``"low"`` / ``"medium"`` / ``"high"`` for models with effort control (gpt-oss).
        thinking: bool | None
            Switch a hybrid model's thinking on or off.
        n, logprobs, top_logprobs, stop, seed, top_p, frequency_penalty, presence_penalty
            As in ``ChatOpenAI``; ``model_kwargs`` / ``extra_body`` for anything else (``top_k`` ...).

    Key init args — client params:
        api_key: SecretStr | None
            Default: ``STACKIT_API_KEY`` / ``CHUTES_API_KEY`` by the model's provider (never ``OPENAI_*``).
        base_url: str | None
            Default: the provider's URL, or ``STACKIT_BASE_URL`` / ``CHUTES_BASE_URL``.
        timeout: float | None
            Seconds per request.
        max_retries: int
            Retries on 429, 5xx and timeouts (Chutes' 402 quota error is never retried).

    See the fields below for every init arg.

    Instantiate:
        .. code-block:: python

            from langchain_stackit_chutes import ChatStackitChutes

            llm = ChatStackitChutes(model="stackit/openai/gpt-oss-120b", temperature=0)

    Invoke:
        .. code-block:: python

            llm.invoke([("system", "Answer briefly."), ("human", "What is STACKIT?")])
            # per-call switch to the other provider (it uses CHUTES_API_KEY, never the STACKIT key):
            llm.invoke("Hello", model="chutes/deepseek-ai/DeepSeek-V3.2-TEE")

    Stream:
        .. code-block:: python

            for chunk in llm.stream("Write a haiku about Europe."):
                print(chunk.content, end="", flush=True)

    Async:
        .. code-block:: python

            await llm.ainvoke("Hello")
            async for chunk in llm.astream("Hello"):
                ...
            await llm.abatch(["Hello", "Bonjour"])

    Tool calling:
        .. code-block:: python

            from pydantic import BaseModel, Field

            class GetWeather(BaseModel):
                '''Get the current weather in a given city.'''

                city: str = Field(..., description="The city, e.g. Berlin")

            llm_with_tools = llm.bind_tools([GetWeather], tool_choice="auto")
            llm_with_tools.invoke("Weather in Berlin?").tool_calls
            # [{"name": "GetWeather", "args": {"city": "Berlin"}, "id": "call_...", "type": "tool_call"}]

    Structured output:
        .. code-block:: python

            class Answer(BaseModel):
                text: str
                confidence: float

            llm.with_structured_output(Answer).invoke("Is Berlin in Germany?")
            # method: "json_schema" where the catalog says the model supports it, else "function_calling";
            # "json_mode" on request.

    Image input:
        .. code-block:: python

            from langchain_core.messages import HumanMessage

            vlm = ChatStackitChutes(model="stackit/Qwen/Qwen3-VL-235B-A22B-Instruct-FP8")
            vlm.invoke([HumanMessage(content=[
                {"type": "text", "text": "What is in this picture?"},
                {"type": "image", "url": "https://example.com/cat.jpg"},
            ])])

    Token usage:
        .. code-block:: python

            llm.invoke("Hello").usage_metadata
            # {"input_tokens": 12, "output_tokens": 9, "total_tokens": 21,
            #  "output_token_details": {"reasoning": 4}}

    Response metadata:
        .. code-block:: python

            llm.invoke("Hello").response_metadata
            # {"model_provider": "stackit", "model_name": "stackit/openai/gpt-oss-120b",
            #  "finish_reason": "stop", "token_usage": {...}, "logprobs": {...} (when asked),
            #  "cost": {"input": 1.8e-06, "output": 5.4e-06, "total": 7.2e-06, "currency": "EUR"}}

    Reasoning is returned in ``additional_kwargs["reasoning_content"]`` (and as reasoning content
    blocks with ``output_version="v1"``). Provider errors are raised as classes that are both
    ``stackit_chutes_core`` errors and ``langchain_core.exceptions`` errors (context overflow ->
    ``ContextOverflowError``), so they work in ``with_retry`` / ``with_fallbacks`` filters.
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
    n: int | None = Field(default=None, ge=1)
    """Number of answers per prompt (each becomes one generation; streaming needs ``n`` of 1)."""
    logprobs: bool | None = None
    """Return token log probabilities in ``response_metadata["logprobs"]``."""
    top_logprobs: int | None = None
    """With ``logprobs``: how many most likely alternatives to return per token."""
    fallback_models: list[str] = Field(default_factory=list)
    """Models tried in order when a call fails with a rate limit (after retries), an exhausted quota, a
    server or connection error, or a model that is not served (``"chutes/..."``, ``"stackit/..."``;
    each with its own provider's key). Never after a bad request or an authentication error; a stream
    only before its first chunk. ``response_metadata["model_name"]`` names the model that answered."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Further request parameters sent with every call (as in ``ChatOpenAI``); parameters that have a
    field of their own belong in that field (a warning says so, and the value is still used)."""
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
            current = core.ModelConnection(model=model, provider=values.get("provider")).route().qualified_name
            previous = core.parse_model(name)
        except core.ConfigurationError:
            return values
        if name != current and values["profile"] == catalog_profile(previous.info):
            return {**values, "profile": None}
        return values

    @model_validator(mode="after")
    def _stackit_chutes_chat_model(self) -> Self:
        """Warn about ``model_kwargs`` entries that have a field of their own (as ``ChatOpenAI`` does)."""
        shadowed = sorted(set(self.model_kwargs) & set(type(self).model_fields))
        if shadowed:
            warnings.warn(
                f"Parameters {shadowed} should be specified explicitly. "
                "Instead they were passed in as part of `model_kwargs` parameter.",
                stacklevel=2,
            )
        if self.n is not None and self.n > 1 and self.streaming:
            raise ValueError("n must be 1 when streaming=True.")
        for model in self.fallback_models:  # unknown provider, wrong kind or missing key: now, not mid-outage
            self._connection.endpoint(model)
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
        params = {"model": self.model, "provider": self.provider, **self._request_defaults()}
        return {k: v for k, v in params.items() if v is not None}

    def _request_defaults(self) -> dict[str, Any]:
        """Constructor values that are request parameters (``model_kwargs`` last, as ``ChatOpenAI`` merges them)."""
        # Every field named like a core request parameter is one; the core decides what each means.
        names = core.REQUEST_FIELDS.intersection(type(self).model_fields)
        fields = {name: getattr(self, name) for name in sorted(names)}
        return {**fields, "extra_body": self.extra_body, "stream_usage": self.stream_usage, **self.model_kwargs}

    def _resolve_model_profile(self) -> ModelProfile | None:
        return catalog_profile(self._connection.info())

    def _provider_of(self, model: str) -> str | None:
        try:
            return self._connection.route(model).provider
        except core.ConfigurationError:
            return None

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        requested = kwargs.get("model")
        model: str = requested if isinstance(requested, str) else self.model
        provider = self._provider_of(model) or self._provider_of(self.model)
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
        """Resolve the endpoint for this call and let the core build the ``ChatRequest``."""
        call = dict(kwargs)
        endpoint = self._endpoint(call.pop("model", None) or self.model)
        if call.get("tools"):
            call["tools"] = openai_tools(call["tools"])
        if stop is not None:
            call["stop"] = stop
        request = core.build_chat_request(
            messages_to_core(messages),
            info=endpoint.route.info,
            defaults=self._request_defaults(),
            call=call,
            ignore=_FRAMEWORK_KWARGS,
        )
        return endpoint, request

    def _chat_result(self, endpoint: core.Endpoint, result: core.ChatResult) -> ChatResult:
        info = endpoint.route.info
        generations = []
        for choice in (result, *result.alternatives):
            message = result_to_message(choice, info)
            generations.append(ChatGeneration(message=message, generation_info={"finish_reason": choice.finish_reason}))
        metadata = generations[0].message.response_metadata
        llm_output = {"model_provider": metadata["model_provider"], "model_name": metadata["model_name"]}
        if result.raw_usage is not None:
            llm_output["token_usage"] = dict(result.raw_usage)
        if result.system_fingerprint:
            llm_output["system_fingerprint"] = result.system_fingerprint
        return ChatResult(generations=generations, llm_output=llm_output)

    def _combine_llm_outputs(self, llm_outputs: list[dict[str, Any] | None]) -> dict[str, Any]:
        """Token usage summed over the prompts of one ``generate`` call (as ``ChatOpenAI`` does)."""
        combined: dict[str, Any] = {}
        usage: dict[str, Any] = {}
        for output in llm_outputs:
            for key, value in (output or {}).items():
                if key != "token_usage":
                    combined.setdefault(key, value)
            for key, value in ((output or {}).get("token_usage") or {}).items():
                if isinstance(value, int):
                    usage[key] = usage.get(key, 0) + value
        if usage:
            combined["token_usage"] = usage
        return combined

    def _primary(self, kwargs: dict[str, Any]) -> str:
        model = kwargs.get("model")
        return model if isinstance(model, str) and model else self.model

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        def call(model: str) -> ChatResult:
            endpoint, request = self._build(messages, stop, {**kwargs, "model": model})
            return self._chat_result(endpoint, core.chat(endpoint, request))

        result: ChatResult = call_with_langchain_errors(
            core.chat_with_fallbacks, self._primary(kwargs), self.fallback_models, call
        )
        return result

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        async def call(model: str) -> ChatResult:
            endpoint, request = self._build(messages, stop, {**kwargs, "model": model})
            return self._chat_result(endpoint, await core.achat(endpoint, request))

        try:
            return await core.achat_with_fallbacks(self._primary(kwargs), self.fallback_models, call)
        except core.APIError as exc:
            raise to_langchain_error(exc) from exc

    def _chunks(self, endpoint: core.Endpoint, deltas: Iterator[core.ChatDelta]) -> Iterator[ChatGenerationChunk]:
        provider, info = endpoint.provider, endpoint.route.info
        for delta in deltas:
            yield ChatGenerationChunk(
                message=delta_to_chunk(delta, provider=provider, info=info, output_version=self.output_version)
            )

    async def _achunks(
        self, endpoint: core.Endpoint, deltas: AsyncIterator[core.ChatDelta]
    ) -> AsyncIterator[ChatGenerationChunk]:
        provider, info = endpoint.provider, endpoint.route.info
        async for delta in deltas:
            yield ChatGenerationChunk(
                message=delta_to_chunk(delta, provider=provider, info=info, output_version=self.output_version)
            )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        def start(model: str) -> Iterator[ChatGenerationChunk]:
            endpoint, request = self._build(messages, stop, {**kwargs, "model": model})
            return self._chunks(endpoint, core.stream_chat(endpoint, request))

        chunks = core.stream_with_fallbacks(self._primary(kwargs), self.fallback_models, start)
        for chunk in gen_with_langchain_errors(chunks):
            if run_manager:
                run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        def start(model: str) -> AsyncIterator[ChatGenerationChunk]:
            endpoint, request = self._build(messages, stop, {**kwargs, "model": model})
            return self._achunks(endpoint, core.astream_chat(endpoint, request))

        chunks = core.astream_with_fallbacks(self._primary(kwargs), self.fallback_models, start)
        async for chunk in agen_with_langchain_errors(chunks):
            if run_manager:
                await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
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
        if tool_choice is not None:
            # Checked now, so a wrong tool name fails at bind time; the core owns every form's meaning.
            kwargs["tool_choice"] = core.tool_choice_of(tool_choice, [t["function"]["name"] for t in formatted])
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        return super().bind(tools=formatted, **kwargs)

    def _default_structured_method(self) -> StructuredMethod:
        info = self._connection.info()
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
