"""A linter for survey questions: the rules of asking customers well, each with a reason and a better wording.

A customer can only answer well a question that asks one clear thing, does not push an answer, is about her own
recent experience, and lets her say she does not know. The rules (``rule`` ids in the results):

==================  ===================================================================================
vague               fuzzy frequency or time words (often, recently…) without a period; questions about "everything"
double-barrelled    two things in one question ("price and delivery"), or two questions in one
leading             wording that suggests the answer ("Don't you agree…", "our excellent service")
assumption          takes for granted what may not be so ("What do you like most about…")
jargon              words of the trade customers do not use (UX, SKU, funnel, fulfilment…)
recall              asks to remember details from long ago (last year, "the first time you ever…")
hypothetical        asks what she would pay or do in an imagined future; people cannot know that
product-centric     about our product, company or founder rather than the customer's situation
sales-pitch         argues for our sales model or against a competitor instead of asking
dont-know           rates a service not everyone used, with no way to say "don't know / not applicable"
==================  ===================================================================================

The rules are patterns, not understanding: they are judged by precision and recall on a labelled set of good
and bad questions in the test suite (``tests/voice/data/survey_questions.csv``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    rule: str
    reason: str
    suggestion: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "reason": self.reason, "suggestion": self.suggestion}


@dataclass(frozen=True)
class LintResult:
    question: str
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"question": self.question, "ok": self.ok, "problems": [p.as_dict() for p in self.problems]}


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


# Phrases that take the presupposition out of a question ("What, if anything, …").
_HEDGED = _any(r"\bif anything\b", r"\bif any\b", r"\bif at all\b", r"\bif so\b", r"\bif you\b", r"\bif ever\b")
_TIMEFRAME = _any(
    r"\b(in|during|over|within) the (last|past) (\d+|few|two|three|four|seven|fourteen|thirty) "
    r"(days?|weeks?|months?)\b",
    r"\b(last|this) (week|month)\b",
    r"\btoday\b",
    r"\byesterday\b",
    r"\b(last|most recent|latest) (order|purchase|visit)\b",
)

# --- vague ------------------------------------------------------------------------------------------------------------
_FUZZY_FREQUENCY = _any(
    r"\boften\b", r"\bregularly\b", r"\bfrequently\b", r"\brecently\b", r"\boccasionally\b", r"\ba lot\b"
)
_FUZZY_OBJECT = _any(r"\bstuff\b", r"\bthings\b", r"\beverything\b", r"\bin general\b", r"\bgenerally\b")
_BROAD = _any(
    r"^(what do you think|how do you feel) (about|of) (our|the|this) "
    r"(store|shop|company|brand|website|site|business)\W*$",
    r"^do you like (our|the|this) (store|shop|company|brand|website|site)\W*$",
    r"\b(like|think of|feel about) (our|the) (products|store|shop|brand|website|site|company|range)\W*$",
)


def _vague(question: str) -> Problem | None:
    fuzzy = _FUZZY_FREQUENCY.search(question)
    if fuzzy and not _TIMEFRAME.search(question):
        return Problem(
            "vague",
            f"'{fuzzy.group(0)}' means different things to different people, so answers cannot be compared",
            "Ask for a count over a short, stated period: 'In the last 30 days, how many times did you …?'",
        )
    broad = _FUZZY_OBJECT.search(question) or _BROAD.search(question)
    if broad:
        return Problem(
            "vague",
            "the question does not say what it is about, so each customer answers a different question",
            "Name one concrete experience: 'How easy was it to find your size on the product page?'",
        )
    return None


# --- double-barrelled -------------------------------------------------------------------------------------------------
_FIXED_PAIRS = _any(
    r"\bbetween \w+( \w+)? and\b",
    r"\bterms and conditions\b",
    r"\bpros and cons\b",
    r"\bclick and collect\b",
    r"\bblack and white\b",
    r"\bmore and more\b",
    r"\band (why|how|if|what|where|when)\b",
)
_JOINED = re.compile(r"\b(\w+)\s+(and|and/or|as well as)\s+(\w+)", re.IGNORECASE)
_FOLLOW_UP = re.compile(r"^\s*(if so|if not|why|why not|please explain|which one)\b", re.IGNORECASE)


def _double_barrelled(question: str) -> Problem | None:
    parts = [p for p in question.split("?") if p.strip()]
    if len(parts) > 1 and not all(_FOLLOW_UP.match(p) for p in parts[1:]):
        return Problem(
            "double-barrelled",
            "two questions in one: an answer cannot say which one it answers",
            "Split it into separate questions, one per idea.",
        )
    cleaned = _FIXED_PAIRS.sub(" ", question)
    joined = _JOINED.search(cleaned)
    if joined:
        left, right = joined.group(1), joined.group(3)
        return Problem(
            "double-barrelled",
            f"asks about two things at once ('{left} {joined.group(2)} {right}'); a customer may feel differently "
            "about each",
            f"Ask one question per thing: one about '{left}', another about what follows '{joined.group(2)}'.",
        )
    return None


# --- leading ----------------------------------------------------------------------------------------------------------
_NEGATIVE_INTERROGATIVE = re.compile(
    r"^\W*(?:[\w' ]+,\s*)?(don't|doesn't|didn't|wouldn't|isn't|aren't|won't|can't|shouldn't|haven't)\s+"
    r"(you|it|this|that|they|we|our|a|an|the|buying|shopping)\b",
    re.IGNORECASE,
)
_PUSHING = _any(
    r"\b(do|would|don't) you (not )?agree\b",
    r"\bagree that\b",
    r"\bsurely\b",
    r"\bobviously\b",
    r"\bof course\b",
    r"\beveryone (knows|agrees|loves|says)\b",
    r"\bmost (customers|people|shoppers|buyers) (love|like|agree|prefer|say|enjoy)\b",
    r"\bhow (great|amazing|wonderful|fantastic|awesome|excellent|brilliant) (was|were|is|are)\b",
    r"\bhow much (did|do) you (enjoy|love|like|adore)\b",
    r"\b(is|are|have|has|offer) (the )?(fastest|best|cheapest|finest|greatest|lowest)\b",
)
_LOADED = re.compile(
    r"\bour\s+(?:\w+\s+){0,1}(amazing|awesome|fantastic|excellent|outstanding|superb|wonderful|brilliant|friendly|"
    r"award-winning|world-class|innovative|revolutionary|unbeatable|incredible|stunning|beautiful|famous)\b",
    re.IGNORECASE,
)
_WORKED_HARD = _any(r"\b(we|our team|i) worked (so )?hard\b")


def _leading(question: str) -> Problem | None:
    pushed = _NEGATIVE_INTERROGATIVE.search(question) or _PUSHING.search(question) or _WORKED_HARD.search(question)
    if pushed:
        return Problem(
            "leading",
            f"'{pushed.group(0).strip()}' suggests the answer we hope for; polite customers go along with it",
            "Ask neutrally, with both directions open: 'How would you describe …?' or 'How fast or slow was …?'",
        )
    loaded = _LOADED.search(question)
    if loaded:
        return Problem(
            "leading",
            f"'{loaded.group(1)}' praises what the customer is asked to judge",
            f"Drop '{loaded.group(1)}' and let the customer judge: 'How would you rate the checkout?'",
        )
    return None


# --- assumption -------------------------------------------------------------------------------------------------------
_PRESUMING = _any(
    r"\bwhy do you (prefer|like|love|choose|enjoy|trust|recommend)\b",
    r"\bwhat do you (like|love|enjoy|appreciate) (most|best)\b",
    r"\bhow much (did|do) you (enjoy|like|love|appreciate)\b",
    r"\byour (favourite|favorite|best) (thing|part|feature|aspect) (about|of) (our|the|us)\b",
    r"\bhow much (time|money|effort) (did|does|has) (our|we|the|this)\b",
    r"\bwhen did you last (recommend|tell|share)\b",
    r"\bhow (has|have|did) (our|the) \w+( \w+)? (changed|improved|helped|made)\b",
    r"\bwhich (of our )?[\w ]*(features?|channels?|products?|benefits?)\b.*\bdo you (like|love|enjoy|follow|use)\b",
    r"\bwhy (our|my) [\w ]+ (matters|is important)\b",
)


def _assumption(question: str) -> Problem | None:
    presumed = _PRESUMING.search(question)
    if presumed and not _HEDGED.search(question):
        return Problem(
            "assumption",
            f"'{presumed.group(0).strip()}' takes for granted something the customer may not think or do",
            "Ask first whether it is so, or leave room for 'nothing': 'What, if anything, do you like about …?'",
        )
    return None


# --- jargon -----------------------------------------------------------------------------------------------------------
_ACRONYMS = re.compile(r"\b(UX|UI|SKUs?|PDP|CTA|SLA|KPIs?|AOV|CLV|LTV|NPS|SEO|API|CDN|3PL|D2C|B2C|PWA|UGC)\b")
_TRADE_WORDS = _any(
    r"\bfunnel\b",
    r"\bomni-?channel\b",
    r"\bfulfil(l)?ment\b",
    r"\blast-mile\b",
    r"\blast mile\b",
    r"\bviewport\b",
    r"\bresponsive (layout|design)\b",
    r"\bconversion( rate)?\b",
    r"\b(user|customer) journey\b",
    r"\btouchpoints?\b",
    r"\bvalue proposition\b",
    r"\bup-?sell\w*\b",
    r"\bcross-?sell\w*\b",
    r"\bretargeting\b",
    r"\battribution\b",
    r"\bchurn\b",
    r"\blogistics\b",
    r"\blanding page\b",
    r"\bbounce rate\b",
    r"\brender(ed|ing)?\b",
    r"\bheadless\b",
    r"\blatency\b",
    r"\bdrop-?ship\w*\b",
)


def _jargon(question: str) -> Problem | None:
    found = _ACRONYMS.search(question) or _TRADE_WORDS.search(question)
    if found:
        return Problem(
            "jargon",
            f"'{found.group(0)}' is shop-keeper's language; customers guess what it means or give up",
            "Use the customer's words for what she saw or did: 'the page where you paid', 'how long delivery took'.",
        )
    return None


# --- recall -----------------------------------------------------------------------------------------------------------
_LONG_AGO = _any(
    r"\b(in|during|since) (19|20)\d\d\b",
    r"\b(last|past|previous) (year|years|decade)\b",
    r"\bover the (past|last) (\w+ )?(years?|decade)\b",
    r"\b(\d+|two|three|four|five|several|many) years ago\b",
    r"\bthe year before\b",
    r"\bin the (past|last) (6|9|12|18|24|36|six|nine|twelve|eighteen) months\b",
    r"\bever (bought|ordered|purchased|visited|used)\b",
    r"\b(what|on what|which) date\b",
    r"\bwhen did you first\b",
)


def _recall(question: str) -> Problem | None:
    found = _LONG_AGO.search(question)
    if found:
        return Problem(
            "recall",
            f"'{found.group(0)}' asks customers to remember details they cannot recall reliably",
            "Ask about a recent, memorable moment: 'the last time you …' or 'in the last 30 days'.",
        )
    return None


# --- hypothetical -----------------------------------------------------------------------------------------------------
_IMAGINED = _any(
    r"\bhow much would you (be willing to )?pay\b",
    r"\bwould you (be willing to |still )?pay\b",
    r"\bwhat would you pay\b",
    r"\bat what price\b",
    r"\bwould you (still )?(buy|shop|order|purchase|use|subscribe|switch|try)\b.*\bif\b",
    r"\bif (we|you|the price|prices)\b.*\bwould you\b",
    r"\bif we (opened|launched|offered|started|added|introduced|made|sold|raised|lowered|charged|built)\b",
    r"\bhow likely would you be to\b",
    r"\bwould you (use|try|buy) (a|an) (new )?(feature|service|app|option|product)\b",
)


def _hypothetical(question: str) -> Problem | None:
    found = _IMAGINED.search(question)
    if found:
        return Problem(
            "hypothetical",
            "customers cannot know what they would pay or do in an imagined situation; stated intentions "
            "overstate real behaviour",
            "Ask about what she did: 'The last time you needed this, what did you buy and what did you pay?'",
        )
    return None


# --- product-centric / "my company" ----------------------------------------------------------------------------------
_ABOUT_US = _any(
    r"\b(my|our) (company|business|background|mission|vision|founder|brand story)\b",
    r"\bas (the|a) founder\b",
    r"\bI (founded|started|built|created|designed)\b",
    r"\bour team worked\b",
    r"\bwhat do you think (of|about) (our|my) (new |innovative |latest |revolutionary |unique )*"
    r"(app|product|idea|concept|features?|invention|brand|logo|website|programme|program|loyalty programme)\b",
    r"\bfeatures? of our (product|app|service)\b",
)


def _product_centric(question: str) -> Problem | None:
    found = _ABOUT_US.search(question)
    if found:
        return Problem(
            "product-centric",
            f"'{found.group(0)}' puts us, not the customer, at the centre; answers tell what she thinks we want",
            "Ask about her situation and needs: 'What were you trying to get done when you visited us?'",
        )
    return None


# --- sales pitch / competitor -----------------------------------------------------------------------------------------
_PITCH = _any(
    r"\bwhy would (anyone|you|people) (buy|shop|order)\b",
    r"\bunlike (other|our|most|amazon|ebay|marketplaces|competitors)\b",
    r"\b(better|cheaper|safer) than (cheap |other |our |the )?(competitors?|brands?|shops?|amazon|marketplaces|"
    r"fast-fashion|high street)\b",
    r"\bbetter value than\b",
    r"\bcheap (competitors|copies|knock-?offs|fast-fashion)\b",
    r"\brisky compared with\b",
    r"\b(never|don't|do not) overcharge\b",
    r"\bsaves? you (money|time)\b",
    r"\bour (prices|products|quality|service|delivery) (are|is) (lower|better|cheaper|faster|higher)\b",
    r"\bwhy do (people|customers|you) still (shop|buy|order|use)\b",
    r"\bwould you like to (join|subscribe|sign up|upgrade)\b",
)


def _sales_pitch(question: str) -> Problem | None:
    found = _PITCH.search(question)
    if found:
        return Problem(
            "sales-pitch",
            f"'{found.group(0)}' argues for our offer or against a competitor instead of asking",
            "Ask what she did and why: 'Where else did you look before ordering, and what decided it?'",
        )
    return None


# --- don't know / not applicable --------------------------------------------------------------------------------------
_RATING = _any(
    r"\bhow (satisfied|happy|helpful|useful|easy)\b",
    r"\bhow would you rate\b",
    r"\bhow do you rate\b",
    r"^rate\b",
    r"\bon a scale\b",
)
_OPTIONAL_SERVICE = _any(
    r"\blive chat\b",
    r"\breturns? (process|policy)\b",
    r"\brefunds?\b",
    r"\bloyalty (programme|program|scheme)\b",
    r"\bmobile app\b",
    r"\bgift[- ]?wrap\w*\b",
    r"\bcustomer service\b",
    r"\bsupport team\b",
    r"\bnewsletter\b",
    r"\bsize guide\b",
    r"\bclick and collect\b",
    r"\bexchanges?\b",
)
_ESCAPE = _any(r"\bif you\b", r"\bif any\b", r"\bdon'?t know\b", r"\bnot applicable\b", r"\bn/a\b", r"\bhave used\b")


def _dont_know(question: str) -> Problem | None:
    service = _OPTIONAL_SERVICE.search(question)
    if service and _RATING.search(question) and not _ESCAPE.search(question):
        return Problem(
            "dont-know",
            f"not every customer has used '{service.group(0)}'; without a way out they guess or drop the survey",
            "Add the answer 'Don't know / not applicable', or ask only those who used it: 'If you used …'",
        )
    return None


RULES: tuple[tuple[str, Callable[[str], Problem | None]], ...] = (
    ("vague", _vague),
    ("double-barrelled", _double_barrelled),
    ("leading", _leading),
    ("assumption", _assumption),
    ("jargon", _jargon),
    ("recall", _recall),
    ("hypothetical", _hypothetical),
    ("product-centric", _product_centric),
    ("sales-pitch", _sales_pitch),
    ("dont-know", _dont_know),
)
RULE_NAMES = tuple(name for name, _ in RULES)


def lint_question(question: str, *, offers_dont_know: bool = False) -> LintResult:
    """The problems of one question; ``offers_dont_know`` when its answers include "don't know / not applicable"."""
    text = " ".join(question.split())
    problems = []
    for name, check in RULES:
        if name == "dont-know" and offers_dont_know:
            continue
        problem = check(text)
        if problem is not None:
            problems.append(problem)
    return LintResult(question, problems)


def lint_questions(questions: Sequence[str]) -> list[LintResult]:
    return [lint_question(q) for q in questions]
