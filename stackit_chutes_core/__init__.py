"""stackit_chutes_core: the framework-free core shared by the LangChain and LlamaIndex adapters.

It routes ``"stackit/<id>"`` / ``"chutes/<id>"`` model strings to the right provider, URL and key
(:class:`ModelConnection`), turns call parameters into one neutral request
(:func:`build_chat_request`), speaks the OpenAI wire format once (with every provider quirk), and
raises one error hierarchy (:mod:`stackit_chutes_core.errors`). It never imports a framework.

Public modules: :mod:`.catalog`, :mod:`.errors`, :mod:`.providers`, :mod:`.routing`, :mod:`.types`;
everything else is private and reached through the names exported here.
"""

from stackit_chutes_core import catalog
from stackit_chutes_core._accumulate import StreamSnapshot
from stackit_chutes_core._batch import BatchEmbedder
from stackit_chutes_core._chat import achat, astream_chat, chat, stream_chat
from stackit_chutes_core._clients import clear_client_cache
from stackit_chutes_core._connection import DEFAULT_CONTEXT_WINDOW, ModelConnection, ModelLimits, cost_metadata
from stackit_chutes_core._discovery import refresh_catalog
from stackit_chutes_core._embeddings import (
    EmbeddingItem,
    EmbeddingResult,
    aembed_items,
    aembed_texts,
    embed_items,
    embed_texts,
)
from stackit_chutes_core._fallback import (
    FALLBACK_ERRORS,
    achat_with_fallbacks,
    astream_with_fallbacks,
    chat_with_fallbacks,
    stream_with_fallbacks,
)
from stackit_chutes_core._images import DEFAULT_MAX_IMAGE_BYTES, to_image_url
from stackit_chutes_core._limiter import (
    configure_rate_limits,
)
from stackit_chutes_core._params import REQUEST_FIELDS, build_chat_request, tool_choice_of
from stackit_chutes_core._pricing import Cost, estimate_cost
from stackit_chutes_core._progress import progress_bar, require_tqdm
from stackit_chutes_core._selection import list_models
from stackit_chutes_core._streaming import ChatStreamState
from stackit_chutes_core._tracking import (
    ModelUsage,
    UsageLedger,
    UsageView,
    activate_ledger,
    deactivate_ledger,
    track_usage,
)
from stackit_chutes_core._version import __version__
from stackit_chutes_core.catalog import ModelInfo
from stackit_chutes_core.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CapabilityError,
    ConfigurationError,
    ContextLengthExceededError,
    EmbeddingItemsError,
    InternalServerError,
    InvalidInputError,
    InvalidInputTypeError,
    InvalidInputValueError,
    InvalidParameterError,
    InvalidResponseError,
    MissingAPIKeyError,
    NotFoundError,
    ProviderCapabilityError,
    QuotaExceededError,
    RateLimitError,
    ResponseTooLargeError,
    StackitChutesError,
    StreamError,
    UnknownProviderError,
)
from stackit_chutes_core.providers import Provider, get_provider, known_providers, register_provider
from stackit_chutes_core.routing import (
    DEFAULT_MAX_RESPONSE_BYTES,
    Endpoint,
    ModelRoute,
    parse_model,
    resolve_endpoint,
)
from stackit_chutes_core.types import (
    ChatDelta,
    ChatRequest,
    ChatResult,
    ImagePart,
    Message,
    ResponseFormat,
    TextPart,
    ToolCall,
    ToolCallDelta,
    ToolChoice,
    ToolSpec,
    Usage,
)

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_CONTEXT_WINDOW",
    "DEFAULT_MAX_IMAGE_BYTES",
    "FALLBACK_ERRORS",
    "REQUEST_FIELDS",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CapabilityError",
    "ProviderCapabilityError",
    "ChatDelta",
    "ChatRequest",
    "ChatResult",
    "ChatStreamState",
    "ConfigurationError",
    "ContextLengthExceededError",
    "Cost",
    "EmbeddingItem",
    "EmbeddingItemsError",
    "EmbeddingResult",
    "Endpoint",
    "ImagePart",
    "InternalServerError",
    "InvalidInputError",
    "InvalidInputTypeError",
    "InvalidInputValueError",
    "InvalidParameterError",
    "InvalidResponseError",
    "Message",
    "MissingAPIKeyError",
    "ModelConnection",
    "ModelInfo",
    "ModelLimits",
    "ModelRoute",
    "ModelUsage",
    "NotFoundError",
    "Provider",
    "QuotaExceededError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ResponseFormat",
    "StackitChutesError",
    "StreamError",
    "TextPart",
    "ToolCall",
    "ToolCallDelta",
    "ToolChoice",
    "ToolSpec",
    "UnknownProviderError",
    "Usage",
    "UsageLedger",
    "UsageView",
    "__version__",
    "achat",
    "achat_with_fallbacks",
    "activate_ledger",
    "aembed_items",
    "aembed_texts",
    "astream_chat",
    "astream_with_fallbacks",
    "build_chat_request",
    "catalog",
    "chat",
    "chat_with_fallbacks",
    "clear_client_cache",
    "cost_metadata",
    "deactivate_ledger",
    "embed_items",
    "embed_texts",
    "estimate_cost",
    "get_provider",
    "known_providers",
    "list_models",
    "parse_model",
    "refresh_catalog",
    "register_provider",
    "resolve_endpoint",
    "stream_chat",
    "stream_with_fallbacks",
    "to_image_url",
    "tool_choice_of",
    "StreamSnapshot",
    "BatchEmbedder",
    "configure_rate_limits",
    "progress_bar",
    "require_tqdm",
    "track_usage",
]
