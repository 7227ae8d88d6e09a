"""Rules on whether she can answer at all: recall, unknowable, hypothetical, dont-know.

A customer knows what she did and saw recently. She cannot recall details from long ago, cannot know our costs,
our warehouse or other people's motives, can only guess what she would pay or do in an imagined future, and
cannot rate a service she never used.
"""

from __future__ import annotations

import re

from shoplens.voice._lint._options import AskedQuestion
from shoplens.voice._lint._patterns import HEDGED, TIMEFRAME, any_of
from shoplens.voice._lint._problem import Problem

# --- recall -----------------------------------------------------------------------------------------------------------
_LONG_AGO = any_of(
    r"\b(in|during|since) (19|20)\d\d\b",
    r"\b(last|past|previous) (year|years|decade)\b",
    r"\b(in|during|over|for) the (last|past|previous) (\w+ )?(years?|decade)\b",
    r"\b(\d+|two|three|four|five|several|many) years ago\b",
    r"\bthe year before\b",
    r"\b(in|during|over|for|across|within|throughout) the (past|last|previous) (6|9|12|18|24|36|six|nine|twelve|"
    r"eighteen) months\b",
    r"\bever (bought|ordered|purchased|visited|used|looked|saw|viewed|searched|read|opened|clicked)\b",
    r"\bvery first\b",
    r"\bfirst \w+ you ever\b",
    # The start of her history with us; not her first try at a thing the question names ("… the first time you
    # tried it").
    r"\bthe first time you\b(?! \w+(?: \w+)? (?:it|them|this|that)\b)",
    r"\bsince (your|you) (first|started|joined|signed up|opened)\b",
    r"\bexactly how (much|many|long)\b",
    r"\b(what|on what|which) (exact |precise )?date\b",
    r"\b(the|what|which|its) (exact|precise) (date|day|time|year|month|amount|number|price|figure|sum)\b",
    r"\bwhen did you first\b",
)


# A count in units too fine to remember ("how many minutes", "how many grams"): answerable only when it is
# anchored to a recent moment, hedged ("about how many"), or offered in bands as answer options.
_FINE_COUNT = re.compile(
    r"(?<!about )(?<!roughly )(?<!approximately )(?<!around )\bhow many (seconds|minutes|grams|milligrams|"
    r"kilograms|kilos|calories|kcal|millilitres|milliliters|ml|steps|clicks)\b",
    re.IGNORECASE,
)
# A daily average over a month or more ("each day last month"), or a weekly one over a year.
_AVERAGE_OVER_PERIOD = any_of(
    r"\b(each|every|per|a) day\b[^?]*\b(last|past|previous) (\w+ )?(months?|years?)\b",
    r"\b(last|past|previous) (\w+ )?(months?|years?)\b[^?]*\b(each|every|per|a) day\b",
    r"\b(each|every|per|a) week\b[^?]*\b(last|past|previous) (\w+ )?years?\b",
)


# A frame of months is too long to add up minutes or grams in: "How many minutes … over the past 3 months".
_MONTHS_LONG = any_of(r"\b(in|during|over|within) the (last|past) (\d+|few|two|three|four|six) months?\b")


def _too_fine(asked: AskedQuestion) -> re.Match[str] | None:
    if found := _AVERAGE_OVER_PERIOD.search(asked.stem):
        return found
    if asked.options or (TIMEFRAME.search(asked.stem) and not _MONTHS_LONG.search(asked.stem)):
        return None
    return _FINE_COUNT.search(asked.stem)


# A rough count over a long frame, answered in bands ("In the last 12 months, roughly how many times …? None, 1-2,
# 3-5, 6 or more"): she is asked to place herself in a band, not to remember an exact figure.
_LONG_FRAME = any_of(
    r"\b(last|past|previous) (year|years)\b",
    r"\b(in|during|over|for) the (last|past|previous) (\w+ )?years?\b",
    r"\b(in|during|over|for|across|within|throughout) the (past|last|previous) (6|9|12|18|24|six|nine|twelve|"
    r"eighteen) months\b",
)
_ROUGH_COUNT = any_of(
    r"\b(roughly|about|approximately|around|more or less|broadly) how (many|often|much)\b",
    r"\bhow (many|often)\b[^?]*\b(roughly|approximately|more or less)\b",
)


