"""Separating a question from the answer options written with it, and checking the options on their own.

Survey drafts often carry their answers in the text: "How satisfied were you? (1-5, or not applicable)",
"Did you use the size guide? (Yes / No / Don't remember)", "Which did you use? Card, PayPal, Other", or an inline
"On a scale of 0 to 10, …". The wording rules read only the question (the *stem*); the options are read for a way
out ("don't know / not applicable") and for balance (as many negative as positive answers).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class AskedQuestion:
    """A question as asked: its wording without the options, and the options (written in it or given apart)."""

    text: str
    stem: str
    options: tuple[str, ...]

    @property
    def offers_escape(self) -> bool:
        """Whether one of the options lets her say she does not know, cannot remember or did not use it."""
        return any(_ESCAPE_OPTION.search(option) for option in self.options)


# "1-5", "0 to 10", or the points written out: "1 2 3 4 5".
_SCALE = r"\d+\s*(?:-|–|—|to)\s*\d+|\b\d+(?:\s+\d+){2,}\b"
_ANSWER_WORDS = re.compile(
    r"\b(yes|no|maybe|not sure|don'?t know|don'?t remember|n/a|not applicable|other|none)\b|=|" + _SCALE,
    re.IGNORECASE,
)
_SEPARATORS = re.compile(r"[/,;]|\s[-–—]\s")
_QUESTION_START = re.compile(
    r"^(how|what|why|which|who|where|when|did|do|does|is|are|was|were|would|will|can|could|should|please|tell|and)\b",
    re.IGNORECASE,
)
# How to answer, not what is asked: "Select all that apply.", "(Tick one)", "Please choose up to three."
_INSTRUCTION = re.compile(
    r"(?:^|(?<=[.?!]))\s*\(?(?:please )?(?:select|tick|check|choose|pick|mark) (?:all|any|one|only one|up to \w+|"
    r"as many as)(?: that apply| answers?| options?| you like| apply)?\s*\)?[.:]?(?=\s|$)",
    re.IGNORECASE,
)
_TRAILING_PARENTHESIS = re.compile(r"\s*\(([^()]*)\)\s*[.?!]?\s*$")
_INLINE_SCALE = re.compile(
    r",?\s*\b(?:on a scale (?:of|from)|from|between)\s+(\d+)\s+(?:to|and)\s+(\d+)\b\s*,?\s*", re.IGNORECASE
)
# The ends of a scale named in the wording: "where 1 is not at all and 7 is completely", "where 0 means never".
_SCALE_ANCHORS = re.compile(
    r",?\s*\bwhere\s+(\d+)\s+(?:is|means|=)\s+([^,?]+?)\s+and\s+(\d+)\s+(?:is|means|=)\s+([^,?]+?)\s*(?:,\s*|(?=\?))",
    re.IGNORECASE,
)
_ESCAPE_OPTION = re.compile(
    r"\b(don'?t|do not) (know|remember)\b|\bnot sure\b|\bnot applicable\b|\bn/a\b|\bno opinion\b|"
    r"\bI (did not|didn'?t|have not|haven'?t|never|was not|wasn'?t)\b|\bnone of (these|the above)\b|"
    r"\bprefer not to say\b",
    re.IGNORECASE,
)


def _looks_like_options(text: str) -> bool:
    return bool(_ANSWER_WORDS.search(text) or _SEPARATORS.search(text))


def option_labels(text: str) -> list[str]:
    """ "1-5, or not applicable" → ["1-5", "not applicable"]; "Very poor - Very good" → ["Very poor", "Very good"]."""
    labels = []
    # "n/a" is one answer, not two: hide its slash from the split.
    kept_whole = re.sub(r"\bn/a\b", lambda na: na.group(0).replace("/", "\0"), text, flags=re.IGNORECASE)
    for part in re.split(r"[/,;]|\s+[-–—]\s+", kept_whole):
        label = re.sub(r"^\s*(or|and)\s+", "", part.strip(), flags=re.IGNORECASE).strip(" .").replace("\0", "/")
        if label:
            labels.append(label)
    return labels


def split_question(question: str, options: Sequence[str] = ()) -> AskedQuestion:
    """The question's stem apart from its answer options; ``options`` are those given apart (a survey's choices)."""
    text = " ".join(question.split())
    stem = " ".join(_INSTRUCTION.sub(" ", text).split())
    stem = stem[:1].upper() + stem[1:]
    written: list[str] = []
    while (match := _TRAILING_PARENTHESIS.search(stem)) and _looks_like_options(match.group(1)):
        written[:0] = option_labels(match.group(1))
        stem = stem[: match.start()].rstrip()
    if "?" in stem:
        head, _, tail = stem.rpartition("?")
        tail = tail.strip()
        if tail and not tail.endswith("?") and not _QUESTION_START.match(tail) and _looks_like_options(tail):
            written[:0] = option_labels(tail)
            stem = head + "?"
    if scale := _INLINE_SCALE.search(stem):
        written.insert(0, f"{scale.group(1)}-{scale.group(2)}")
        stem = (stem[: scale.start()] + " " + stem[scale.end() :]).strip(" ,")
        stem = stem[:1].upper() + stem[1:]
    if anchors := _SCALE_ANCHORS.search(stem):
        low, low_label, high, high_label = anchors.groups()
        written.extend((f"{low} = {low_label}", f"{high} = {high_label}"))
        stem = (stem[: anchors.start()] + " " + stem[anchors.end() :]).strip(" ,")
        stem = stem[:1].upper() + stem[1:]
    return AskedQuestion(text, stem, (*written, *(" ".join(o.split()) for o in options)))


# --- balance of verbal rating scales ---------------------------------------------------------------------------------
_NEUTRAL_LABEL = re.compile(r"\b(neither|neutral|nor|average|fair|ok|okay|mixed|about the same)\b", re.IGNORECASE)
_NEGATIVE_LABEL = re.compile(
    r"^not\b|\bnot at all\b|\b(dissatisfied|unsatisfied|unhappy|poor|bad|terrible|awful|difficult|hard|unlikely|"
    r"disagree|unclear|unhelpful|useless|slow|worse|worst|inaccurate|unimportant|disappointed|hate|dislike)\b",
    re.IGNORECASE,
)
_POSITIVE_LABEL = re.compile(
    r"\b(satisfied|happy|delighted|pleased|good|great|excellent|outstanding|superb|fantastic|amazing|easy|likely|"
    r"agree|clear|helpful|useful|important|fast|better|best|accurate|love|like|perfect|wonderful)\b",
    re.IGNORECASE,
)
BALANCED_SCALES = {
    "satisfied": "Very dissatisfied, Dissatisfied, Neither satisfied nor dissatisfied, Satisfied, Very satisfied",
    "happy": "Very unhappy, Unhappy, Neither happy nor unhappy, Happy, Very happy",
    "easy": "Very difficult, Difficult, Neither easy nor difficult, Easy, Very easy",
    "likely": "Very unlikely, Unlikely, Neither likely nor unlikely, Likely, Very likely",
    "agree": "Strongly disagree, Disagree, Neither agree nor disagree, Agree, Strongly agree",
}
DEFAULT_BALANCED_SCALE = "Very poor, Poor, Fair, Good, Very good"


def polarity(label: str) -> int:
    """-1, 0 or +1: how an answer label judges (escape answers such as "not sure" judge nothing)."""
    text = re.sub(r"^\d+\s*=\s*", "", label)
    if _ESCAPE_OPTION.search(text) or _NEUTRAL_LABEL.search(text):
        return 0
    if _NEGATIVE_LABEL.search(text):
        return -1
    return 1 if _POSITIVE_LABEL.search(text) else 0


def unbalanced(options: Sequence[str]) -> bool:
    """Only favourable answers ("Good, Very good, Excellent"), or at least two more favourable than unfavourable.

    A unipolar scale from "Not at all …" to "Extremely …" counts as balanced: its low end is the absence.
    """
    signs = [polarity(option) for option in options]
    positive, negative = signs.count(1), signs.count(-1)
    if negative == 0:
        return positive >= 2
    unipolar = any(re.search(r"\bnot at all\b", option, re.IGNORECASE) for option in options)
    return not unipolar and positive - negative >= 2


def balanced_alternative(options: Sequence[str]) -> str:
    words = " ".join(options).lower()
    return next((scale for word, scale in BALANCED_SCALES.items() if word in words), DEFAULT_BALANCED_SCALE)
