"""stackit_chutes_core: the framework-free core shared by the LangChain and LlamaIndex adapters.

It routes ``"stackit/<id>"`` / ``"chutes/<id>"`` model strings to the right provider, URL and key,
speaks the OpenAI wire format once (with every provider quirk), and raises one error hierarchy
(:mod:`stackit_chutes_core.errors`). It never imports a framework.
"""

from stackit_chutes_core import catalog
from stackit_chutes_core._chat import (
    achat,
    astream_chat,
    build_chat_body,
    chat,
    parse_chat_response,
    stream_chat,
)
from stackit_chutes_core._clients import async_client_for, clear_client_cache, sync_client_for
from stackit_chutes_core._discovery import refresh_catalog
from stackit_chutes_core._embeddings import (
    EmbeddingItem,
    EmbeddingResult,
    aembed_items,
    aembed_texts,
    build_input_body,
    build_messages_body,
    embed_items,
    embed_texts,
    format_query,
    uses_chat_template,
)
from stackit_chutes_core._images import detect_mime, to_image_url
from stackit_chutes_core._pricing import Cost, estimate_cost
from stackit_chutes_core._selection import list_models
from stackit_chutes_core._streaming import ChatStreamState
from stackit_chutes_core._version import __version__
from stackit_chutes_core.catalog import Capabilities, ModelInfo, Price
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
    MissingAPIKeyError,
    NotFoundError,
    QuotaExceededError,
    RateLimitError,
    StackitChutesError,
    StreamError,
    UnknownProviderError,
)
from stackit_chutes_core.providers import Provider, get_provider, known_providers, register_provider
from stackit_chutes_core.routing import Endpoint, ModelRoute, parse_model, resolve_endpoint
from stackit_chutes_core.types import (
    ChatDelta,
    ChatRequest,
    ChatResult,
    ImagePart,
    Message,
    TextPart,
    ToolCall,
    ToolCallDelta,
    ToolSpec,
    Usage,
)

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "Capabilities",
    "CapabilityError",
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
    "Message",
    "MissingAPIKeyError",
    "ModelInfo",
    "ModelRoute",
    "NotFoundError",
    "Price",
    "Provider",
    "QuotaExceededError",
    "RateLimitError",
    "StackitChutesError",
    "StreamError",
    "TextPart",
    "ToolCall",
    "ToolCallDelta",
    "ToolSpec",
    "UnknownProviderError",
    "Usage",
    "__version__",
    "achat",
    "aembed_items",
    "aembed_texts",
    "astream_chat",
    "async_client_for",
    "build_chat_body",
    "build_input_body",
    "build_messages_body",
    "catalog",
    "chat",
    "clear_client_cache",
    "detect_mime",
    "embed_items",
    "embed_texts",
    "estimate_cost",
    "format_query",
    "get_provider",
    "known_providers",
    "list_models",
    "parse_chat_response",
    "parse_model",
    "refresh_catalog",
    "register_provider",
    "resolve_endpoint",
    "stream_chat",
    "sync_client_for",
    "to_image_url",
    "uses_chat_template",
]