# Answer options that are bands of a count ("None", "1-2", "3-5", "6+", "10 or more"): choosing one needs no exact
# figure, hedged or not.
_COUNT_BAND = re.compile(
    r"^(none|never|zero|0|\d+\s*(?:-|–|to)\s*\d+|\d+\s*\+|\d+ or more|more than \d+)$", re.IGNORECASE
)
_MORE_THAN_A_YEAR = any_of(r"\byears\b", r"\b(18|24|eighteen) months\b")
_A_COUNT = any_of(r"\bhow (many|often)\b", r"\bhow many times\b")


def _rough_count_in_bands(asked: AskedQuestion, found: re.Match[str]) -> bool:
    if not (asked.options and _LONG_FRAME.fullmatch(found.group(0))):
        return False
    if _ROUGH_COUNT.search(asked.stem):
        return True
    if _MORE_THAN_A_YEAR.search(found.group(0)):
        return False  # unhedged, bands hold over a year at most
    bands = sum(bool(_COUNT_BAND.match(option.strip())) for option in asked.options)
    return bands >= 3 and bool(_A_COUNT.search(asked.stem))


def recall(asked: AskedQuestion) -> Problem | None:
    found = _LONG_AGO.search(asked.stem)
    if found and _rough_count_in_bands(asked, found):
        found = None
    if found := found or _too_fine(asked):
        return Problem(
            "recall",
            f"'{found.group(0)}' asks for details she cannot recall reliably, so she guesses",
            'Ask about a recent, memorable moment: "In the last 30 days, how many times did you order from us?"',
        )
    return None


