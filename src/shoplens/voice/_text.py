"""Feedback text into the units themes are mined from, and quotes safe to show."""

from __future__ import annotations

import re

MIN_UNIT_WORDS = 3
MAX_QUOTE_CHARS = 240

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|[\r\n]+|\s+-\s+")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_PHONE = re.compile(r"\+?\d[\d ()./-]{6,}\d")
_SPACES = re.compile(r"\s+")


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def any_of_words(*alternatives: str) -> re.Pattern[str]:
    """A case-insensitive pattern that finds any of the regular expressions ``alternatives`` as whole words."""
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.IGNORECASE)


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` with at least :data:`MIN_UNIT_WORDS` words, whitespace tidied.

    Themes are mined per sentence, because one review often speaks of several things (the fit, the fabric,
    the delivery) and each belongs to its own theme.
    """
    pieces = (_SPACES.sub(" ", piece).strip(" \"'") for piece in _SENTENCE_END.split(text))
    return [piece for piece in pieces if len(words(piece)) >= MIN_UNIT_WORDS]


def unit_key(sentence: str) -> str:
    """Sentences equal up to case and spacing are one unit (embedded once, weighted by how often they occur)."""
    return _SPACES.sub(" ", sentence.lower()).strip()


def redact_contacts(text: str) -> str:
    """Replace e-mail addresses, links and phone numbers, which customers sometimes write into feedback."""
    text = _EMAIL.sub("[e-mail]", text)
    text = _URL.sub("[link]", text)
    return _PHONE.sub("[phone]", text)


def quote(text: str) -> str:
    """A quote fit to show: contact details redacted, at most :data:`MAX_QUOTE_CHARS` characters."""
    cleaned = redact_contacts(_SPACES.sub(" ", text).strip())
    if len(cleaned) <= MAX_QUOTE_CHARS:
        return cleaned
    return cleaned[: MAX_QUOTE_CHARS - 1].rsplit(" ", 1)[0] + "…"
