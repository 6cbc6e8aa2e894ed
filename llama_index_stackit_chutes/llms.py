"""``StackitChutes``: STACKIT and Chutes chat models as a LlamaIndex ``FunctionCallingLLM``.

A thin adapter: every call resolves the model string through the core (provider, URL, key), turns
LlamaIndex messages and tools into the core's neutral request, and turns the core's result or
stream back into ``ChatResponse`` objects. Only the eight public chat/complete methods carry
LlamaIndex's callback decorators; they share undecorated private implementations, so each call
fires exactly one set of instrumentation events and token counts.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.generic_utils import (
    achat_to_completion_decorator,
    chat_to_completion_decorator,
    prompt_to_messages,
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
from llama_index.core.bridge.pydantic import Field, SecretStr
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
from llama_index_stackit_chutes._deferred import astream_completions, stream_completions, streamed_message
from stackit_chutes_core import (
    ChatDelta,
    ChatRequest,
    ChatResult,
    ChatStreamState,
    Endpoint,
    StreamSnapshot,
    achat,
    astream_chat,
    chat,
    configure_rate_limits,
    estimate_cost,
    parse_model,
    resolve_endpoint,
    stream_chat,
)

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool

__all__ = ["DEFAULT_CONTEXT_WINDOW", "StackitChutes"]

logger = logging.getLogger(__name__)

DEFAULT_CONTEXT_WINDOW = 32_768
"""Context window assumed for models the catalog does not know (logged once per model).