# --- unknowable -------------------------------------------------------------------------------------------------------
# People and firms whose reasons she can only guess at.
_AGENT = (
    r"(couriers?|drivers?|postman|postwoman|postie|carriers?|sellers?|vendors?|staff|employees?|agents?|assistants?|"
    r"team|shops?|stores?|company|companies|brands?|manufacturers?|makers?|retailers?|suppliers?|warehouse|"
    r"neighbours?|neighbors?|customers|shoppers|buyers|friends?|family|partner|parents|colleagues?|kids|children|"
    r"husband|wife|relatives?|flatmates?|housemates?|group|club|members|people)"
)
_A_FIRMS_MONEY = r"(?<!your )(?<!ur )(?<!my )\b(profits?|margins?|mark-?ups?|revenue|turnover|takings|earnings)\b"
_A_GUESS = r"\b(do|would) you (think|reckon|guess|suppose|imagine|estimate)\b"
_NOT_HERS_TO_KNOW = any_of(
    r"\bhow (many|much)\b[^?]*\b(does|do|did|is|are) (our|we|the store|the company)\b(?![^?]*\byou\b)",
    r"\bcosts? (us|the store|the company)\b",
    r"\b(does|do) it take (us|our \w+|the (store|warehouse|team|company|staff))\b",
    r"\bwhat (does|do|did) (our|we) [\w ]*\bdo\b",
    r"\bour (costs?|margins?|profits?|warehouse|suppliers?|staff numbers|sales figures|revenue|turnover)\b",
    r"\bwhat (percentage|proportion|share|fraction|percent) of (our |all )?(customers|shoppers|people|buyers|"
    r"visitors|orders|items)\b",
    # A rate of our own operations, put to her as a guess: "What share of refund requests do you think we accept?",
    # "What is our on-time rate?"
    r"\b(what|which) (percentage|proportion|share|fraction|percent|rate|ratio)\b[^?]*\b(we|the (company|shop|store|"
    r"team|warehouse))\b",
    r"\bour ([\w-]+ ){1,2}(rate|ratio|percentage)\b",
    r"\bhow (often|many times|many) (do|does) you (think|reckon|guess|suppose) (we|our)\b",
    r"\bwhy do(es)? (you think )?(other|most|some|many|all the) (customers|people|shoppers|buyers)\b",
    # Others' preferences and habits, by whatever name: "Why do other anglers near you prefer …", "Why do most
    # cyclists in your club choose …".
    r"\bwhy (do|does|did) (you think )?(the )?(other|most|some|many|all the|lots of) ([\w-]+ )?[\w-]+s\b[^?]*"
    r"\b(prefer|choose|like|love|want|buy|use|pick|go for|avoid|stick with|switch)\b",
    r"\bwhy do you think (our|the|other) \w+ (charge|sell|do|are|have|offer|make|price)\b",
    r"\b(other|most) (customers|shoppers|buyers) (think|want|feel|like|prefer|buy)\b",
    # What went on inside our systems: "Which server error caused …", "What bug in the code …".
    r"^\W*(which|what|why)\b[^?]*\b(servers?|databases?|back-?end|source code|code|algorithms?|firmware|bugs?|"
    r"hosting|caching|cache|system errors?|error codes?|API)\b",
    # Other people's minds: "What were the other customers thinking …", "what they were feeling".
    r"\b(the |those |these )?(other|most|some|many|those) (customers|people|shoppers|buyers|reviewers|readers|members|"
    r"users|guests|visitors)( \w+)? (think|thinks|thinking|thought|want|wanted|wanting|feel|felt|feeling|mean|meant|"
    r"meaning|intend|intended|intending|expect|expected|expecting|hope|hoped|hoping|plan|planned|planning)\b",
    r"\bwhat (was|were|is|are) (they|he|she|the \w+) (thinking|feeling|planning|intending|hoping)\b",
    # Asked for someone else's opinion: "What do the other parents in your group think of …", "How does your
    # partner feel about …" (a thing's feel, "How did the fabric feel?", is hers to say).
    rf"^\W*(what|how) (do|does|did|would) (?!(you|u|ya|I|we)\b)(the |your |their |other |most |some |many )*"
    rf"(\w+ )?{_AGENT}\b[^?]*\b(think|thinks|believe|reckon|feel about|feel of)\b",
    # The same of any group named by a plural: "What do the other golfers at your club think of …", "How do your
    # cousins feel about …".
    r"^\W*(what|how) (do|did|would) (the )?(other|most|some|many|all|your|their|those) ([\w-]+ )?[\w-]+s\b[^?]*"
    r"\b(think|believe|reckon|feel about|feel of|make of|say about)\b",
    # A guess at our own operations: "What percentage of our vitamin orders do you reckon get returned?"
    r"\b(what|which) (percentage|proportion|share|fraction|percent|number) of (our|the shop's|the store's) "
    r"([\w-]+ ){0,2}[\w-]+s\b",
    r"\b(how many|how much|how often|what percentage|what proportion|what share)\b[^?]*\b(our|we|us)\b[^?]*"
    r"\b(do|would) you (reckon|guess|imagine|suppose|think)\b(?![^?]*\b(you|your)\b)",
    # A business's money, by whatever name the business goes: "How much profit do you think Fernhill makes on each
    # blazer?", "What margin do you reckon the shop takes?" (not her own: "your earnings").
    rf"{_A_FIRMS_MONEY}[^?]*\b(make|makes|made|earn|earns|take|takes|turn|turns)\b",
    rf"{_A_FIRMS_MONEY}[^?]*{_A_GUESS}",
    rf"{_A_GUESS}[^?]*{_A_FIRMS_MONEY}",
    # A rate over other people's orders or doings, guessed: "What percentage of X orders do you reckon get returned?"
    r"\b(what|which) (percentage|proportion|share|fraction|percent) of (?!(your|ur|the time)\b)[^?]*\b(do|would) you "
    r"(think|reckon|guess|suppose|imagine|estimate)\b(?![^?]*\b(you|your|u|ur)\b)",
    # Why a person she knows made their choice: "Why do you think your neighbours chose …".
    rf"\bwhy (do|would|did) you (think|suppose|reckon|imagine|guess|believe) (that )?(your|their|the|those|these) "
    rf"(\w+ )?{_AGENT}\b",
    # A guess at why a third party did something: "Why do you think the author decided …".
    r"\bwhy (do|would|did) you (think|suppose|reckon|imagine|guess|believe) (that )?(?!(you|u|your|ur|I)\b)[^?]*"
    r"\b(decided|decide|decides|chose|choose|chooses|picked|priced|released|launched|stopped|started|changed|made|"
    r"wanted|charged|charge|charges|sells|sold|offered|offers)\b",
    # Someone else's reasons: "Why did the courier leave …", "Why do shops charge …", "Why would our team …".
    r"^\W*why (did|does|do|would|didn't|doesn't|don't|wouldn't) (they|he|she|we|people|others|someone|somebody|"
    r"anyone|everyone)\b",
    rf"^\W*why (did|does|do|would|didn't|doesn't|don't|wouldn't|was|were|is|are) (the |our |your |a |an |this |that |"
    rf"other |most |some )?(\w+ )?{_AGENT}\b",
)


def unknowable(asked: AskedQuestion) -> Problem | None:
    if found := _NOT_HERS_TO_KNOW.search(asked.stem):
        return Problem(
            "unknowable",
            f"'{found.group(0).strip()}' asks what only we (or other people) know; she can only guess",
            'Ask what she saw herself: "How many days did your order take to arrive?"',
        )
    return None


