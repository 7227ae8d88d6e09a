"""A linter for survey questions: the rules of asking customers well, each with a reason and a better wording.

A customer can only answer well a question that asks one clear thing about her own recent experience, does not
push an answer, and lets her say she does not know. First the question is separated from the answer options
written with it ("(1-5, or not applicable)", "Yes / No / Don't remember", "1 2 3 4 5", "0 to 10"), and from
instructions on how to answer ("Select all that apply."): these never make a question double-barrelled, but the
options are checked on their own and can settle what a word means ("How often …? (Weekly / Monthly / …)").
Validated standard wordings (NPS, CSAT, CES) keep their frame; only what fills it is checked. The rules (``rule``
ids in the results), grouped by the error they catch:

=================  ==================  ===========================================================================
error              rule                flags
=================  ==================  ===========================================================================
unanswerable       recall              details from long ago (last year, "the very first", "exactly how much",
                                       "what exact date"),
                                       counts too fine to recall ("how many minutes", "grams each day last month",
                                       minutes over months)
                   unknowable          what only we or other people know (our warehouse, our costs, other
                                       customers' reasons or thoughts, "what percentage of our customers", "why
                                       did the courier …", "why do you think the author decided …", "what do the
                                       other parents think of …", which server error or bug caused it, a firm's
                                       profit or margin, "what percentage of X orders do you reckon …")
                   hypothetical        what she would pay or do in an imagined future
                   dont-know           rates a service not everyone used, with no "don't know / not applicable"
                                       (not one done to her or on her own order: "replied to you")
vague              vague               no subject ("What do you think?"), fuzzy frequency words, "everything",
                                       an opinion of a topic ("… about sustainability?"), fragments ("What about
                                       the new range?"), a yes/no verdict by no measure ("Is the pricing ok?")
                   jargon              words of the trade customers do not use (UX, PDP, last mile…)
leading            leading             wording that suggests the answer ("Don't you agree…", "our friendly team",
                                       "How delighted were you…", "Since you clearly value…", social proof
                                       "Most of our customers say…", a boast before the question)
                   assumption          takes for granted what may not be so ("What do you like most about…")
                   unbalanced-scale    answer options with more favourable than unfavourable choices
product-centric    product-centric     asks her to judge, score, describe or rank our product, brand or website in
                                       the abstract, or to design our range ("Which colour should we add next?"),
                                       also with the shop's own name for "we" ("Describe the X brand"), or a
                                       design detail of it ("Do you like the shape of our …?", "the shade we
                                       chose", "Should the lighting on the X glow blue or red?")
                   sales-pitch         argues for our offer instead of asking
my-company         my-company          the asker's own company, mission, plans, decisions ("What price should we
                                       charge?", "… do you think our finance team should use?"), margins,
                                       funding, investors or background
competitor         competitor          argues against a competitor's sales model (marketplaces, middlemen…), or
                                       proposes copying a named business ("like Amazon Prime", "the way X does")
                                       or unnamed ones ("like the big chains offer", "Other shops give …; should
                                       we do the same?", "the scheme that X uses")
debating-choice    debating-choice     argues with a choice she made ("Why did you … when …?", "Did you really
                                       need …?", "Why would you buy the cheapest …?", "Did you not consider …?",
                                       "Why did you cancel after only …?", "Have you reconsidered …?")
double-barrelled   double-barrelled    two things in one question, or two questions in one
=================  ==================  ===========================================================================

The rules are patterns, not understanding: they are judged by precision and recall on a labelled set of sound and
flawed questions in the test suite (``tests/voice/data/question_set.csv``, with a held-out half, and sets
written later or by someone who never saw the rules).

Where no rule flags a question (and it is not a standard wording), a learned second opinion reads it when torch
is installed: a logistic regression on the sentence embedding of its stem, fitted on those labelled sets, flags it
with the rule ``learned`` when P(flawed) reaches the shipped threshold (:mod:`shoplens.voice._lint._learned`,
trained by :mod:`shoplens.voice.train_lint`). Each result says how it was read: ``method`` is ``rules+learned``, or
``rules`` without torch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from shoplens.voice._lint._answerable import dont_know, hypothetical, recall, unknowable
from shoplens.voice._lint._competitor import competitor
from shoplens.voice._lint._framing import debating_choice, my_company, product_centric, sales_pitch
from shoplens.voice._lint._leading import assumption, leading
from shoplens.voice._lint._learned import COMBINED_METHOD, LEARNED_RULE, RULES_METHOD, learned_linter
from shoplens.voice._lint._options import AskedQuestion, split_question
from shoplens.voice._lint._problem import LintResult, Problem
from shoplens.voice._lint._standard import standard_wording
from shoplens.voice._lint._wording import double_barrelled, jargon, unbalanced_scale, vague

Rule = Callable[[AskedQuestion], Problem | None]

RULES: tuple[tuple[str, Rule], ...] = (
    ("vague", vague),
    ("double-barrelled", double_barrelled),
    ("leading", leading),
    ("assumption", assumption),
    ("unbalanced-scale", unbalanced_scale),
    ("jargon", jargon),
    ("recall", recall),
    ("unknowable", unknowable),
    ("hypothetical", hypothetical),
    ("product-centric", product_centric),
    ("my-company", my_company),
    ("sales-pitch", sales_pitch),
    ("competitor", competitor),
    ("debating-choice", debating_choice),
    ("dont-know", dont_know),
)
RULE_NAMES = tuple(name for name, _ in RULES)
# The rules that read what fills a standard frame ("How likely are you to recommend <this store> to a friend?").
_SUBJECT_RULES = frozenset({"vague", "double-barrelled", "leading", "jargon", "competitor", "unbalanced-scale"})


def _rule_problems(asked: AskedQuestion, offers_dont_know: bool) -> tuple[bool, list[Problem]]:
    """Whether the question is a standard wording, and what the rules find in it."""
    standard = standard_wording(asked.stem)
    subject = asked if standard is None else AskedQuestion(asked.text, standard.subject, asked.options)
    problems = []
    for name, check in RULES:
        if name == "dont-know":
            # Whether she can rate it at all depends on the whole question and its answers, frame included.
            problem = None if offers_dont_know else check(asked)
        elif standard is None or name in _SUBJECT_RULES:
            problem = check(subject)
        else:
            continue
        if problem is not None:
            problems.append(problem)
    return standard is not None, problems


def lint_asked(questions: Sequence[tuple[str, Sequence[str], bool]], *, learned: bool = True) -> list[LintResult]:
    """The problems of each (question, options, offers_dont_know); with ``learned`` (and torch installed) the
    learned second opinion reads, in one batch, the questions that are not standard wordings and that no rule
    flagged."""
    linter = learned_linter() if learned else None
    method = RULES_METHOD if linter is None else COMBINED_METHOD
    asked = [split_question(question, options) for question, options, _ in questions]
    found = [_rule_problems(a, offers_dont_know) for a, (_, _, offers_dont_know) in zip(asked, questions, strict=True)]
    results = [LintResult(q, problems, method) for (q, _, _), (_, problems) in zip(questions, found, strict=True)]
    if linter is not None:
        unflagged = [i for i, (standard, problems) in enumerate(found) if not standard and not problems]
        for i, problem in zip(unflagged, linter.problems([asked[i].stem for i in unflagged]), strict=True):
            if problem is not None:
                results[i].problems.append(problem)
    return results


def lint_question(
    question: str, *, options: Sequence[str] = (), offers_dont_know: bool = False, learned: bool = True
) -> LintResult:
    """The problems of one question; ``options`` are its answer choices when given apart from the text,
    ``offers_dont_know`` says its answers include "don't know / not applicable", and ``learned=False`` asks the
    rules alone."""
    return lint_asked([(question, options, offers_dont_know)], learned=learned)[0]


def lint_questions(questions: Sequence[str], *, learned: bool = True) -> list[LintResult]:
    return lint_asked([(q, (), False) for q in questions], learned=learned)


def lint_method() -> str:
    """How questions are read here: ``rules+learned`` where torch and the MiniLM model are installed, else ``rules``."""
    return RULES_METHOD if learned_linter() is None else COMBINED_METHOD


def lint_document(results: Sequence[LintResult]) -> dict[str, Any]:
    """The answer of ``survey lint --json`` and of the lint API."""
    return {"method": lint_method(), "results": [result.as_dict() for result in results]}


__all__ = [
    "COMBINED_METHOD",
    "LEARNED_RULE",
    "RULES",
    "RULES_METHOD",
    "RULE_NAMES",
    "AskedQuestion",
    "LintResult",
    "Problem",
    "lint_asked",
    "lint_document",
    "lint_method",
    "lint_question",
    "lint_questions",
]