Conservative but realistic for current open models; LlamaIndex's own fallback (3,900 tokens) would
silently truncate agent memory and prompt packing. Override with ``context_window=...``.
"""

_warned_unknown: set[str] = set()

# Keyword arguments that map onto ChatRequest fields; anything else goes into the body verbatim.
_REQUEST_FIELDS = frozenset(
    {
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "temperature",
        "max_tokens",
        "top_p",
        "stop",
        "seed",
        "frequency_penalty",
        "presence_penalty",
        "n",
        "reasoning_effort",
        "thinking",
        "include_usage",
        "extra_headers",
    }
)
# LlamaIndex-internal keywords that reach chat(**kwargs) but are no API parameters.
_FRAMEWORK_KWARGS = frozenset(
    {"verbose", "tool_required", "allow_parallel_tool_calls", "strict", "formatted", "error_on_no_tool_call"}
)


class StackitChutes(FunctionCallingLLM):
    """A STACKIT AI Model Serving or Chutes chat model for LlamaIndex.

    ``StackitChutes(model="stackit/openai/gpt-oss-120b")`` or ``model="chutes/<model id>"``. The key
    comes from ``api_key`` or ``STACKIT_API_KEY`` / ``CHUTES_API_KEY`` (never ``OPENAI_*``) and an
    explicit key is only ever sent to the provider of ``model``: a per-call ``model=`` of the other
    provider uses that provider's environment key. ``metadata`` (context window, output size,
    function calling) comes from the packaged catalog.
    """

    model: str = Field(description="'stackit/<model id>' or 'chutes/<model id>' (or a bare id plus `provider`).")
    provider: str | None = Field(default=None, description="Provider name when `model` carries no prefix.")
    api_key: SecretStr | None = Field(
        default=None, exclude=True, repr=False, description="API key; default: the provider's environment variable."
    )
    api_base: str | None = Field(default=None, description="Base URL override for the model's provider.")
    temperature: float | None = Field(default=None, description="Sampling temperature; None: provider default.")
    max_tokens: int | None = Field(default=None, gt=0, description="Output-token limit per call.")
    timeout: float | None = Field(default=None, description="Request timeout in seconds; None: SDK default.")
    max_retries: int = Field(default=2, ge=0, description="Retries on 429/5xx/timeouts (never on Chutes 402).")
    default_headers: dict[str, str] | None = Field(default=None, description="Extra headers on every request.")
    additional_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Extra request parameters (e.g. top_p, seed, top_k) for every call."
    )
    reasoning_effort: str | None = Field(default=None, description="'low' | 'medium' | 'high' where supported.")
    thinking: bool | None = Field(default=None, description="Switch a hybrid model's thinking on or off.")
    strict: bool = Field(default=False, description="Send tool schemas as strict (providers may ignore it).")
    context_window: int | None = Field(default=None, gt=0, description="Override the catalog's context window.")
    is_function_calling_model: bool | None = Field(
        default=None, description="Override the catalog's tool-calling capability."
    )
    http_client: Any = Field(default=None, exclude=True, repr=False, description="Custom sync httpx client.")
    async_http_client: Any = Field(default=None, exclude=True, repr=False, description="Custom async httpx client.")
    requests_per_minute: float | None = Field(
        default=None,
        gt=0,
        description="Pace requests to this budget (shared per key and model in the process; 429s slow it down). "
        "Default: the catalog's documented limit, else no pacing.",
    )
    tokens_per_minute: float | None = Field(
        default=None, gt=0, description="Pace tokens to this budget (STACKIT: prompt + 5 x generated tokens)."
    )

    def __init__(self, model: str | None = None, **kwargs: Any) -> None:
        if model is not None:
            kwargs["model"] = model
        callback_manager = kwargs.pop("callback_manager", None)
        super().__init__(callback_manager=callback_manager or CallbackManager([]), **kwargs)
        self._endpoint()  # unknown provider or missing key: fail here, before any request

    @classmethod
    def class_name(cls) -> str:
        """Stable identifier used by LlamaIndex serialisation."""
        return "StackitChutes_llm"

    # -- metadata -------------------------------------------------------------------------

    @property
    def metadata(self) -> LLMMetadata:
        """Context window, output size and tool support of the model, from the catalog."""
        route = parse_model(self.model, self.provider)
        info = route.info
        context = self.context_window or (info.context_window if info else None)
        if context is None:
            context = DEFAULT_CONTEXT_WINDOW
            if route.qualified_name not in _warned_unknown:
                _warned_unknown.add(route.qualified_name)
                logger.warning(
                    "The catalog does not know the context window of %r; assuming %d tokens. "
                    "Pass context_window=... to StackitChutes to set it.",
                    route.qualified_name,
                    DEFAULT_CONTEXT_WINDOW,
                )
        if self.max_tokens is not None:
            num_output = self.max_tokens
        elif info is not None and info.max_output_tokens:
            # Reserve at most a quarter of the window: some models' max output equals their context.
            num_output = min(info.max_output_tokens, context // 4)
        else:
            num_output = -1
        if self.is_function_calling_model is not None:
            tools = self.is_function_calling_model
        else:
            tools = info.capabilities.tools if info is not None else True
        return LLMMetadata(
            context_window=context,
            num_output=num_output,
            is_chat_model=True,
            is_function_calling_model=tools,
            model_name=route.qualified_name,
            system_role=MessageRole.SYSTEM,
        )

    # -- request building -----------------------------------------------------------------

    def _endpoint(self, model: str | None = None) -> Endpoint:
        home = parse_model(self.model, self.provider).provider.name
        endpoint = resolve_endpoint(
            model or self.model,
            provider=None if model else self.provider,
            api_key=self.api_key,
            base_url=self.api_base,
            purpose="chat",
            credentials_for=home,
            default_headers=self.default_headers,
            timeout=self.timeout,
            max_retries=self.max_retries,
            http_client=self.http_client,
            http_async_client=self.async_http_client,
        )
        if model is None:  # budgets belong to this object's model, not to per-call switches
            configure_rate_limits(endpoint, self.requests_per_minute, self.tokens_per_minute)
        return endpoint

    def _request(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> tuple[Endpoint, ChatRequest]:
        endpoint = self._endpoint(kwargs.pop("model", None))
        defaults: dict[str, Any] = {
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "reasoning_effort": self.reasoning_effort,
            "thinking": self.thinking,
        }
        params: dict[str, Any] = {k: v for k, v in defaults.items() if v is not None}
        params.update(self.additional_kwargs)
        params.update(kwargs)
        if "max_completion_tokens" in params:
            params.setdefault("max_tokens", params.pop("max_completion_tokens"))
        extra_body = dict(params.pop("extra_body", None) or {})
        fields: dict[str, Any] = {}
        for key, value in params.items():
            if key in _FRAMEWORK_KWARGS:
                continue
            if key in _REQUEST_FIELDS:
                fields[key] = value
            else:
                extra_body[key] = value
        tools = fields.pop("tools", None) or ()
        fields["tools"] = [to_tool_spec(tool, strict=self.strict) for tool in tools]
        if isinstance(fields.get("stop"), str):
            fields["stop"] = [fields["stop"]]
        request = ChatRequest(messages=to_core_messages(messages), extra_body=extra_body or None, **fields)
        return endpoint, request

    # -- responses ------------------------------------------------------------------------

    @staticmethod
    def _usage_kwargs(result: ChatResult | StreamSnapshot, endpoint: Endpoint) -> dict[str, Any]:
        data = usage_dict(result.usage)
        cost = estimate_cost(endpoint.route.info, result.usage)
        if cost is not None:
            data["cost"] = float(cost.total)
            data["currency"] = cost.currency
        return data

    def _chat_response(self, result: ChatResult, endpoint: Endpoint) -> ChatResponse:
        return ChatResponse(
            message=assistant_message(result),
            raw=dict(result.raw) if result.raw is not None else None,
            additional_kwargs=self._usage_kwargs(result, endpoint),
        )

    def _stream_response(self, state: ChatStreamState, delta: ChatDelta, endpoint: Endpoint) -> ChatResponse:
        # A snapshot, not state.result(): joining the cumulative text per chunk is O(N^2) per stream.
        result = state.snapshot()
        additional: dict[str, Any] = {}
        if delta.reasoning:
            additional["thinking_delta"] = delta.reasoning
        raw: dict[str, Any] = {"id": result.id, "model": result.model, "finish_reason": result.finish_reason}
        if delta.usage is not None:
            # The usage event is the last one; TokenCountingHandler reads the last response's raw["usage"].
            usage = self._usage_kwargs(result, endpoint)
            additional.update(usage)
            raw["usage"] = usage_dict(delta.usage)
        return ChatResponse(message=streamed_message(result), delta=delta.text, raw=raw, additional_kwargs=additional)

    # -- private, undecorated implementations ----------------------------------------------

    def _chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        endpoint, request = self._request(messages, kwargs)
        return self._chat_response(chat(endpoint, request), endpoint)

    async def _achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        endpoint, request = self._request(messages, kwargs)
        return self._chat_response(await achat(endpoint, request), endpoint)

    def _stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        endpoint, request = self._request(messages, kwargs)

        def gen() -> ChatResponseGen:
            state = ChatStreamState(endpoint)
            for delta in stream_chat(endpoint, request, state):
                yield self._stream_response(state, delta, endpoint)

        return gen()

    async def _astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        endpoint, request = self._request(messages, kwargs)

        async def gen() -> ChatResponseAsyncGen:
            state = ChatStreamState(endpoint)
            async for delta in astream_chat(endpoint, request, state):
                yield self._stream_response(state, delta, endpoint)

        return gen()

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
        return stream_completions(self._stream_chat(prompt_to_messages(prompt), **kwargs))

    @llm_completion_callback()
    async def astream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseAsyncGen:
        """Async :meth:`stream_complete`."""
        return astream_completions(await self._astream_chat(prompt_to_messages(prompt), **kwargs))

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
