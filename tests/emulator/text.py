"""Deterministic "language model": tokenisation, prompt analysis and plain-text replies.

Replies are useful enough for end-to-end tests: greetings get a greeting, ``repeat "x"``
repeats ``x``, simple arithmetic is computed, RAG prompts are answered with the context
sentence that best overlaps the question (bag of words), tool results are echoed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

WORD_RE = re.compile(r"\w+", re.UNICODE)


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


STOPWORDS = _wordset(
    """a an the and or but if then else of at by for with about against between into through during before
    after above below to from up down in out on off over under again further once here there when where
    why how all any both each few more most other some such no nor not only own same so than too very s
    t can will just don should now is are was were be been being have has had having do does did doing i
    me my myself we our ours you your yours he him his she her it its they them their what which who
    whom this that these those am would could shall may might must let lets"""
)
FILLER = _wordset("please tell give show get make use using uses used call tool tools function value")
_RAG_BOILERPLATE = _wordset(
    """context information query question answer given prior knowledge following pieces helpful
    provided document documents based below above"""
)
_INSTRUCTION_START = re.compile(
    r"^(you are|you're|always|never|answer|respond|please|use |given|if |do not|don't|context information)",
    re.IGNORECASE,
)
_GREETINGS = {
    "hello",
    "hi",
    "hey",
    "hallo",
    "greetings",
    "howdy",
    "good morning",
    "good evening",
    "hey there",
    "hi there",
    "hello there",
    "yo",
}
_CAPITALS = {
    "france": "Paris",
    "germany": "Berlin",
    "italy": "Rome",
    "spain": "Madrid",
    "japan": "Tokyo",
    "england": "London",
    "united kingdom": "London",
    "uk": "London",
    "austria": "Vienna",
    "switzerland": "Bern",
    "netherlands": "Amsterdam",
    "poland": "Warsaw",
    "usa": "Washington, D.C.",
    "united states": "Washington, D.C.",
    "china": "Beijing",
    "canada": "Ottawa",
}
_HAIKUS = [
    "Silent circuits hum\nTokens drift like autumn leaves\nAnswers bloom in light",
    "Morning server fans\nWhisper streams of tiny words\nDone before the dawn",
    "Cherry blossoms fall\nOne by one the chunks arrive\nThe stream is finished",
]
GREETING_REPLY = "Hello! How can I help you today?"
JOKE_SETUP = "Why did the cat sit on the computer?"
JOKE_PUNCHLINE = "To keep an eye on the mouse!"


def stem(word: str) -> str:
    """A very small English stemmer: plural/possessive endings only."""
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def content_words(text: str, *, drop_filler: bool = False) -> list[str]:
    """Lower-cased, stemmed word tokens without stop-words (order preserved)."""
    out = []
    for raw in WORD_RE.findall(text.lower()):
        if raw in STOPWORDS or raw.isdigit() or (drop_filler and raw in FILLER):
            continue
        out.append(stem(raw))
    return out


def estimate_tokens(text: str) -> int:
    """Token estimate used for context checks and prompt usage: ``ceil(chars / 4)``."""
    return max(1, math.ceil(len(text) / 4)) if text else 0


def word_count(text: str) -> int:
    """Completion token estimate: whitespace-separated words."""
    return len(text.split())


def numbers_in(text: str) -> list[float]:
    """Numbers in reading order (``magic_function(3)`` -> ``[3]``; ``Qwen3`` ignored)."""
    found = re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w])", text)
    return [float(n) for n in found]


def quoted_strings(text: str) -> list[str]:
    """Quoted phrases (straight, curly, guillemet and CJK quotes); apostrophes in words are ignored."""
    pattern = (
        r"(?<!\w)(?:'([^'\n]+?)'|\"([^\"\n]+?)\"|\u201c([^\u201d\n]+?)\u201d|\u2018([^\u2019\n]+?)\u2019"
        r"|\u00ab([^\u00bb\n]+?)\u00bb|\u300c([^\u300d\n]+?)\u300d)(?!\w)"
    )
    return [next(g for g in m.groups() if g) for m in re.finditer(pattern, text)]


_IMPERATIVES = _wordset(
    """i generate create find search list write return add compute calculate extract summarize summarise
    describe explain translate classify identify determine convert format parse answer respond reply name
    lookup look check fetch send book schedule set update delete remove"""
)


def capitalised_phrases(text: str, exclude: Sequence[str] = ()) -> list[str]:
    """Runs of capitalised words (names, places), e.g. ``San Francisco, CA`` or ``Pirate``."""
    skip = {e.lower() for e in exclude} | STOPWORDS | FILLER | _IMPERATIVES
    phrases: list[str] = []
    for m in re.finditer(r"[^\W\d_][\w'.-]*(?:[ ]+[^\W\d_][\w'.-]*)*(?:,[ ]?[A-Z]{2}\b)?", text):
        words = m.group(0).split(" ")
        if text[m.end() : m.end() + 1] == ":":  # "Context:", "Extract:" are labels, not names
            words = words[:-1]
        current: list[str] = []
        for w in [*words, ""]:
            core = w.rstrip(".,")
            if core and core[0].isupper() and core.lower() not in skip:
                current.append(w)
                continue
            if current:
                phrases.append(" ".join(current).rstrip("."))
                current = []
    return phrases


def parts_text(content: object) -> str:
    """Text of a message ``content`` (string or list of parts); non-text parts are skipped."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif isinstance(part, str):
                texts.append(part)
        return "\n".join(texts)
    return str(content)


