"""Rules on how a question is worded: vague, jargon, double-barrelled, unbalanced-scale (leading words: _leading)."""

from __future__ import annotations

import re

from shoplens.voice._lint._options import AskedQuestion, balanced_alternative, unbalanced
from shoplens.voice._lint._patterns import TIMEFRAME, any_of
from shoplens.voice._lint._problem import Problem

# --- vague ------------------------------------------------------------------------------------------------------------
# "Which … do you buy most often?" ranks her own habits; it asks which comes first, not how often, so a comparison
# ("most / more / least / less often") is not a fuzzy frequency.
_FUZZY_FREQUENCY = any_of(
    r"\b(?<!most )(?<!more )(?<!least )(?<!less )often\b", r"\bregularly\b",
    r"\b(?<!most )(?<!more )(?<!least )(?<!less )frequently\b", r"\brecently\b", r"\blately\b", r"\boccasionally\b",
    r"\ba lot\b",
)  # fmt: skip
# "everything" bounded by a clause about her ("everything you were looking for", "everything you ordered") names a
# set she knows, so it is not vague.
_FUZZY_OBJECT = any_of(
    r"\bstuff\b", r"\bthings\b", r"\beverything\b(?! (?:that )?(?:you|u)\b)", r"\bin general\b", r"\bgenerally\b"
)  # fmt: skip
# Words that name nothing: a question made only of these does not say what it asks about ("How was it?").
_EMPTY_WORDS = frozenset({
    "a", "an", "the", "so", "and", "or", "what", "how", "was", "is", "are", "were", "it", "this", "that", "these",
    "those", "do", "does", "did", "you", "your", "think", "thoughts", "any", "good", "bad", "opinion", "opinions",
    "feel", "feeling", "about", "of", "on", "overall", "anything", "something", "comments", "comment", "feedback",
    "ideas", "idea", "say", "tell", "me", "rate", "please", "would", "like", "to", "be",
    # Fillers and catch-alls: "Any thoughts on, you know, the whole thing?"
    "know", "whole", "thing", "things", "stuff", "everything", "situation", "just", "really", "basically", "kind",
    "sort", "well", "mean", "all", "in", "general",
})  # fmt: skip
_CLOSING_QUESTION = re.compile(r"\banything else\b", re.IGNORECASE)  # the standard last, open question
# Answer options that say what the frequency word means ("Weekly / Monthly / Every few months / Never").
_DEFINED_FREQUENCY = any_of(
    r"\b(daily|weekly|fortnightly|monthly|quarterly|yearly|annually)\b",
    r"\b(a|an|each|per|every) (\w+ )?(days?|weeks?|fortnights?|months?|years?)\b",
)
# A verbal frequency scale offered as the answers ("Never / Rarely / Sometimes / Often / Always"): she places herself
# on it, so the word in the question is the scale's own.
_FREQUENCY_SCALE = any_of(r"^(never|rarely|seldom|sometimes|occasionally|often|usually|always|very often)$")
# An opinion asked about a topic, not about anything she did or saw ("How do you feel about sustainability?").
_OPINION_OF_A_TOPIC = re.compile(
    r"^\W*(?:and |so )?(?:how do you feel|what do you think|how do you think|what are your (?:thoughts|views|feelings)|"
    r"what is your (?:view|opinion|take)|what's your (?:view|opinion|take)|any (?:thoughts|views|comments)) "
    r"(?:about|of|on|regarding) (?!(?:your|yours|my|our|this|that|these|those|it)\b)"
    r"(?P<topic>(?:the |a |an )?[\w-]+?(?: [\w-]+?)?)"
    # A time that bounds nothing she did: "… of quality these days?", "… about prices at the moment?"
    r"(?: these days| nowadays| today| at the moment| right now| in general| at present| generally)?\s*[?.]?$",
    re.IGNORECASE,
)
# A yes/no verdict on an undefined standard ("Is the pricing ok?", "Was the whole experience good?"): "ok" or
# "good" by whose measure, and in what? A concrete state ("in good condition", "on time") is not a verdict.
_VAGUE_VERDICT = re.compile(
    r"^\W*(?:so |and )?(?:(?:would|do|did) you (?:say|think|feel)(?: that)? (?:the|our|your|ur|this|that|it)"
    r"(?: [\w'-]+){0,3} (?:is|are|was|were)|(?:is|are|was|were) (?:the|our|your|ur|this|that|it|everything|all)"
    r"(?: [\w'-]+){0,3}) "
    r"(?:ok|okay|o\.k\.|fine|alright|all right|good|decent|acceptable|nice|bad)\b(?! (?:condition|shape|order|time)\b)",
    re.IGNORECASE,
)
# A fragment with no verb: "What about the new range?", "And the prices?"
_FRAGMENT = re.compile(r"^\W*(?:and |so |but )?(?:what|how) about\b(?P<rest>.*)$", re.IGNORECASE)
_VERB_OR_PERSON = re.compile(
    r"\b(you|your|is|are|was|were|did|do|does|made|makes|make|could|would|should|can|will|has|have|had)\b",
    re.IGNORECASE,
)


