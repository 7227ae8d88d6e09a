"""Rules on wording that pushes an answer: leading, assumption.

A question leads when it tells her which answer we hope for: a negative question ("Don't you think …"), praise of
what she is asked to judge ("our friendly team"), a flattering premise ("Since you clearly value quality, …") or a
feeling taken for granted ("How delighted were you …"). An agreement scale asked both ways ("To what extent do you
agree …", with as many disagree as agree answers) does not lead; "Do you agree that …" on its own does.
"""

from __future__ import annotations

import re

from shoplens.voice._lint._options import AskedQuestion, unbalanced
from shoplens.voice._lint._patterns import HEDGED, any_of
from shoplens.voice._lint._problem import Problem

# --- leading ----------------------------------------------------------------------------------------------------------
_NEGATIVE_INTERROGATIVE = re.compile(
    r"^\W*(?:[\w' ]+,\s*)?(don't|doesn't|didn't|wouldn't|isn't|aren't|won't|can't|shouldn't|haven't|wasn't)\s+"
    r"(you|it|this|that|they|we|our|a|an|the|buying|shopping)\b",
    re.IGNORECASE,
)
_PUSHING = any_of(
    r"\b(do|would|don't) you (not )?agree\b", r"\bagree that\b", r"\bsurely\b", r"\bobviously\b", r"\bof course\b",
    r"\beveryone (knows|agrees|loves|says)\b",
    # Social proof: what others are said to think, before she is asked ("Most of our customers say …").
    r"\b(most|many|all|lots|thousands|hundreds|nine out of ten|\d+%?) (of )?(our |the )?(customers|people|shoppers|"
    r"buyers|clients|users|members|readers|fans|owners|reviewers)\b (love|loves|like|agree|prefer|say|said|tell us|"
    r"told us|enjoy|think|rate|rated|find|found|choose|chose|recommend|call)\b",
    # The same, stated before the question with any plural and a number word: "Thousands of anglers already rely on
    # us. Would you …?", "Over 5,000 families trust …".
    r"^\W*(most|many|all|lots|thousands|hundreds|millions|tens of thousands|over [\d,]+|more than [\d,]+|[\d,]+\+?|"
    r"nine out of ten)( of)? (our |the |other )?([\w-]+ )?[\w-]+s (already |now |all |happily |each \w+ )?(trust|"
    r"love|use|choose|prefer|recommend|rely on|swear by|rate|buy from|shop with|shop at)\b[^?]*[.!]",
    r"\bhow (great|amazing|wonderful|fantastic|awesome|excellent|brilliant|much fun) (was|were|is|are)\b",
    r"\bhow much (did|do) you (enjoy|love|like|adore)\b",
    r"\b(is|are|have|has|offer) (the )?(fastest|best|cheapest|finest|greatest|lowest)\b",
    r"\bwent out of (their|our|its) way\b", r"\b(we|our team|i) worked (so )?hard\b",
)  # fmt: skip
# A feeling she is taken to have: only its strength is asked ("How delighted were you …").
_PRESUMED_DELIGHT = any_of(
    r"\bhow (very |truly |really |absolutely )?(delighted|thrilled|amazed|excited|impressed|overjoyed|ecstatic|"
    r"wowed|enchanted|blown away|in love|grateful|pleased)\b(?! or\b)",
    r"\bwhat (delighted|impressed|amazed|thrilled|wowed|excited) you\b",
    r"\bhow much (better|easier|faster|nicer|happier|more enjoyable|more convenient)\b(?! or\b)",
)
# A premise that flatters her or us before the question is asked ("Given how gentle …", "As someone who loves …").
_FLATTERING_PREMISE = any_of(
    r"^\W*(given|considering|knowing|seeing|remembering) how\b",
    r"^\W*(since|as|because|now that) you (clearly|obviously|really|certainly|surely)\b",
    r"^\W*(since|as|because|now that) you (love|value|enjoy|appreciate|care about|adore|trust)\b",
    r"\bas (someone|somebody|a person|a shopper|a customer) who (loves|values|enjoys|appreciates|cares|adores|"
    r"trusts|knows)\b",
    r"\bas (a|an|our) (loyal|valued|happy|satisfied|long-time|longtime|devoted|smart|savvy|discerning|keen|true|"
    r"big|huge) (customer|shopper|member|fan|buyer|client)\b",
    r"^\W*(given|considering|with) (our|the|such) (\w+ )?(great|low|amazing|excellent|generous|unbeatable|superior|"
    r"premium|high-quality|top-quality)\b",
    r"\byou clearly\b",
)
# A claim made before the question is asked ("Our hoses are the toughest on the market - how …?"): a statement
# about us, then the question, so she answers in the light of the boast.
_CLAIM_THEN_QUESTION = re.compile(
    r"^\W*(?P<premise>(?:our|we|we're|we've|this|these|the)\b[^?]*?)(?:[.!:;]|\s[-–—])\s+"
    r"(?:how|what|which|why|did|do|does|is|are|was|were|would|will|can|could|please|tell)\b",
    re.IGNORECASE,
)
_BOAST = re.compile(
    r"\b(?:the|our) (?!latest\b|honest\b|interest\b)\w+est\b|\b(?:the|our) most \w+\b|\bnumber one\b|\b#1\b|"
    r"\bunbeatable\b|\baward-winning\b|\bworld-class\b|\blightning[- ]fast\b|\bbest\b|\bleading\b|\bloved by\b",
    re.IGNORECASE,
)


# The same boast as an opening clause: "As the UK's best-rated vitamin shop, how would you rate …?"
_BOASTING_CLAUSE = re.compile(
    r"^\W*(?:as|being|with|since we(?:'re| are)) (?P<premise>(?:the|a|an|one of the|our)\b[^,?]*),\s*"
    r"(?:how|what|which|why|did|do|does|is|are|was|were|would|will|can|could|please|tell)\b",
    re.IGNORECASE,
)


def _claim_before_question(stem: str) -> re.Match[str] | None:
    for claim in (_CLAIM_THEN_QUESTION.search(stem), _BOASTING_CLAUSE.search(stem)):
        if claim and _BOAST.search(claim.group("premise")):
            return claim
    return None


# An agreement scale asked both ways; its "agree" does not push.
_AGREEMENT_SCALE = any_of(r"\b(to what extent|how much|how strongly|how far) do you agree\b")
_AGREE = any_of(r"\b(do|would) you (not )?agree\b", r"\bagree that\b")


def _asked_both_ways(asked: AskedQuestion) -> bool:
    labels = " ".join(asked.options).lower()
    balanced_options = "disagree" in labels and not unbalanced(asked.options)
    return balanced_options or bool(_AGREEMENT_SCALE.search(asked.stem))


_LOADED = re.compile(
    r"\b(?:our|your|the)\s+(?:\w+\s+){0,1}(amazing|awesome|fantastic|excellent|outstanding|superb|wonderful|"
    r"brilliant|friendly|award-winning|world-class|innovative|revolutionary|unbeatable|incredible|stunning|beautiful|"
    r"famous|generous|lightning[- ]fast|hassle-free)\b",
    re.IGNORECASE,
)


def leading(asked: AskedQuestion) -> Problem | None:
    stem = asked.stem
    pushing_text = _AGREE.sub(" ", stem) if _asked_both_ways(asked) else stem
    if pushed := (
        _NEGATIVE_INTERROGATIVE.search(stem)
        or _PUSHING.search(pushing_text)
        or _PRESUMED_DELIGHT.search(stem)
        or _FLATTERING_PREMISE.search(stem)
        or _claim_before_question(stem)
    ):
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
