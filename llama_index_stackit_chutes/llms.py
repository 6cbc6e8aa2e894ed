"""``StackitChutes``: STACKIT and Chutes chat models as a LlamaIndex ``FunctionCallingLLM``.

A thin adapter: every call resolves the model string through the core (provider, URL, key), turns
LlamaIndex messages and tools into the core's neutral request, and turns the core's result or
stream back into ``ChatResponse`` objects. Only the eight public chat/complete methods carry
LlamaIndex's callback decorators; they share undecorated private implementations, so each call
fires exactly one set of instrumentation events and token counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.generic_utils import (
    achat_to_completion_decorator,
    astream_chat_to_completion_decorator,
    chat_to_completion_decorator,
    stream_chat_to_completion_decorator,
)
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.bridge.pydantic import Field
from llama_index.core.callbacks import CallbackManager
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection

from llama_index_stackit_chutes._convert import (
    assistant_message,
    keep_first_tool_call,
    resolve_tool_choice,
    to_core_messages,
    to_tool_spec,
    tool_selections,
    usage_dict,
)
from llama_index_stackit_chutes._fields import ConnectionFields
from stackit_chutes_core import (
    DEFAULT_CONTEXT_WINDOW,
    ChatDelta,
    ChatRequest,
    ChatResult,
    ChatStreamState,
    Endpoint,
    achat,
    achat_with_fallbacks,
    astream_chat,
    astream_with_fallbacks,
    build_chat_request,
    chat,
    chat_with_fallbacks,
    cost_metadata,
    stream_chat,
    stream_with_fallbacks,
)

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool

__all__ = ["DEFAULT_CONTEXT_WINDOW", "StackitChutes"]

# LlamaIndex-internal keywords that reach chat(**kwargs) but are no API parameters.
_FRAMEWORK_KWARGS = frozenset(
    {"verbose", "tool_required", "allow_parallel_tool_calls", "strict", "formatted", "error_on_no_tool_call"}
)


class StackitChutes(ConnectionFields, FunctionCallingLLM):
    """A STACKIT AI Model Serving or Chutes chat model for LlamaIndex.

    ``StackitChutes(model="stackit/openai/gpt-oss-120b")`` or ``model="chutes/<model id>"``. The key
    comes from ``api_key`` or ``STACKIT_API_KEY`` / ``CHUTES_API_KEY`` (never ``OPENAI_*``) and an
    explicit key is only ever sent to the provider of ``model``: a per-call ``model=`` of the other
    provider uses that provider's environment key. ``metadata`` (context window, output size,
    function calling) comes from the packaged catalog.
    """

    model: str = Field(description="'stackit/<model id>' or 'chutes/<model id>' (or a bare id plus `provider`).")
    temperature: float | None = Field(default=None, description="Sampling temperature; None: provider default.")
    max_tokens: int | None = Field(default=None, gt=0, description="Output-token limit per call.")
    additional_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Extra request parameters (e.g. top_p, seed, top_k) for every call."
    )
    reasoning_effort: str | None = Field(default=None, description="'low' | 'medium' | 'high' where supported.")
    thinking: bool | None = Field(default=None, description="Switch a hybrid model's thinking on or off.")
    strict: bool = Field(default=False, description="Send tool schemas as strict (providers may ignore it).")
    context_window: int | None = Field(
        default=None, gt=0, description="Override the catalog's context window (unknown models: 32,768)."
    )
    is_chat_model: bool = Field(
        default=True,
        description="Reported in `metadata`; False makes LlamaIndex send formatted prompts through `complete` "
        "(requests still use /chat/completions).",
    )
    is_function_calling_model: bool | None = Field(
        default=None, description="Override the catalog's tool-calling capability."
    )
    fallback_models: list[str] = Field(
        default_factory=list,
        description="Models tried in order when a call fails with a rate limit (after retries), an exhausted "
        "quota, a server or connection error, or a model that is not served; each uses its own provider's key. "
        "Never after a bad request or an authentication error; a stream only before its first chunk.",
    )

    def __init__(self, model: str | None = None, **kwargs: Any) -> None:
        if model is not None:
            kwargs["model"] = model
        callback_manager = kwargs.pop("callback_manager", None)
        # mypy resolves __init__ to the ConnectionFields mixin; at run time it is the pydantic model's.
        super().__init__(callback_manager=callback_manager or CallbackManager([]), **kwargs)  # type: ignore[call-arg]
        # Unknown provider, wrong model kind or missing key: fail here, before any request.
        self._bind_credentials()
        for fallback in self.fallback_models:  # unknown provider, wrong kind or missing key: now, not mid-outage
            self._endpoint(fallback)

    @classmethod
    def class_name(cls) -> str:
        """Stable identifier used by LlamaIndex serialisation."""
        return "StackitChutes_llm"

    # -- metadata -------------------------------------------------------------------------

    @property
    def metadata(self) -> LLMMetadata:
        """Context window, output size and tool support of the model, from the catalog."""
        connection = self._connection
        info = connection.info()
        limits = connection.limits(context_window=self.context_window)
        if self.max_tokens is not None:
            num_output = self.max_tokens
        elif limits.max_output_tokens:
            # Reserve at most a quarter of the window: some models' max output equals their context.
            num_output = min(limits.max_output_tokens, limits.context_window // 4)
        else:
            num_output = -1
        if self.is_function_calling_model is not None:
            tools = self.is_function_calling_model
        else:
            tools = info.capabilities.tools if info is not None else True
        return LLMMetadata(
            context_window=limits.context_window,
            num_output=num_output,
            is_chat_model=self.is_chat_model,
            is_function_calling_model=tools,
            model_name=connection.route().qualified_name,
            system_role=MessageRole.SYSTEM,
        )

    # -- request building -----------------------------------------------------------------

    def _request(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> tuple[Endpoint, ChatRequest]:
        call = dict(kwargs)
        endpoint = self._endpoint(call.pop("model", None))
        if call.get("tools"):
            call["tools"] = [to_tool_spec(tool, strict=self.strict) for tool in call["tools"]]
        defaults = {
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "reasoning_effort": self.reasoning_effort,
            "thinking": self.thinking,
            **self.additional_kwargs,
        }
        request = build_chat_request(
            to_core_messages(messages), info=endpoint.route.info, defaults=defaults, call=call, ignore=_FRAMEWORK_KWARGS
        )
        return endpoint, request

    # -- responses ------------------------------------------------------------------------

    @staticmethod
    def _usage_kwargs(result: ChatResult, endpoint: Endpoint) -> dict[str, Any]:
        data = usage_dict(result.usage)
        cost = cost_metadata(endpoint.route.info, result.usage)
        if cost is not None:
            data["cost"] = cost
        return data

    def _chat_response(self, result: ChatResult, endpoint: Endpoint) -> ChatResponse:
        return ChatResponse(
            message=assistant_message(result),
            raw=dict(result.raw) if result.raw is not None else None,
            additional_kwargs={
                "model_name": f"{result.provider}/{result.model}",
                **self._usage_kwargs(result, endpoint),
            },
        )

    def _stream_response(self, state: ChatStreamState, delta: ChatDelta, endpoint: Endpoint) -> ChatResponse:
        result = state.result()
        additional: dict[str, Any] = {"model_name": f"{result.provider}/{result.model}"}
        if delta.reasoning:
            additional["thinking_delta"] = delta.reasoning
        raw: dict[str, Any] = {"id": result.id, "model": result.model, "finish_reason": result.finish_reason}
        if delta.usage is not None:
            # The usage event is the last one; TokenCountingHandler reads the last response's raw["usage"].
            usage = self._usage_kwargs(result, endpoint)
            additional.update(usage)
            raw["usage"] = usage_dict(delta.usage)
        return ChatResponse(message=assistant_message(result), delta=delta.text, raw=raw, additional_kwargs=additional)

    # -- private, undecorated implementations ----------------------------------------------

    def _primary(self, kwargs: dict[str, Any]) -> str:
        model = kwargs.get("model")
        return model if isinstance(model, str) and model else self.model

    def _chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        def call(model: str) -> ChatResponse:
            endpoint, request = self._request(messages, {**kwargs, "model": model})
            return self._chat_response(chat(endpoint, request), endpoint)

        return chat_with_fallbacks(self._primary(kwargs), self.fallback_models, call)

    async def _achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        async def call(model: str) -> ChatResponse:
            endpoint, request = self._request(messages, {**kwargs, "model": model})
            return self._chat_response(await achat(endpoint, request), endpoint)

        return await achat_with_fallbacks(self._primary(kwargs), self.fallback_models, call)

    def _stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        primary = self._primary(kwargs)
        prepared = self._request(messages, {**kwargs, "model": primary})  # bad input raises now, not mid-iteration

        def start(model: str) -> ChatResponseGen:
            endpoint, request = prepared if model == primary else self._request(messages, {**kwargs, "model": model})
            state = ChatStreamState(endpoint)
            return (self._stream_response(state, delta, endpoint) for delta in stream_chat(endpoint, request, state))

        return stream_with_fallbacks(primary, self.fallback_models, start)

    async def _astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        primary = self._primary(kwargs)
        prepared = self._request(messages, {**kwargs, "model": primary})

        async def start(model: str) -> ChatResponseAsyncGen:
            endpoint, request = prepared if model == primary else self._request(messages, {**kwargs, "model": model})
            state = ChatStreamState(endpoint)
            async for delta in astream_chat(endpoint, request, state):
                yield self._stream_response(state, delta, endpoint)

        return astream_with_fallbacks(primary, self.fallback_models, start)

    # -- the eight public, instrumented methods ---------------------------------------------

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Chat with the model."""
        return self._chat(messages, **kwargs)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Async :meth:`chat`."""
        return await self._achat(messages, **kwargs)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        """Stream a chat answer; each response carries the cumulative message and the new ``delta``."""
        return self._stream_chat(messages, **kwargs)

    @llm_chat_callback()
    async def astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        """Async :meth:`stream_chat`."""
        return await self._astream_chat(messages, **kwargs)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Complete a prompt (sent as one user message)."""
        return chat_to_completion_decorator(self._chat)(prompt, **kwargs)

    @llm_completion_callback()
    async def acomplete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Async :meth:`complete`."""
        return await achat_to_completion_decorator(self._achat)(prompt, **kwargs)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        """Stream a completion."""
        return stream_chat_to_completion_decorator(self._stream_chat)(prompt, **kwargs)

    @llm_completion_callback()
    async def astream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseAsyncGen:
        """Async :meth:`stream_complete`."""
        return await astream_chat_to_completion_decorator(self._astream_chat)(prompt, **kwargs)

    # -- tools ------------------------------------------------------------------------------

    def _prepare_chat_with_tools(  # noqa: PLR0917 - the signature LlamaIndex calls
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: str | Mapping[str, Any] | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Build ``chat`` keyword arguments for a tool-calling turn (the caller's history is not mutated)."""
        use_strict = self.strict if strict is None else strict
        specs = [to_tool_spec(tool, strict=use_strict) for tool in tools]
        messages = list(chat_history or [])
        if user_msg is not None:
            messages.append(
                ChatMessage(role=MessageRole.USER, content=user_msg) if isinstance(user_msg, str) else user_msg
            )
        prepared: dict[str, Any] = {"messages": messages, **kwargs}
        if specs:
            prepared["tools"] = specs
            prepared["tool_choice"] = resolve_tool_choice(tool_choice, tool_required)
            prepared["parallel_tool_calls"] = allow_parallel_tool_calls
        return prepared

    def _validate_chat_with_tools_response(
        self,
        response: ChatResponse,
        tools: Sequence[BaseTool],
        allow_parallel_tool_calls: bool = False,
        **kwargs: Any,
    ) -> ChatResponse:
        """Keep only the first tool call unless parallel calls were allowed."""
        if not allow_parallel_tool_calls:
            keep_first_tool_call(response.message)
        return response

    def get_tool_calls_from_response(
        self,
        response: ChatResponse,
        error_on_no_tool_call: bool = True,
        **kwargs: Any,
    ) -> list[ToolSelection]:
        """The tool calls of a (possibly partial, streamed) response; never raises mid-stream."""
        selections = tool_selections(response.message)
        if not selections and error_on_no_tool_call:
            text = response.message.content or ""
            raise ValueError(f"Expected at least one tool call, but the model answered in text: {text[:200]!r}")
        return selections