# A count of people or things, not of times, answered by numbers ("How many people in your household drink tea
# regularly? 1 / 2 / 3 / 4 or more"): the frequency word says who counts, and the answer is a number she knows.
_HOW_MANY_OF = re.compile(r"\bhow many (?!times\b)(people|children|men|women|[\w-]+s)\b", re.IGNORECASE)
_NUMBER_OPTION = re.compile(
    r"^(none|no one|nobody|\d+|\d+\s*(?:-|–|to)\s*\d+|\d+\s*\+|\d+ or more|more than \d+)$", re.IGNORECASE
)


def _counted_in_numbers(asked: AskedQuestion) -> bool:
    numbers = sum(bool(_NUMBER_OPTION.match(option.strip())) for option in asked.options)
    return bool(_HOW_MANY_OF.search(asked.stem)) and numbers >= 3 and numbers == len(asked.options)


def vague(asked: AskedQuestion) -> Problem | None:
    stem = asked.stem
    fuzzy = None if _counted_in_numbers(asked) else _FUZZY_FREQUENCY.search(stem)
    defined = sum(bool(_DEFINED_FREQUENCY.search(option)) for option in asked.options) >= 2 or (
        sum(bool(_FREQUENCY_SCALE.match(option.strip())) for option in asked.options) >= 3
    )
    if fuzzy and not TIMEFRAME.search(stem) and not defined:
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
    if (topic := _OPINION_OF_A_TOPIC.search(stem)) or (
        (fragment := _FRAGMENT.search(stem)) and not _VERB_OR_PERSON.search(fragment.group("rest"))
    ):
        what = f"'{topic.group('topic')}' is a topic, not something she did or saw" if topic else "it has no verb"
        return Problem(
            "vague",
            f"{what}: it does not say what she should tell, so each customer answers a different question",
            'Ask about one concrete experience: "What, if anything, did you change in how you shop for this in the '
            'last month?"',
        )
    if verdict := _VAGUE_VERDICT.search(stem):
        return Problem(
            "vague",
            f"'{verdict.group(0).strip()}' asks for a verdict without saying by what measure, so a yes means different "
            "things to different customers",
            'Ask about one concrete thing on a scale: "How did the price compare with what you expected to pay? '
            '(Much lower / Lower / About the same / Higher / Much higher)"',
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
    # One situation made of two clauses, "when a delivery arrives and nobody is home": the "and" joins the
    # conditions of one moment (a new subject follows it), not two things she is asked about.
    r"\b(when|whenever|if|while|once|after|before)\b[^?,]*\band (nobody|no one|someone|somebody|nothing|there|it|"
    r"they|you|u|she|he|I|we)\b",
)  # fmt: skip
_JOINED = re.compile(r"\b(\w+),?\s+(and|and/or|as well as)\s+(\w+)", re.IGNORECASE)
_WHERE = re.compile(
    r"^\W*where (do|did|would) (you|u)\b(?: \w+)? (buy|get|shop for|order|find|look for)\b", re.IGNORECASE
)
_CLAUSE_START = re.compile(
    r"^(was|were|is|are|did|do|does|would|will|can|could|should|have|has|had|how|why|what|which|when|who|you|u|it|"
    r"they|she|he|I|we|if|then)$",
    re.IGNORECASE,
)
_FOLLOW_UP = re.compile(r"^\s*(if so|if not|why|why not|please explain|which one)\b", re.IGNORECASE)


def _one_place(stem: str, joined: re.Match[str]) -> bool:
    """Where she buys things asks for a place: things joined name what she goes there for, one trip ("Where do you
    usually buy balloons and party decorations?"), and she names the place either way; a second clause ("… and
    were you happy?") is still a second question."""
    return bool(_WHERE.match(stem)) and not _CLAUSE_START.match(joined.group(3))


def double_barrelled(asked: AskedQuestion) -> Problem | None:
    parts = [p for p in asked.stem.split("?") if p.strip()]
    if len(parts) > 1 and not all(_FOLLOW_UP.match(p) for p in parts[1:]):
        return Problem(
            "double-barrelled",
            "two questions in one: an answer cannot say which one it answers",
            f'Ask them one at a time: "{parts[0].strip()}?", then the next one on its own.',
        )
    if (joined := _JOINED.search(_FIXED_PAIRS.sub(" ", asked.stem))) and not _one_place(asked.stem, joined):
        left, conjunction, right = joined.groups()
        return Problem(
            "double-barrelled",
            f"asks about two things at once ('{left} {conjunction} {right}'); she may feel differently about each",
            f"Ask one question per thing: one about '{left}', another about what follows '{conjunction}'.",
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
