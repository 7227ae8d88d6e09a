"""The question linter against a labelled set of good and bad survey questions (tests/voice/data).

The set has 169 questions, each labelled ok or not (with the rules a reviewer would cite). ``dev`` and ``test``
were written together before the rules; ``unseen`` was written afterwards and first scored precision 1.0 and
recall 0.6 (the rules were then widened); ``unseen2`` was written after that and scored before any further change.
When the rules ``my-company`` and ``competitor`` were split from ``product-centric`` and ``sales-pitch``, the
eleven questions about the asker's company or against a competitor were relabelled with the new rule names (their
ok labels did not change). The larger labelled set with a held-out half is scored in ``test_question_set.py``;
this file also checks how answer options are read apart from the question.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shoplens import voice
from shoplens.voice import RULE_NAMES, parse_survey_spec
from shoplens.voice._lint import split_question
from shoplens.voice._survey_spec import lint_survey

# These tests are of the rules: the learned second opinion (scored in test_question_sets_scored.py) stays out.
lint_question = partial(voice.lint_question, learned=False)

LABELLED = Path(__file__).parent / "data" / "survey_questions.csv"
TARGET = 0.85


@dataclass(frozen=True)
class Labelled:
    split: str
    ok: bool
    rules: frozenset[str]
    question: str


def _labelled() -> list[Labelled]:
    with LABELLED.open(newline="", encoding="utf-8") as handle:
        return [
            Labelled(
                row["split"], row["ok"] == "true", frozenset(filter(None, row["rules"].split(";"))), row["question"]
            )
            for row in csv.DictReader(handle)
        ]


def _precision_recall(rows: list[Labelled]) -> tuple[float, float]:
    flagged = [not lint_question(r.question).ok for r in rows]
    bad = [not r.ok for r in rows]
    true_positive = sum(f and b for f, b in zip(flagged, bad, strict=True))
    return true_positive / sum(flagged), true_positive / sum(bad)


def test_the_labelled_set_is_large_and_balanced_enough() -> None:
    rows = _labelled()
    assert len(rows) >= 60
    assert sum(r.ok for r in rows) >= 30
    assert sum(not r.ok for r in rows) >= 30
    cited = set().union(*(r.rules for r in rows))
    assert cited <= set(RULE_NAMES), "every label is a rule"
    assert len(cited) >= 10
    assert all(r.ok == (not r.rules) for r in rows)


def test_precision_and_recall_on_the_labelled_questions() -> None:
    rows = _labelled()
    precision, recall = _precision_recall(rows)
    for split in ("dev", "test", "unseen", "unseen2"):
        part = [r for r in rows if r.split == split]
        p, r = _precision_recall(part)
        print(f"\n{split}: {len(part)} questions, precision {p:.3f}, recall {r:.3f}")
    print(f"all: {len(rows)} questions, precision {precision:.3f}, recall {recall:.3f}")
    assert precision >= TARGET
    assert recall >= TARGET


def test_a_flagged_question_is_flagged_for_a_reason_a_reviewer_gave() -> None:
    bad = [r for r in _labelled() if not r.ok]
    agreeing = sum(bool(r.rules & {p.rule for p in lint_question(r.question).problems}) for r in bad)
    assert agreeing / len(bad) >= TARGET


def test_the_two_examples_of_the_issue(cli: Callable[..., Any]) -> None:
    leading = "Don't you agree that our delivery is the fastest?"
    good = "What, if anything, almost stopped you from ordering today?"
    result = cli("survey", "lint", leading, good, "--json")
    assert result.exit_code == 0, result.stderr
    first, second = result.json()["results"]
    assert first["question"] == leading
    assert first["ok"] is False
    assert [p["rule"] for p in first["problems"]] == ["leading"]
    assert set(first["problems"][0]) == {"rule", "reason", "suggestion"}
    assert (
        first["problems"][0]["reason"]
        == "'Don't you' suggests the answer we hope for; polite customers go along with it"
    )
    assert second == {"question": good, "ok": True, "problems": [], "method": result.json()["method"]}


@pytest.mark.parametrize(
    ("question", "rules"),
    [
        ("How satisfied are you with our prices and delivery times?", ["double-barrelled"]),
        ("How would you rate the UX of our checkout funnel?", ["jargon"]),
        ("How much would you pay for a premium membership?", ["hypothetical"]),
        ("How satisfied were you with our live chat?", ["dont-know"]),
    ],
)
def test_each_problem_names_its_rule(question: str, rules: list[str]) -> None:
    assert [p.rule for p in lint_question(question).problems] == rules


def test_a_dont_know_answer_clears_the_dont_know_rule() -> None:
    assert not lint_question("How satisfied were you with our live chat?", offers_dont_know=True).problems


# --- answer options are read apart from the question ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "stem", "options"),
    [
        (
            "How satisfied were you with the delivery of your last order? (1-5, or not applicable)",
            "How satisfied were you with the delivery of your last order?",
            ("1-5", "not applicable"),
        ),
        (
            "Did you use the size guide? (Yes / No / Don't remember)",
            "Did you use the size guide?",
            ("Yes", "No", "Don't remember"),
        ),
        ("Which did you use? Card, PayPal, Other", "Which did you use?", ("Card", "PayPal", "Other")),
        ("Was it as described? Yes/No", "Was it as described?", ("Yes", "No")),
        (
            "How likely is it that you would recommend us to a friend? 0 = Not at all likely, 10 = Extremely likely",
            "How likely is it that you would recommend us to a friend?",
            ("0 = Not at all likely", "10 = Extremely likely"),
        ),
        (
            "On a scale of 0 to 10, how likely are you to recommend us to a friend?",
            "How likely are you to recommend us to a friend?",
            ("0-10",),
        ),
        (
            "How easy was it? (Very difficult - Very easy) (1-7)",
            "How easy was it?",
            ("Very difficult", "Very easy", "1-7"),
        ),
        # Not options: a parenthesis that hedges, and a second question.
        ("What did you buy instead (if anything)?", "What did you buy instead (if anything)?", ()),
        (
            "What do you think of our returns? How could we make them better?",
            "What do you think of our returns? How could we make them better?",
            (),
        ),
    ],
)
def test_answer_options_are_split_from_the_question(question: str, stem: str, options: tuple[str, ...]) -> None:
    asked = split_question(question)
    assert (asked.stem, asked.options) == (stem, options)


def test_the_sound_questions_of_the_issue_pass(cli: Callable[..., Any]) -> None:
    sound = [
        "How satisfied were you with the delivery of your last order? (1-5, or not applicable)",
        "Did you use the size guide? (Yes / No / Don't remember)",
        "How likely are you to recommend this store to a friend or colleague? (0-10)",
    ]
    result = cli("survey", "lint", *sound, "--json")
    assert result.exit_code == 0, result.stderr
    method = result.json()["method"]
    assert result.json() == {
        "method": method,
        "results": [{"question": q, "ok": True, "problems": [], "method": method} for q in sound],
    }


@pytest.mark.parametrize(
    ("question", "rule"),
    [
        ("Rate our product.", "product-centric"),
        ("What do you think?", "vague"),
        ("Why do you buy from a marketplace instead of direct from the maker?", "competitor"),
        ("What do you think of my background in retail?", "my-company"),
        ("Why did you choose standard delivery when express is only £2 more?", "debating-choice"),
        ("How many orders does our warehouse pack each day?", "unknowable"),
        ("How would you rate the packaging? (Good, Very good, Excellent)", "unbalanced-scale"),
        ("How satisfied are you with the price and quality of this item? (1-5)", "double-barrelled"),
        ("How likely are you to recommend our amazing shop to a friend or colleague?", "leading"),
    ],
)
def test_each_error_of_the_course_is_caught_when_phrased_plainly(question: str, rule: str) -> None:
    assert rule in [p.rule for p in lint_question(question).problems]


def test_a_rewrite_is_offered_where_one_can_be_made() -> None:
    (loaded,) = lint_question("How satisfied were you with our excellent customer service? (1-5, or n/a)").problems
    assert loaded.suggestion == '"How satisfied were you with our customer service? (1-5, or n/a)"'
    debating = lint_question("Why did you cancel your subscription even though it saves you money?").problems[-1]
    assert debating.rule == "debating-choice"
    assert debating.suggestion == '"What made you cancel your subscription?"'
    (why_not,) = lint_question("Why didn't you use the size guide before ordering?").problems
    assert why_not.suggestion == '"Did you use the size guide before ordering? (Yes / No / Don\'t remember)"'


@pytest.mark.parametrize(
    ("options", "flagged"),
    [
        (["Good", "Very good", "Excellent"], True),
        (["Satisfied", "Very satisfied", "Extremely satisfied"], True),
        (["Poor", "Good", "Very good", "Excellent"], True),
        (["Very poor", "Poor", "Fair", "Good", "Very good"], False),
        (["Very dissatisfied", "Dissatisfied", "Neutral", "Satisfied", "Very satisfied"], False),
        (["Not at all important", "Slightly important", "Very important", "Extremely important"], False),
        (["Yes", "No", "Not sure"], False),
    ],
)
def test_answer_options_given_apart_are_checked_for_balance(options: list[str], flagged: bool) -> None:
    rules = [p.rule for p in lint_question("How would you rate the delivery of your order?", options=options).problems]
    assert rules == (["unbalanced-scale"] if flagged else [])


def test_a_survey_definition_lints_its_choices_too() -> None:
    spec = parse_survey_spec(
        {
            "name": "Packaging",
            "sample": {"size": 10},
            "questions": [
                {
                    "kind": "single_choice",
                    "text": "How was the packaging of your order?",
                    "options": ["Good", "Great", "Superb"],
                },
                {"kind": "nps", "text": "How likely are you to recommend us to a friend or colleague?"},
            ],
        }
    )
    first, second = lint_survey(spec)
    assert [p.rule for p in first.problems] == ["unbalanced-scale"]
    assert second.ok


_SOUND_STEMS = [
    "Did your order arrive by the date we promised?",
    "How likely are you to recommend us to a friend or colleague?",
    "How satisfied are you with your most recent order?",
    "Which payment method did you use for your last order?",
    "How easy or difficult was it to find the returns form?",
]
_LABELS = st.sampled_from(
    ["Yes", "No", "Don't know", "Not sure", "Don't remember", "Card", "PayPal", "Other", "1-5", "0-10",
     "Very dissatisfied", "Very satisfied", "Not applicable", "None of these", "Click & collect", "Cash on delivery"]
)  # fmt: skip


@given(
    stem=st.sampled_from(_SOUND_STEMS),
    labels=st.lists(_LABELS, min_size=2, max_size=5, unique=True),
    separator=st.sampled_from([" / ", ", ", "/", "; "]),
    parenthesised=st.booleans(),
)
def test_answer_options_never_make_a_sound_question_flawed(
    stem: str, labels: list[str], separator: str, parenthesised: bool
) -> None:
    options = separator.join(labels)
    question = f"{stem} ({options})" if parenthesised else f"{stem} {options}"
    assert lint_question(question).problems == []


@given(st.text(max_size=300))
def test_any_text_gets_a_verdict_and_every_problem_explains_itself(text: str) -> None:
    result = lint_question(text)
    assert result.question == text
    assert all(p.rule in RULE_NAMES and p.reason and p.suggestion for p in result.problems)


# --- the error classes widened after scoring the independent set, on wordings of none of the labelled sets ----------
@pytest.mark.parametrize(
    ("question", "rule"),
    [
        ("Should we offer free returns like Zalando?", "competitor"),
        ("Would you like a loyalty card similar to Boots Advantage?", "competitor"),
        ("Would you want us to run our subscription the way Netflix does?", "competitor"),
        ("Should we copy Amazon's one-click checkout?", "competitor"),
        ("Would you use an Uber-style delivery tracker from us?", "competitor"),
        ("How thrilled were you with your new jacket?", "leading"),
        ("As a loyal customer, how much do you value our newsletter?", "leading"),
        ("Since you obviously care about the planet, which packaging do you choose?", "leading"),
        ("How many seconds did the page take to load?", "recall"),
        ("How many calories did you eat each day last month?", "recall"),
        ("Why did the seller cancel your order?", "unknowable"),
        ("How do you feel about prices?", "vague"),
        ("What about delivery?", "vague"),
        ("Score our website from 1 to 5.", "product-centric"),
        ("How many stars would you give our app?", "product-centric"),
        ("Would you consider investing in our business?", "my-company"),
        ("Should we outsource our packing to save money?", "my-company"),
        ("Do you think we should open on Sundays?", "my-company"),
        # A scale that does not say how often "often" is leaves the word as vague as before.
        ("How often do you shop with us? (1 = never, 5 = very often)", "vague"),
    ],
)
def test_a_wider_wording_of_each_class_is_caught(question: str, rule: str) -> None:
    assert rule in [p.rule for p in lint_question(question).problems]


@pytest.mark.parametrize(
    "question",
    [
        # A brand named in a question about what she did is no proposal to copy it.
        "Did you compare prices on sites like Amazon before ordering? (Yes / No / Don't remember)",
        "Before you subscribed, did you use a meal kit like HelloFresh? (Yes / No)",
        "Did you find us through a search engine like Google?",
        "Would you like to hear about our Black Friday sale? (Yes / No)",
        # Both directions named, or hedged, or anchored: nothing is pushed or beyond recall.
        "How pleased or displeased were you with the fit? (Very displeased - Very pleased)",
        "About how many minutes did you wait on hold?",
        "As you were checking out, what, if anything, made you hesitate?",
        "To what extent do you agree that the product page showed what you needed? (Strongly disagree / Disagree / "
        "Neither agree nor disagree / Agree / Strongly agree)",
        # Her own reasons, a concrete topic, a fragment that has a verb.
        "Why did the product not meet your expectations?",
        "How did you feel about the delivery time of your last order?",
        "What about the checkout made it hard to finish your order?",
        # Frequency defined by the options; instructions on how to answer; wording addressed to those who used it.
        "How often do you cook at home? (Every day / 3-5 times a week / Once or twice a week / Less often)",
        "Which of these did you use? Tick all that apply. (Size guide / Reviews / Live chat / None of these)",
        "Did you check any other shops before ordering? (Yes / No)",
        "How helpful was the live chat agent you spoke to? (Not at all helpful - Extremely helpful)",
    ],
)
def test_sound_questions_near_the_widened_classes_pass(question: str) -> None:
    assert lint_question(question).problems == []


# --- the error classes widened after scoring the second blind set, on wordings of none of the labelled sets --------
@pytest.mark.parametrize(
    ("question", "rule"),
    [
        # Technical internals, others' minds, a guess at a third party's reasons, exact figures long past.
        ("Which database failure made your basket empty itself on Monday?", "unknowable"),
        ("Why was the server so slow when you paid yesterday?", "unknowable"),
        ("What were the other shoppers hoping for when they left reviews on this lamp?", "unknowable"),
        ("Why do you suppose the brewery stopped making the winter ale?", "unknowable"),
        ("On which precise date did your subscription begin?", "recall"),
        ("What was the exact amount you paid for your first order with us?", "recall"),
        # A yes/no verdict by no stated measure.
        ("Is the delivery fine?", "vague"),
        ("Was everything alright?", "vague"),
        # Social proof or a boast before the question.
        ("Thousands of shoppers tell us our tea is the best they have tasted. How does yours compare?", "leading"),
        ("9 out of 10 customers recommend our socks - how comfortable are yours?", "leading"),
        ("We make the softest towels in Britain: how soft did yours feel?", "leading"),
        # Designing, describing or ranking our range and brand.
        ("Which flavour should we launch next?", "product-centric"),
        ("How would you describe the Oakleaf Candle Company logo?", "product-centric"),
        ("Please rate our new checkout page banner.", "product-centric"),
        ("Which of our three ranges would you say is the strongest?", "product-centric"),
        # Our pricing and margins put to her.
        ("How much should we charge for gift cards?", "my-company"),
        ("Where should we open our next shop?", "my-company"),
        # Copying a business after "Should our …", or copying unnamed rivals.
        ("Should our bakery do a loyalty card like Greggs?", "competitor"),
        ("Would you like a rewards scheme like the big supermarkets run?", "competitor"),
        ("Should we offer next-day delivery the way other shops do?", "competitor"),
        # Doubting that she needed what she chose.
        ("Do you really need three of the same lamp?", "debating-choice"),
        ("Did you actually want the extended warranty you bought?", "debating-choice"),
        # A service not everyone had, with points written out and no way out, is still a guess for some.
        ("How satisfied were you with live chat? 1 2 3 4 5", "dont-know"),
        ("How would you rate the size guide on your product page?", "dont-know"),
        # Her start with us is still long ago, whatever follows "the first time you".
        ("Did it work the first time you shopped with us?", "recall"),
    ],
)
def test_a_wider_wording_of_each_class_after_the_second_blind_set_is_caught(question: str, rule: str) -> None:
    assert rule in [p.rule for p in lint_question(question).problems]


@pytest.mark.parametrize(
    "question",
    [
        # Answer options written without parentheses after the question mark are options, not a second question.
        "How many items were in your order? 1 2 3 4 5 or more",
        "Did your order arrive on time? Yes / No / Not sure",
        # "everything" bounded by what she did; a concrete state rather than a verdict.
        "Did you get everything you ordered? (Yes / No)",
        "Was your parcel in good condition when it arrived? (Yes / No)",
        # Her first try at the thing the question names is recent; how she first heard of us is a standard question.
        "Did the app work the first time you opened it? Yes / No",
        "How did you first hear about us?",
        "Which day of the week suits you best for delivery?",
        # What she saw herself, and her own reasons.
        "What error message, if any, did you see at checkout?",
        "Why do you think you stopped ordering from us?",
        # A plain statement of fact before the question praises nothing.
        "Your order was dispatched on Monday. How many days did it take to arrive?",
        # A service done to her, or part of what she received, is one she had.
        "How satisfied are you with the help our support team gave you? 1 2 3 4 5",
        "How happy were u with how fast our team got back to u? 1-5",
        "How satisfied were you with the packaging on your last order? (1-5)",
        # Other shops named in what she did, not in a proposal; "really" about the item, not her choice.
        "Did you compare us with the big supermarkets before ordering?",
        "Did the item really arrive on the day you were told?",
        # Judging something she received, not our brand in the abstract.
        "How would you describe the fit of the jacket you received?",
    ],
)
def test_sound_questions_near_the_classes_widened_after_the_second_blind_set_pass(question: str) -> None:
    assert lint_question(question).problems == []


@pytest.mark.parametrize(
    ("question", "rule"),
    [
        # Another person's reasons or opinion, whoever she knows them as.
        ("Why do you think your colleagues picked another stationery supplier?", "unknowable"),
        ("What does your partner think of the kitchen scales you bought?", "unknowable"),
        ("How do the other members of your running club feel about our trail shoes?", "unknowable"),
        # A total of fine units, or a count, over a span of months.
        ("How many minutes did you spend on our app in the last 6 months?", "recall"),
        ("How often did you open our emails during the previous twelve months?", "recall"),
        # A topic with a time that bounds nothing she did.
        ("How do you feel about delivery prices nowadays?", "vague"),
        # Our brand under its own name, a part of our site judged, our range designed under our name.
        ("Sum up the Birchwood Tea brand in one word.", "product-centric"),
        ("Please describe our new packaging.", "product-centric"),
        ("What do you think about the fonts in our catalogue?", "product-centric"),
        ("Which flavour should Copper Kettle Roasters add to the range next?", "product-centric"),
        # Copying what another business has, or what unnamed rivals do.
        ("Would you want a loyalty card like the one Pret has?", "competitor"),
        ("Should Hillside Plants start the repotting service that GreenThumb offers?", "competitor"),
        ("Other bike shops give a free first service. Should we follow suit?", "competitor"),
        ("Most tea shops now offer samples - would you like that from us as well?", "competitor"),
        # Disbelief at her choice, or pointing out what she should have seen.
        ("Why would you choose the smallest tent for a family of four?", "debating-choice"),
        ("Did you not notice that the bundle was cheaper?", "debating-choice"),
        ("Surely the two-pack would have been better value for you, no?", "debating-choice"),
    ],
)
def test_a_wider_wording_of_each_class_after_the_third_blind_set_is_caught(question: str, rule: str) -> None:
    assert rule in [p.rule for p in lint_question(question).problems]


@pytest.mark.parametrize(
    "question",
    [
        # Net Promoter wordings with another verb, another listener, or the referral put as a scene.
        "How likely would you be to recommend our bakery to a neighbour? 0-10",
        "How likely are you to mention Fernbrook Books to a fellow reader? (0-10)",
        "If a colleague asked where to get office chairs, how likely would you be to suggest us? 0 1 2 3 4 5 6 7 8 9",
        "How likely is it that you would recommend this shop to someone you know? (0 = not at all, 10 = extremely)",
        # Her own reasons, and what a thing felt like to her.
        "Why do you think you chose a different size this time?",
        "How did the fabric feel when you first wore it?",
        # A count anchored to a short, recent span.
        "How many minutes did your delivery driver wait at the door today?",
        "How many times did you visit our site in the last 30 days?",
        # Describing what she received, not our brand.
        "Describe the problem you had with your order.",
        "What did you think of the packaging your order came in?",
        # A business named in what she did, not in a proposal.
        "Which other shops, if any, did you look at before buying from us?",
        "Did you consider any other sizes before ordering? (Yes / No / Don't remember)",
        "What made you choose the larger kettle?",
    ],
)
def test_sound_questions_near_the_classes_widened_after_the_third_blind_set_pass(question: str) -> None:
    assert lint_question(question).problems == []


@pytest.mark.parametrize(
    ("question", "rule"),
    [
        # Other people's preferences by any name, and rates of our own operations put to her as a guess.
        ("Why do most cyclists in your club choose tubeless tyres?", "unknowable"),
        ("Why do many gardeners near you avoid peat compost?", "unknowable"),
        ("What share of returned parcels do you think we resell?", "unknowable"),
        ("What is our same-day dispatch rate, would you say?", "unknowable"),
        # Social proof stated with a number, then the question.
        ("Over 20,000 bakers rely on Flourish Mills. Would you like to join them?", "leading"),
        ("Hundreds of local families already shop with us! How likely are you to order again?", "leading"),
        # Our range to improve or design, under a name of several words.
        ("Which sizes should House of Threads bring out this autumn?", "product-centric"),
        ("How could we improve our garden tool range?", "product-centric"),
        ("How would you change Kettle and Crumb's biscuit collection?", "product-centric"),
        # The company's own decision under its name.
        ("Should Greenway Cycles hire more mechanics?", "my-company"),
        # A rival's offer stated as a fact, then a proposal to copy it; a rival asked about outright.
        ("Peak Outdoors includes a free repair kit with every tent. Should we do that too?", "competitor"),
        ("Some garden centres let you book a delivery slot - should we follow their lead?", "competitor"),
        ("Rival bookshops run reading clubs. Could we start one like theirs?", "competitor"),
        ("How do the prices of our main competitor compare with what you expected?", "competitor"),
    ],
)
def test_a_wider_wording_of_each_class_after_the_fourth_blind_set_is_caught(question: str, rule: str) -> None:
    assert rule in [p.rule for p in lint_question(question).problems]


@pytest.mark.parametrize(
    "question",
    [
        # A rough count over a year, answered in bands.
        "Over the past 12 months, about how many times did you order gifts online? (None, 1-2, 3-5, 6 or more)",
        # The alternative she had for a purchase she made.
        "If you had not found these boots here, where would you have bought them?",
        # Her own preferences and habits, her own share.
        "What made you choose tubeless tyres for your bike?",
        "What percentage of your weekly food shop do you buy online? (0-25%, 26-50%, 51-75%, 76-100%)",
        # A number in a question that is not a boast.
        "How many people in your household use the account?",
        # Her own situation, with the shop named neutrally.
        "How could your last visit to Greenway Cycles have gone better?",
        "Should you need help with your order, how would you prefer to contact us? (Email / Phone / Chat)",
        # Her own shopping around.
        "Did you look at any of our competitors before ordering? (Yes / No / Don't remember)",
        "Other shops you use: which of them, if any, offered you a loyalty card?",
    ],
)
def test_sound_questions_near_the_classes_widened_after_the_fourth_blind_set_pass(question: str) -> None:
    assert lint_question(question).problems == []


@pytest.mark.parametrize(
    ("question", "rule"),
    [
        # Other people's opinions, by any plural; a guess at our own operations.
        ("What do the other runners in your group think of our trail shoes?", "unknowable"),
        ("How do your cousins feel about the hampers you sent?", "unknowable"),
        ("What proportion of our plant deliveries arrive damaged, would you guess?", "unknowable"),
        ("How many of our parcels do you imagine go missing each week?", "unknowable"),
        # A verdict asked through "would you say", and a question made of fillers.
        ("Do you think the parking situation was fine?", "vague"),
        ("Thoughts on, you know, all of it?", "vague"),
        # A boast as an opening clause.
        ("As the most trusted garden centre in Kent, how likely are you to visit again?", "leading"),
        ("Being one of the leading cycle shops in Wales, what could we do better?", "leading"),
        # Design details of what we make, put to her.
        ("Do you like the colour of our tea tins?", "product-centric"),
        ("What do you think of the new label on our jam jars?", "product-centric"),
        ("Which shape should our next candle range come in?", "product-centric"),
        ("Should our notebooks have a cloth or a card cover?", "product-centric"),
        # The company's own decisions and funding.
        ("Should our shop switch to a cheaper card terminal?", "my-company"),
        ("What do you make of our decision to take on angel investors?", "my-company"),
        # A rival's model stated as fact, then "should our … also".
        ("Spotify is free with ads. Should our audiobook app also be free?", "competitor"),
        ("Fitbox charges nothing for delivery. Could our boxes also ship for free?", "competitor"),
        # Her decision questioned as too hasty.
        ("Why did you return the kettle after just one day?", "debating-choice"),
        ("Why did you give up on the yoga plan so soon?", "debating-choice"),
    ],
)
def test_a_wider_wording_of_each_class_after_the_fifth_blind_set_is_caught(question: str, rule: str) -> None:
    assert rule in [p.rule for p in lint_question(question).problems]


@pytest.mark.parametrize(
    "question",
    [
        # A count over a year, offered in bands, without a hedge word.
        "How many books did you buy in the last 12 months, anywhere? (None, 1-3, 4-10, More than 10)",
        # A frequency word set by the answers, and her own shopping between kinds of shop.
        "How often do you order flowers online rather than from a florist? Never / Rarely / Sometimes / Often",
        "Where do you usually buy dog food instead of a pet shop, if anywhere?",
        # A scale anchored in the wording.
        "On a scale of 0 to 10, where 0 is not at all and 10 is exactly, how closely did the sofa match its photos?",
        # Her own view of what she received, and her own decision asked neutrally.
        "How did the shoes you ordered fit? (Too small / Right / Too big)",
        "What made you cancel your subscription? (Price / Not using it / Other)",
        "How many lessons had you taken when you decided to stop?",
        # Her own people and plans.
        "How many people in your family will use the bike? (1 / 2 / 3 / 4 or more)",
        "What are you planning to cook with the spice kit?",
        # Her own order, in her words.
        "Could your order have been packed better? (Yes / No / Not sure)",
    ],
)
def test_sound_questions_near_the_classes_widened_after_the_fifth_blind_set_pass(question: str) -> None:
    assert lint_question(question).problems == []


@pytest.mark.parametrize(
    ("question", "rule"),
    [
        # A business's money, and a rate over others' orders, guessed at.
        ("What margin do you reckon the garden centre takes on a bag of compost?", "unknowable"),
        ("How much profit does Oakridge Pens make on a fountain pen, would you guess?", "unknowable"),
        ("What share of Lumen Lamps deliveries do you think arrive late?", "unknowable"),
        # A design detail as our choice, a part of a product put to her to design.
        ("Do you like the shade of green we picked for the garden chairs?", "product-centric"),
        ("Should the buttons on the Kestrel jacket be silver or black?", "product-centric"),
        # Our teams' decisions, the company's backers.
        ("Which courier do you think our dispatch team should switch to?", "my-company"),
        ("Did you know a group of investors now owns part of Tidewell Soap?", "my-company"),
        # Pressing her to revisit a decision.
        ("Would you rethink your choice to leave our club?", "debating-choice"),
        ("Have you had second thoughts about cancelling your plan?", "debating-choice"),
        # Still flawed: a fuzzy frequency in a count of times, two questions after "where".
        ("How many times do you regularly shop with us? 1 / 2 / 3 / 4 or more", "vague"),
        ("Where did you buy the kettle and were you happy with it?", "double-barrelled"),
    ],
)
def test_a_wider_wording_of_each_class_after_the_sixth_blind_set_is_caught(question: str, rule: str) -> None:
    assert rule in [p.rule for p in lint_question(question).problems]


@pytest.mark.parametrize(
    "question",
    [
        # Which of her habits comes first, and who in her home counts, answered in numbers.
        "Which of these snacks do you buy most often? Crisps / Nuts / Fruit / Other",
        "How many children in your home read often? 0 / 1 / 2 / 3 or more",
        # One situation made of two clauses, and what she buys in one place.
        "What do you do if the shop is shut and you need bread?",
        "Where do you usually get pens and paper? Supermarket / Stationer / Online / Other",
        # A refund or exchange named as hers, and how she wants her own parcel handled.
        "How satisfied were you with how long your exchange took? (1-5)",
        "Should the parcel for the party be delivered on Friday or Saturday?",
        # Her own change of mind along the way, and her own guess about herself.
        "Did you change your mind about anything while you were at the checkout?",
        "What percentage of your weekly shop do you reckon you buy online?",
        "How much of your earnings do you think you spend on hobbies each month?",
    ],
)
def test_sound_questions_near_the_classes_widened_after_the_sixth_blind_set_pass(question: str) -> None:
    assert lint_question(question).problems == []