# --- hypothetical -----------------------------------------------------------------------------------------------------
_IMAGINED = any_of(
    r"\bhow much would you (be willing to )?(pay|spend)\b",
    r"\bwould you (be willing to |still )?pay\b",
    r"\bwhat would you pay\b",
    r"\bat what price\b",
    r"\bwould you (still |ever )?(buy|shop|order|purchase|use|subscribe|switch|try|sign up|join)\b.*\bif\b",
    r"\bif (we|you|the price|prices)\b.*\bwould you\b",
    r"\bif we (opened|launched|offered|started|added|introduced|made|sold|raised|lowered|charged|built|had|matched)\b",
    r"\bhow likely would you be to\b",
    r"\bwould you (use|try|buy) (a|an) (new )?(feature|service|app|option|product)\b",
    r"\bwill you (buy|order|place|shop|spend|visit|purchase)\b[^?]*\bnext (year|month|few months|season)\b",
)


# What she would have done, had her own recent purchase gone otherwise ("If you hadn't found it with us, what would
# you have done instead?"): the alternative she had at the time, which she can say.
_HER_ALTERNATIVE = any_of(
    r"\bif you (hadn't|had not|couldn't have|could not have|had been unable to|weren't able to|had never)\b[^?]*"
    r"\b(what|where|how) would you have\b",
)


def hypothetical(asked: AskedQuestion) -> Problem | None:
    if _IMAGINED.search(asked.stem) and not _HER_ALTERNATIVE.search(asked.stem):
        return Problem(
            "hypothetical",
            "she cannot know what she would pay or do in an imagined situation; stated intentions overstate "
            "real behaviour",
            'Ask about what she did: "The last time you needed this, where did you buy it and what did you pay?"',
        )
    return None


# --- don't know / not applicable --------------------------------------------------------------------------------------
_RATING = any_of(
    r"\bhow (satisfied|happy|helpful|useful|easy)\b", r"\bhow (would|do) you rate\b", r"^(please )?rate\b",
    r"\bon a scale\b",
)  # fmt: skip
_OPTIONAL_SERVICE = any_of(
    r"\blive chat\b", r"\breturns? (process|policy)\b", r"\brefunds?\b", r"\bloyalty (programme|program|scheme)\b",
    r"\bmobile app\b", r"\bgift[- ]?wrap\w*\b", r"\bcustomer service\b", r"\bsupport team\b", r"\bnewsletter\b",
    r"\bsize (guide|chart)\b", r"\bclick (and|&) collect\b", r"\bexchanges?\b",
)  # fmt: skip
_ESCAPE_IN_WORDING = any_of(r"\bdon'?t know\b", r"\bnot applicable\b", r"\bn/a\b", r"\bhave used\b")
# Wording addressed to those who did use it ("the help you received", "when you contacted us"): the survey was
# sent to them, so every respondent can answer.
_ADDRESSED_TO_USERS = any_of(
    r"\byou (received|got|were given|had|used|spoke to|spoke with|talked to|chatted with|dealt with)\b",
    r"\b(when|after) you (contacted|called|chatted|spoke|wrote|returned|exchanged|used|joined)\b",
    r"\byour (recent |last |latest )?(contact|call|chat|conversation|request) (with|to)\b",
    # The service named as hers, "the speed of your refund", "your exchange": she had it.
    r"\byour (recent |last |latest |most recent )?(returns?|refunds?|exchanges?)\b(?! (process|policy)\b)",
    # Done to her ("how quickly our support team replied to you") or part of what she received ("the gift wrapping
    # on your order"): she had it, so she can rate it.
    r"\b(replied|responded|answered|helped|wrote|spoke|talked|got back|called|emailed|messaged|served|contacted|gave|"
    r"sent|told|showed|offered) (back )?(to )?(you|u)\b",
    r"\b(on|of|in|with|for) (your|ur) (recent |last |latest |most recent )?(orders?|parcels?|packages?|delivery|"
    r"purchases?|gifts?|items?)\b",
)


def dont_know(asked: AskedQuestion) -> Problem | None:
    stem = asked.stem
    service = _OPTIONAL_SERVICE.search(stem)
    if not service or not _RATING.search(stem) or asked.offers_escape:
        return None
    if HEDGED.search(stem) or _ESCAPE_IN_WORDING.search(stem) or _ADDRESSED_TO_USERS.search(stem):
        return None
    options = ", ".join(asked.options) if asked.options else "…"
    return Problem(
        "dont-know",
        f"not every customer has used '{service.group(0)}'; without a way out she guesses or drops the survey",
        f'"{stem} ({options}, or: I have not used it)"',
    )