def question_of(text: str) -> str:
    """The actual question inside a (possibly templated) user prompt."""
    marks = list(re.finditer(r"(?im)^\s*(?:query|question)\s*:\s*(.+)$", text))
    if marks:
        return marks[-1].group(1).strip()
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    asks = [ln for ln in lines if ln.endswith("?")]
    return asks[-1] if asks else lines[-1]


def _sentences(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        line = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s+", "", line).strip()
        if not line or set(line) <= set("-=_*#"):
            continue
        for sent in re.split(r"(?<=[.!?])\s+", line):
            if len(sent.split()) >= 3 and not _INSTRUCTION_START.match(sent):
                out.append(sent.strip())
    return out


def rag_answer(context_texts: Sequence[str], user_text: str) -> str | None:
    """Best-overlapping context sentence for the question, or ``None`` if not a RAG prompt."""
    question = question_of(user_text)
    qwords = set(content_words(question)) - _RAG_BOILERPLATE
    if not qwords:
        return None
    candidates: list[str] = []
    for text in [*context_texts, user_text]:
        for sent in _sentences(text):
            in_question = bool(question) and (question in sent or sent in question)
            if in_question or re.match(r"(?i)^(query|question|answer)\s*:", sent):
                continue
            candidates.append(sent)
    if len(candidates) < 2:
        return None
    best, best_score = None, 0
    for sent in candidates:
        score = len(qwords & set(content_words(sent)))
        if score > best_score:
            best, best_score = sent, score
    return best


def _arithmetic(text: str) -> str | None:
    m = re.search(r"(-?\d+(?:\.\d+)?)\s*([+\-*/x\u00d7])\s*(-?\d+(?:\.\d+)?)", text)
    if not m:
        return None
    a, op, b = float(m.group(1)), m.group(2), float(m.group(3))
    if op == "/" and b == 0:
        return None
    result = {"+": a + b, "-": a - b, "*": a * b, "\u00d7": a * b, "x": a * b, "/": a / b if b else 0.0}[op]
    shown = int(result) if float(result).is_integer() else round(result, 6)
    return f"{m.group(1)} {op} {m.group(3)} = {shown}."


def _keywords(text: str) -> list[str]:
    seen: list[str] = []
    for raw in WORD_RE.findall(text):
        if raw.lower() not in STOPWORDS | FILLER and not raw.isdigit() and raw not in seen:
            seen.append(raw)
    return seen[:5]


def plain_answer(user_text: str, context_texts: Sequence[str] = ()) -> str:
    """The deterministic text answer to the last user message."""
    text = user_text.strip()
    low = text.lower()
    norm = re.sub(r"[^\w\s]", "", low).strip()
    rep = re.search(
        r"(?is)\b(?:repeat|say|echo)\b(?:\s+(?:after me|back|exactly|the text|this))*"
        r"\s*:\s*(.+)$",
        text,
    )
    quoted = quoted_strings(text)
    if re.search(r"(?i)\b(repeat|say|echo)\b", text) and quoted:
        return quoted[0]
    if rep:
        return rep.group(1).strip().strip("\"'\u201c\u201d")
    rag = rag_answer(context_texts, text)
    if rag:
        return rag
    if norm in _GREETINGS or (norm.split()[:1] and norm.split()[0] in _GREETINGS and len(norm.split()) <= 3):
        return GREETING_REPLY
    if "how are you" in norm:
        return "I'm doing well, thank you! How can I help you today?"
    arith = _arithmetic(question_of(text))
    if arith:
        return arith
    for country, capital in _CAPITALS.items():
        if "capital" in low and re.search(rf"\b{re.escape(country)}\b", low):
            return f"The capital of {country.title() if len(country) > 3 else country.upper()} is {capital}."
    if "haiku" in low:
        count = next((int(n) for n in numbers_in(text) if 0 < n <= len(_HAIKUS)), 1)
        return "\n\n".join(_HAIKUS[:count])
    if "joke" in low:
        return f"{JOKE_SETUP} {JOKE_PUNCHLINE}"
    keys = _keywords(question_of(text) or text)
    if not keys:
        return "I'm here to help. Could you tell me a bit more about what you need?"
    topic = keys[0] if len(keys) == 1 else ", ".join(keys[:-1]) + " and " + keys[-1]
    return f"You asked about {topic}. Here is a short answer: {keys[0]} is the key point, and I hope this helps."


def reasoning_text(user_text: str, effort: str | None, plan: str) -> str:
    """A short deterministic chain of thought; ``high`` effort adds a sentence, ``low`` trims."""
    words = question_of(user_text).split() or ["something"]
    short = " ".join(words[:12]) + (" ..." if len(words) > 12 else "")
    parts = [f'The user asks: "{short}".', plan]
    if effort == "high":
        parts.append("Let me double-check the details before answering.")
    elif effort == "low":
        parts = [f'The user asks: "{short}".', plan.split(",", maxsplit=1)[0].rstrip(".") + "."]
    return " ".join(parts)
