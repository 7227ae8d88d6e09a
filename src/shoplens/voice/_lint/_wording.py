"""Rules on how a question is worded: vague, jargon, double-barrelled, leading, assumption, unbalanced-scale."""

from __future__ import annotations

import re

from shoplens.voice._lint._options import AskedQuestion, balanced_alternative, unbalanced
from shoplens.voice._lint._patterns import HEDGED, TIMEFRAME, any_of
from shoplens.voice._lint._problem import Problem

# --- vague ------------------------------------------------------------------------------------------------------------
_FUZZY_FREQUENCY = any_of(
    r"\boften\b", r"\bregularly\b", r"\bfrequently\b", r"\brecently\b", r"\blately\b", r"\boccasionally\b",
    r"\ba lot\b",
)  # fmt: skip
_FUZZY_OBJECT = any_of(r"\bstuff\b", r"\bthings\b", r"\beverything\b", r"\bin general\b", r"\bgenerally\b")
# Words that name nothing: a question made only of these does not say what it asks about ("How was it?").
_EMPTY_WORDS = frozenset({
    "a", "an", "the", "so", "and", "or", "what", "how", "was", "is", "are", "were", "it", "this", "that", "these",
    "those", "do", "does", "did", "you", "your", "think", "thoughts", "any", "good", "bad", "opinion", "opinions",
    "feel", "feeling", "about", "of", "on", "overall", "anything", "something", "comments", "comment", "feedback",
    "ideas", "idea", "say", "tell", "me", "rate", "please", "would", "like", "to", "be",
})  # fmt: skip
_CLOSING_QUESTION = re.compile(r"\banything else\b", re.IGNORECASE)  # the standard last, open question


def vague(asked: AskedQuestion) -> Problem | None:
    stem = asked.stem
    fuzzy = _FUZZY_FREQUENCY.search(stem)
    if fuzzy and not TIMEFRAME.search(stem):
        return Problem(
            "vague",
            f"'{fuzzy.group(0)}' means different things to different people, so answers cannot be compared",
            'Ask for a count over a short, stated period: "In the last 30 days, how many times did you order '
            'clothes online?"',
        )
    words = re.findall(r"[a-z']+", stem.lower())
    if not _CLOSING_QUESTION.search(stem) and all(w in _EMPTY_WORDS for w in words):
        return Problem(
            "vague",
            "the question does not name what it asks about, so each customer answers a different question",
            'Name one concrete experience: "How easy was it to find your size on the product page?"',
        )
    if broad := _FUZZY_OBJECT.search(stem):
        return Problem(
            "vague",
            f"'{broad.group(0)}' does not say what the question is about, so each customer answers a different one",
            'Name one concrete experience: "How easy was it to find your size on the product page?"',
        )
    return None


# --- jargon -----------------------------------------------------------------------------------------------------------
_ACRONYMS = re.compile(r"\b(UX|UI|SKUs?|PDP|CTA|SLA|KPIs?|AOV|CLV|LTV|SEO|API|CDN|3PL|D2C|B2C|PWA|UGC)\b")
_TRADE_WORDS = any_of(
    r"\bfunnel\b", r"\bomni-?channel\b", r"\bfulfil(l)?ment\b", r"\blast[- ]mile\b", r"\bviewport\b",
    r"\bresponsive (layout|design)\b", r"\bconversion( rate)?\b", r"\b(user|customer) journey\b", r"\btouchpoints?\b",
    r"\bvalue proposition\b", r"\bup-?sell\w*\b", r"\bcross-?sell\w*\b", r"\bretargeting\b", r"\battribution\b",
    r"\bchurn\b", r"\blogistics\b", r"\blanding page\b", r"\bbounce rate\b", r"\brender(ed|ing)?\b", r"\bheadless\b",
    r"\blatency\b", r"\bdrop-?ship\w*\b", r"\bhandoff\b",
)  # fmt: skip


def jargon(asked: AskedQuestion) -> Problem | None:
    if found := _ACRONYMS.search(asked.stem) or _TRADE_WORDS.search(asked.stem):
        return Problem(
            "jargon",
            f"'{found.group(0)}' is shop-keeper's language; customers guess what it means or give up",
            'Use her words for what she saw or did: "How easy was it to pay?", "How long did delivery take?"',
        )
    return None


# --- double-barrelled -------------------------------------------------------------------------------------------------
_FIXED_PAIRS = any_of(
    r"\bbetween \w+( \w+)? and\b", r"\bterms and conditions\b", r"\bpros and cons\b", r"\bclick and collect\b",
    r"\bblack and white\b", r"\bmore and more\b", r"\band (why|how|if|what|where|when)\b", r"\bfriends and family\b",
    r"\bup and running\b", r"\bagree and disagree\b",
)  # fmt: skip
_JOINED = re.compile(r"\b(\w+),?\s+(and|and/or|as well as)\s+(\w+)", re.IGNORECASE)
_FOLLOW_UP = re.compile(r"^\s*(if so|if not|why|why not|please explain|which one)\b", re.IGNORECASE)


