"""What a survey's answers say: response rates by segment with a non-response bias warning, each question's
scores, choices or open-text themes, NPS by segment, and the spend of detractors linked to customers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from shoplens.appdb import AppDatabase, SurveyAnswer, SurveyInvitation, SurveyQuestion, SurveyResponse, survey_store
from shoplens.voice._customers import total_spend
from shoplens.voice._embeddings import SentenceEncoder
from shoplens.voice._sentiment import analyse_sentiment
from shoplens.voice._survey_statistics import customer_satisfaction, net_promoter_score
from shoplens.voice._surveys import _survey, survey_summary
from shoplens.voice._themes import FeedbackItem, ThemeMethod, mine_themes

LOW_RESPONSE_RATE = 0.2
BIAS_P_VALUE = 0.05
MIN_INVITED_PER_SEGMENT = 5


def _response_rates(invitations: Sequence[SurveyInvitation]) -> tuple[list[dict[str, Any]], list[str]]:
    from scipy.stats import chi2_contingency

    by_segment: dict[str, list[int]] = {}
    for inv in invitations:
        counts = by_segment.setdefault(inv.segment or "unknown", [0, 0])
        counts[0] += 1
        counts[1] += int(inv.answered)
    rows: list[dict[str, Any]] = [
        {"segment": s, "invited": c[0], "responses": c[1], "response_rate": round(c[1] / c[0], 4)}
        for s, c in sorted(by_segment.items())
    ]
    warnings: list[str] = []
    invited = sum(r["invited"] for r in rows)
    answered = sum(r["responses"] for r in rows)
    if invited and answered / invited < LOW_RESPONSE_RATE:
        warnings.append(
            f"only {answered / invited:.0%} of those asked answered: the answers may not speak for the others"
        )
    compared = [r for r in rows if r["invited"] >= MIN_INVITED_PER_SEGMENT]
    table = [[r["responses"], r["invited"] - r["responses"]] for r in compared]
    if len(compared) >= 2 and 0 < sum(t[0] for t in table) < sum(r["invited"] for r in compared):
        p_value = float(chi2_contingency(table)[1])
        if p_value < BIAS_P_VALUE:
            lowest = min(compared, key=lambda r: r["response_rate"])
            highest = max(compared, key=lambda r: r["response_rate"])
            warnings.append(
                f"non-response bias: response rates differ by segment (from {lowest['response_rate']:.0%} in "
                f"{lowest['segment']} to {highest['response_rate']:.0%} in {highest['segment']}, chi-square "
                f"p = {p_value:.3g}); overall figures lean towards the segments that answered more, so read them "
                "by segment"
            )
    return rows, warnings


def analyse_survey(
    db: AppDatabase,
    survey_id: str,
    *,
    spend: Mapping[str, Decimal] | None = None,
    theme_method: ThemeMethod = "auto",
    encoder: SentenceEncoder | None = None,
    n_themes: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """Response rates, NPS, CSAT, ratings, choices and open-text themes of a survey.

    ``spend`` (customer key → spend) values the detractors among the answers linked to customers.
    """
    with survey_store(db) as store:
        survey = _survey(store, survey_id)
        invitations = store.invitations(survey_id)
        responses = store.responses(survey_id)
        answers = [(r, a) for r in responses for a in r.answers]
        rates, warnings = _response_rates(invitations)
        questions = [_analyse_question(q, answers, theme_method, encoder, n_themes, seed) for q in survey.questions]
        by_segment = _nps_by_segment(survey.questions, answers)
        linked = _linked_value(survey.questions, answers, spend or {})
        answered = sum(1 for inv in invitations if inv.answered)
        return {
            **{k: v for k, v in survey_summary(survey).items() if k != "questions"},
            "invited": len(invitations),
            "responses": len(responses),
            "response_rate": round(answered / len(invitations), 4) if invitations else None,
            "response_rate_by_segment": rates,
            "warnings": warnings,
            "questions": questions,
            "nps_by_segment": by_segment,
            "linked_customers": linked,
        }


def _scores(question: SurveyQuestion, answers: Sequence[tuple[SurveyResponse, SurveyAnswer]]) -> list[int]:
    return [a.number for _, a in answers if a.question_id == question.question_id and a.number is not None]


def _analyse_question(
    question: SurveyQuestion,
    answers: Sequence[tuple[SurveyResponse, SurveyAnswer]],
    theme_method: ThemeMethod,
    encoder: SentenceEncoder | None,
    n_themes: int,
    seed: int,
) -> dict[str, Any]:
    own = [a for _, a in answers if a.question_id == question.question_id]
    result: dict[str, Any] = {
        "position": question.position,
        "kind": question.kind,
        "text": question.text,
        "answers": sum(1 for a in own if not a.dont_know),
        "dont_know": sum(1 for a in own if a.dont_know),
    }
    scores = _scores(question, answers)
    if question.kind == "nps":
        result["nps"] = net_promoter_score(scores)
    elif question.kind == "csat":
        result["csat"] = customer_satisfaction(scores)
    elif question.kind == "rating":
        result["rating"] = {
            "mean": round(sum(scores) / len(scores), 3) if scores else None,
            "distribution": {str(k): v for k, v in sorted(Counter(scores).items())},
        }
    elif question.kind in ("single_choice", "multi_choice"):
        counts = Counter(choice for a in own for choice in (a.choices or []))
        given = result["answers"]
        result["choices"] = [
            {"option": o, "count": counts.get(o, 0), "share": round(counts.get(o, 0) / given, 4) if given else None}
            for o in question.options
        ]
    else:
        texts = [a.text for a in own if a.text]
        items = [FeedbackItem(f"answer-{i}", t) for i, t in enumerate(texts)]
        themes = mine_themes(
            items, analyse_sentiment(texts), n_themes=n_themes, seed=seed, method=theme_method, encoder=encoder
        )
        result["themes"] = themes.as_dict()
    return result


def _first_nps(questions: Sequence[SurveyQuestion]) -> SurveyQuestion | None:
    return next((q for q in questions if q.kind == "nps"), None)


def _nps_by_segment(
    questions: Sequence[SurveyQuestion], answers: Sequence[tuple[SurveyResponse, SurveyAnswer]]
) -> list[dict[str, Any]]:
    question = _first_nps(questions)
    if question is None:
        return []
    by_segment: dict[str, list[int]] = {}
    for response, answer in answers:
        if answer.question_id == question.question_id and answer.number is not None:
            by_segment.setdefault(response.segment or "unknown", []).append(answer.number)
    return [{"segment": s, **net_promoter_score(v)} for s, v in sorted(by_segment.items())]


def _linked_value(
    questions: Sequence[SurveyQuestion],
    answers: Sequence[tuple[SurveyResponse, SurveyAnswer]],
    spend: Mapping[str, Decimal],
) -> dict[str, Any]:
    """Answers linked (with consent) to customers, and the spend of linked NPS detractors."""
    linked = {r.response_id for r, _ in answers if r.customer_key}
    question = _first_nps(questions)
    detractors: set[str] = set()
    for response, answer in answers:
        is_nps = question is not None and answer.question_id == question.question_id
        if is_nps and response.customer_key and answer.number is not None and answer.number <= 6:
            detractors.add(response.customer_key)
    return {
        "responses": len(linked),
        "detractors": len(detractors),
        "detractor_spend": total_spend(spend, detractors),
    }
