"""Input checks run before any request: wrong types and unsendable text fail here, not at the provider.

Every failure is an :class:`InvalidInputError` that is also a ``TypeError`` (wrong type: a single
``str`` where a list of texts is expected, ``None``, numbers, bytes) or a ``ValueError`` (an empty
text, a lone UTF-16 surrogate that cannot be encoded as UTF-8, an unknown role), and names the
position of the offending input. The cost is one ``isascii()`` per text (plus a UTF-8 encode for
non-ASCII text), all in C.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stackit_chutes_core.errors import InvalidInputTypeError, InvalidInputValueError
from stackit_chutes_core.types import ImagePart, Message, TextPart

__all__ = ["check_embedding_items", "check_messages", "check_texts"]

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})


def _type_name(value: object) -> str:
    return "None" if value is None else type(value).__name__


def check_text(text: object, where: str, *, allow_empty: bool = False) -> None:
    """``text`` must be a ``str`` that UTF-8 can encode (and, unless ``allow_empty``, not empty)."""
    if not isinstance(text, str):
        raise InvalidInputTypeError(f"{where} must be a string, got {_type_name(text)}: {str(text)[:60]!r}.")
    if not text and not allow_empty:
        raise InvalidInputValueError(f"{where} is an empty string; providers reject it. Drop it or send real text.")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidInputValueError(
                f"{where} contains a lone surrogate ({text[exc.start : exc.end]!r} at position {exc.start}), "
                "which cannot be sent as UTF-8; it usually comes from decoding bytes with "
                "errors='surrogateescape'. Re-decode the source or replace it."
            ) from None


def _sequence(values: object, what: str) -> Sequence[Any]:
    if isinstance(values, (str, bytes, bytearray)):
        raise InvalidInputTypeError(
            f"{what} must be a list, got a single {type(values).__name__}; wrap it in a list: [{what[:-1]}]."
        )
    if not isinstance(values, Sequence):
        raise InvalidInputTypeError(f"{what} must be a list, got {_type_name(values)}.")
    return values


def check_texts(texts: object) -> None:
    """Embedding inputs: a list of non-empty, UTF-8-encodable strings."""
    for position, text in enumerate(_sequence(texts, "texts")):
        check_text(text, f"texts[{position}]")


def check_embedding_items(items: object) -> None:
    """Multimodal embedding inputs: ``EmbeddingItem``-like objects with text and/or an image."""
    for position, item in enumerate(_sequence(items, "items")):
        text, image = getattr(item, "text", None), getattr(item, "image_url", None)
        if not hasattr(item, "image_url"):
            raise InvalidInputTypeError(f"items[{position}] must be an EmbeddingItem, got {_type_name(item)}.")
        if image is not None and not isinstance(image, str):
            raise InvalidInputTypeError(f"items[{position}].image_url must be a string, got {_type_name(image)}.")
        if text is None and not image:
            raise InvalidInputValueError(f"items[{position}] has neither text nor an image.")
        if text is not None:
            check_text(text, f"items[{position}].text", allow_empty=bool(image))


def check_messages(messages: object) -> None:
    """Chat messages: a non-empty list of :class:`Message` whose text parts are sendable.

    Empty text is allowed except as the whole content of a user turn (assistant turns carrying only
    tool calls and empty tool results are normal).
    """
    sequence = _sequence(messages, "messages")
    if not sequence:
        raise InvalidInputValueError("messages is empty; a chat call needs at least one message.")
    for position, message in enumerate(sequence):
        where = f"messages[{position}]"
        if not isinstance(message, Message):
            raise InvalidInputTypeError(f"{where} must be a Message, got {_type_name(message)}.")
        if message.role not in _ROLES:
            raise InvalidInputValueError(f"{where}.role {message.role!r} is not one of {', '.join(sorted(_ROLES))}.")
        content = message.content
        if content is None or isinstance(content, str):
            if message.role == "user" and not content:
                raise InvalidInputValueError(f"{where} is a user message without content.")
            if content:
                check_text(content, f"{where}.content")
            continue
        for index, part in enumerate(_sequence(content, f"{where}.content")):
            if isinstance(part, TextPart):
                check_text(part.text, f"{where}.content[{index}].text", allow_empty=True)
            elif isinstance(part, ImagePart):
                if not isinstance(part.url, str) or not part.url:
                    raise InvalidInputTypeError(f"{where}.content[{index}] is an image without a URL string.")
            else:
                raise InvalidInputTypeError(
                    f"{where}.content[{index}] must be a TextPart or ImagePart, got {_type_name(part)}."
                )