def double_barrelled(asked: AskedQuestion) -> Problem | None:
    parts = [p for p in asked.stem.split("?") if p.strip()]
    if len(parts) > 1 and not all(_FOLLOW_UP.match(p) for p in parts[1:]):
        return Problem(
            "double-barrelled",
            "two questions in one: an answer cannot say which one it answers",
            f'Ask them one at a time: "{parts[0].strip()}?", then the next one on its own.',
        )
    if joined := _JOINED.search(_FIXED_PAIRS.sub(" ", asked.stem)):
        left, conjunction, right = joined.groups()
        return Problem(
            "double-barrelled",
            f"asks about two things at once ('{left} {conjunction} {right}'); she may feel differently about each",
            f"Ask one question per thing: one about '{left}', another about what follows '{conjunction}'.",
        )
    return None


# --- leading ----------------------------------------------------------------------------------------------------------
_NEGATIVE_INTERROGATIVE = re.compile(
    r"^\W*(?:[\w' ]+,\s*)?(don't|doesn't|didn't|wouldn't|isn't|aren't|won't|can't|shouldn't|haven't|wasn't)\s+"
    r"(you|it|this|that|they|we|our|a|an|the|buying|shopping)\b",
    re.IGNORECASE,
)
_PUSHING = any_of(
    r"\b(do|would|don't) you (not )?agree\b", r"\bagree that\b", r"\bsurely\b", r"\bobviously\b", r"\bof course\b",
    r"\beveryone (knows|agrees|loves|says)\b",
    r"\bmost (customers|people|shoppers|buyers) (love|like|agree|prefer|say|enjoy|think)\b",
    r"\bhow (great|amazing|wonderful|fantastic|awesome|excellent|brilliant|much fun) (was|were|is|are)\b",
    r"\bhow much (did|do) you (enjoy|love|like|adore)\b",
    r"\b(is|are|have|has|offer) (the )?(fastest|best|cheapest|finest|greatest|lowest)\b",
    r"\bwent out of (their|our|its) way\b", r"\b(we|our team|i) worked (so )?hard\b",
)  # fmt: skip
_LOADED = re.compile(
    r"\b(?:our|your|the)\s+(?:\w+\s+){0,1}(amazing|awesome|fantastic|excellent|outstanding|superb|wonderful|"
    r"brilliant|friendly|award-winning|world-class|innovative|revolutionary|unbeatable|incredible|stunning|beautiful|"
    r"famous|generous|lightning-fast|hassle-free)\b",
    re.IGNORECASE,
)


def leading(asked: AskedQuestion) -> Problem | None:
    stem = asked.stem
    if pushed := _NEGATIVE_INTERROGATIVE.search(stem) or _PUSHING.search(stem):
        return Problem(
            "leading",
            f"'{pushed.group(0).strip()}' suggests the answer we hope for; polite customers go along with it",
            'Ask neutrally, with both directions open: "How fast or slow was the delivery?"',
        )
    if loaded := _LOADED.search(stem):
        word = loaded.group(1)
        rewrite = " ".join(re.sub(rf"\b{re.escape(word)}\s+", "", asked.text, count=1).split())
        return Problem("leading", f"'{word}' praises what the customer is asked to judge", f'"{rewrite}"')
    return None


# --- assumption -------------------------------------------------------------------------------------------------------
_PRESUMING = any_of(
    r"\bwhy do you (prefer|like|love|choose|enjoy|trust|recommend)\b",
    r"\bwhat do you (like|love|enjoy|appreciate) (most|best)\b",
    r"\byour (favourite|favorite|best) (thing|part|feature|aspect) (about|of) (our|the|us)\b",
    r"\bhow much (time|money|effort) (did|does|has) (our|we|the|this)\b",
    r"\bwhen did you last (recommend|tell|share)\b",
    r"\bhow (has|have|did) (our|the) \w+( \w+)? (changed|improved|helped|made)\b",
    r"\bwhich (of our )?[\w ]*(features?|channels?|benefits?|accounts?)\b.*\bdo you (like|love|enjoy|follow|use)\b",
)


def assumption(asked: AskedQuestion) -> Problem | None:
    if (presumed := _PRESUMING.search(asked.stem)) and not HEDGED.search(asked.stem):
        return Problem(
            "assumption",
            f"'{presumed.group(0).strip()}' takes for granted something the customer may not think or do",
            'Leave room for "nothing": "What, if anything, do you like about the app?"',
        )
    return None


# --- unbalanced answer options ----------------------------------------------------------------------------------------
def unbalanced_scale(asked: AskedQuestion) -> Problem | None:
    if unbalanced(asked.options):
        return Problem(
            "unbalanced-scale",
            f"the answers ({', '.join(asked.options)}) offer more favourable than unfavourable choices, so the "
            "results lean positive",
            f'Offer as many answers on each side: "{asked.stem} ({balanced_alternative(asked.options)})"',
        )
    return None
