"""Surveys end to end (create, sample, export, answer through the web form, analyse) and their rules: one-time
tokens, response window, reminders, contact caps, consent, non-response bias; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from statsmodels.stats.proportion import proportion_confint
from tests.conftest import fetch, fetch_clear

from shoplens.appdb import AppDatabase, SurveyInvitation, SurveyResponse
from shoplens.config import Settings
from shoplens.errors import InputError
from shoplens.voice import (
    SurveyFormError,
    analyse_survey,
    create_survey,
    due_reminders,
    invitation_token,
    parse_survey_spec,
    sample_survey,
    submit_response,
    survey_form,
)
from shoplens.web import create_app

SURVEY_YAML = """
name: After your order
anonymity: linked-with-consent
target: {segments: [Champions, Loyal, Potential loyalists, At risk, Hibernating, Lost, About to sleep]}
sample: {size: 30, contact_cap_days: 90, seed: 4}
response_window_days: 14
reminders: {after_days: 5, max: 1}
questions:
  - {kind: nps, text: "How likely are you to recommend us to a friend or colleague?"}
  - {kind: csat, text: "How satisfied are you with your most recent order?"}
  - kind: single_choice
    text: "Which payment method did you use for your last order?"
    options: [Card, PayPal, Bank transfer]
    dont_know: true
  - {kind: open_text, text: "What, if anything, almost stopped you from ordering today?", required: false}
"""
NPS = [10, 9, 9, 8, 7, 6, 3, 10, 9, 0, 10, 10, 8, 5, 9, 9, 7, 2, 10, 6]
CSAT = [5, 4, 3, 5, 2, 4, 4, 5, 1, 5, 4, 3, 5, 5, 4, 2, 5, 4, 3, 5]
PAYMENT = ["Card", "PayPal", "Card", "__dont_know__", "Card"] * 4
OPEN = [
    "The delivery cost was higher than I expected.",
    "Shipping costs at checkout nearly put me off.",
    "",
    "I could not find my size in stock.",
    "The size guide was confusing for this dress.",
] * 4


def _token(url: str) -> str:
    return url.rsplit("/s/", 1)[1]


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_a_survey_end_to_end(cli: Callable[..., Any], demo_copy: Path, tmp_path: Path) -> None:
    home = demo_copy
    definition = tmp_path / "survey.yaml"
    definition.write_text(SURVEY_YAML)
    created = cli("survey", "create", str(definition), "--strict", "--json", home_dir=home)
    assert created.exit_code == 0, created.stderr
    survey_id = created.json()["survey_id"]
    assert all(r["ok"] for r in created.json()["lint"])

    sampled = cli("survey", "sample", survey_id, "--json", home_dir=home).json()
    assert sampled["sampled"] == 30
    assert sum(sampled["by_segment"].values()) == 30

    recipients_file = tmp_path / "recipients.csv"
    exported = cli(
        "survey",
        "export",
        survey_id,
        "--out",
        str(recipients_file),
        "--base-url",
        "http://testserver",
        "--json",
        home_dir=home,
    ).json()
    recipients = _read_csv(recipients_file)
    assert exported["recipients"] == len(recipients) == 30
    assert list(recipients[0]) == ["customer_key", "segment", "lifecycle", "answer_url", "reminders_sent"]
    assert "@" not in recipients_file.read_text()
    keys = [r["customer_key"] for r in recipients]
    known = {k for (k,) in fetch(home, "SELECT customer_key FROM customers")}
    assert set(keys) <= known

    contacts_file = tmp_path / "contacts.csv"
    with_contacts = cli(
        "survey", "export", survey_id, "--out", str(contacts_file), "--contacts", "--json", home_dir=home
    ).json()
    consenting = fetch_clear(
        home,
        "SELECT p.customer_key, p.email FROM customer_pii p JOIN customers c USING (customer_key) "
        "WHERE c.consent_marketing AND p.customer_key IN (SELECT unnest(?))",
        [keys],
    )
    assert {(r["customer_key"], r["email"]) for r in _read_csv(contacts_file)} == set(consenting)
    assert with_contacts["left_out_without_consent"] == 30 - len(consenting)
    assert contacts_file.stat().st_mode & 0o077 == 0

    client = TestClient(create_app(Settings(home=home)))
    page = client.get(f"/s/{_token(recipients[0]['answer_url'])}")
    assert page.status_code == 200
    assert "How likely are you to recommend us to a friend or colleague?" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    question_ids = [int(q) for q in dict.fromkeys(re.findall(r'name="q(\d+)"', page.text))]
    assert len(question_ids) == 4

    answered = recipients[:20]
    linked_keys = set()
    for i, recipient in enumerate(answered):
        token = _token(recipient["answer_url"])
        form = {
            f"q{question_ids[0]}": str(NPS[i]),
            f"q{question_ids[1]}": str(CSAT[i]),
            f"q{question_ids[2]}": PAYMENT[i],
        }
        if OPEN[i]:
            form[f"q{question_ids[3]}"] = OPEN[i]
        if i % 2 == 0:
            form["link_answers"] = "yes"
            linked_keys.add(recipient["customer_key"])
        if i == 0:
            wrong = client.post(f"/s/{token}", data={**form, f"q{question_ids[0]}": "11"})
            assert wrong.status_code == 422
            assert "question 1: choose a whole number from 0 to 10" in wrong.text
        done = client.post(f"/s/{token}", data=form)
        assert done.status_code == 200, done.text
        assert "Thank you" in done.text
    again = client.post(f"/s/{_token(answered[0]['answer_url'])}", data={f"q{question_ids[0]}": "10"})
    assert again.status_code == 410
    assert "already been used" in again.text

    result = cli("survey", "results", survey_id, "--method", "keywords", "--json", home_dir=home)
    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert (report["invited"], report["responses"], report["response_rate"]) == (30, 20, round(20 / 30, 4))
    by_question = {q["position"]: q for q in report["questions"]}

    # NPS: the mean of +1 (9-10), 0 (7-8), -1 (0-6) × 100, its standard error from that variable's variance.
    scored = np.array([1 if s >= 9 else -1 if s <= 6 else 0 for s in NPS], dtype=float)
    nps = by_question[1]["nps"]
    assert nps["nps"] == pytest.approx(100 * scored.mean(), abs=0.01)
    half_width = 1.959964 * np.sqrt(scored.var() / len(scored)) * 100
    assert nps["ci_low"] == pytest.approx(100 * scored.mean() - half_width, abs=0.01)
    assert nps["ci_high"] == pytest.approx(100 * scored.mean() + half_width, abs=0.01)
    assert (nps["promoters"], nps["passives"], nps["detractors"]) == (10, 4, 6)

    satisfied = sum(1 for s in CSAT if s >= 4)
    low, high = proportion_confint(satisfied, len(CSAT), alpha=0.05, method="wilson")
    csat = by_question[2]["csat"]
    assert csat["csat"] == round(satisfied / len(CSAT), 4)
    assert (csat["ci_low"], csat["ci_high"]) == (round(low, 4), round(high, 4))
    assert csat["mean"] == round(float(np.mean(CSAT)), 3)

    choices = {c["option"]: c["count"] for c in by_question[3]["choices"]}
    assert choices == {"Card": PAYMENT.count("Card"), "PayPal": PAYMENT.count("PayPal"), "Bank transfer": 0}
    assert by_question[3]["dont_know"] == PAYMENT.count("__dont_know__")
    assert by_question[4]["answers"] == sum(1 for t in OPEN[:20] if t)
    assert by_question[4]["themes"]["texts"] == sum(1 for t in OPEN[:20] if t)

    segment_of = {r["customer_key"]: r["segment"] for r in recipients}
    expected_rates = (
        pd.DataFrame({"segment": [r["segment"] for r in recipients], "answered": [r in answered for r in recipients]})
        .groupby("segment")["answered"]
        .agg(["count", "sum"])
    )
    assert {r["segment"]: (r["invited"], r["responses"]) for r in report["response_rate_by_segment"]} == {
        s: (int(row["count"]), int(row["sum"])) for s, row in expected_rates.iterrows()
    }
    assert report["linked_customers"]["responses"] == len(linked_keys)

    engine = create_engine(Settings(home=home).app_database_url)
    with engine.connect() as con:
        stored = con.execute(text("SELECT customer_key, segment FROM survey_responses")).fetchall()
    engine.dispose()
    assert {k for k, _ in stored if k is not None} == linked_keys
    assert sorted(s for _, s in stored) == sorted(segment_of[r["customer_key"]] for r in answered)

    owner = TestClient(
        create_app(Settings(home=home), api_token="t" * 40), headers={"Authorization": "Bearer " + "t" * 40}
    )
    listing = owner.get("/surveys").text
    assert f'href="/surveys?survey={survey_id}"' in listing
    shown = owner.get("/surveys", params={"survey": survey_id}).text
    assert f'<strong id="response-rate">{report["response_rate"]}</strong>' in shown
    assert f'<span class="nps">NPS {nps["nps"]}</span> (95% interval {nps["ci_low"]} to {nps["ci_high"]}' in shown
    assert f'<span class="csat">CSAT {csat["csat"]}</span>' in shown
    assert "There is no survey &#39;nope&#39;." in owner.get("/surveys", params={"survey": "nope"}).text


@pytest.fixture
def profiles() -> pd.DataFrame:
    """Sixty made-up customers: forty Champions, twenty Lost; every third one agreed to marketing."""
    keys = [f"c_{i:03d}" for i in range(60)]
    return pd.DataFrame(
        {
            "customer_key": keys,
            "segment": ["Champions"] * 40 + ["Lost"] * 20,
            "lifecycle": ["active"] * 40 + ["lapsed"] * 20,
            "consent_marketing": [i % 3 == 0 for i in range(60)],
        }
    )


def _spec(**changes: Any) -> Any:
    raw: dict[str, Any] = {
        "name": "Check",
        "sample": {"size": 60, "contact_cap_days": 30, "seed": 1},
        "response_window_days": 10,
        "reminders": {"after_days": 3, "max": 1},
        "questions": [{"kind": "nps", "text": "How likely are you to recommend us to a friend or colleague?"}],
    }
    raw.update(changes)
    return parse_survey_spec(raw)


SECRET = b"s" * 32
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _tokens(db: AppDatabase, survey_id: str) -> dict[str, str]:
    with db.session() as session:
        invitations = session.scalars(select(SurveyInvitation).where(SurveyInvitation.survey_id == survey_id))
        return {inv.customer_key: invitation_token(SECRET, inv.invitation_id) for inv in invitations}


def _exercise_survey_rules(db: AppDatabase, profiles: pd.DataFrame) -> None:
    survey_id, _ = create_survey(db, _spec(target={"segments": ["Champions", "Lost"]}), now=START)
    report = sample_survey(db, survey_id, profiles, secret=SECRET, now=START)
    assert (report.sampled, report.by_segment) == (60, {"Champions": 40, "Lost": 20})
    tokens = _tokens(db, survey_id)
    first_question = survey_form(db, tokens["c_000"], now=START).questions[0].question_id
    for key in sorted(tokens)[:30]:  # c_000-c_029 answer: 30 of the 40 Champions; no Lost customer does
        submit_response(db, tokens[key], {first_question: ["10"]}, now=START + timedelta(days=1))
    with pytest.raises(SurveyFormError, match="already been used"):
        submit_response(db, tokens["c_000"], {first_question: ["0"]}, now=START + timedelta(days=1))
    result = analyse_survey(db, survey_id)
    assert result["response_rate"] == 0.5
    assert any(
        w.startswith("non-response bias: response rates differ by segment (from 0% in Lost to 75% in Champions")
        for w in result["warnings"]
    )
    assert result["questions"][0]["nps"]["nps"] == 100.0
    assert result["linked_customers"]["responses"] == 0, "an anonymous survey links nobody"

    # Reminders: after 3 days, once, to those who did not answer; never after the window closes.
    assert due_reminders(db, survey_id, now=START + timedelta(days=2)) == []
    reminded = due_reminders(db, survey_id, now=START + timedelta(days=3))
    assert len(reminded) == 30
    assert due_reminders(db, survey_id, now=START + timedelta(days=7)) == []
    with pytest.raises(SurveyFormError, match="this survey has closed"):
        survey_form(db, tokens["c_059"], now=START + timedelta(days=10))
    with pytest.raises(SurveyFormError, match="this survey link is not valid"):
        survey_form(db, "not-a-token", now=START)

    # Contact cap: within 30 days of the last contact (reminders count), nobody is asked again.
    second, _ = create_survey(db, _spec(sample={"size": 10, "contact_cap_days": 30, "seed": 2}), now=START)
    capped = sample_survey(db, second, profiles, secret=SECRET, now=START + timedelta(days=20))
    assert (capped.recently_contacted, capped.sampled) == (60, 0)
    third, _ = create_survey(
        db, _spec(target={"consented_only": True}, sample={"size": 5, "contact_cap_days": 30, "seed": 2}), now=START
    )
    # On day 32 the invitations (day 0) are past the cap, the reminders (day 3) are not: of the 20 customers who
    # agreed to marketing (every third), the 10 among the reminded c_030-c_059 are left out.
    later = sample_survey(db, third, profiles, secret=SECRET, now=START + timedelta(days=32))
    assert (later.targeted, later.recently_contacted, later.sampled) == (20, 10, 5)
    with pytest.raises(InputError, match="only a draft survey can be sampled"):
        sample_survey(db, third, profiles, secret=SECRET, now=START)


def test_survey_rules_on_sqlite(tmp_path: Path, profiles: pd.DataFrame) -> None:
    db = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    try:
        _exercise_survey_rules(db, profiles)
    finally:
        db.close()


@pytest.mark.postgres
def test_survey_rules_on_postgres(postgres_url: str, profiles: pd.DataFrame) -> None:
    db = AppDatabase(postgres_url)
    try:
        _exercise_survey_rules(db, profiles)
    finally:
        db.close()


def test_sampling_is_deterministic_for_a_seed(tmp_path: Path, profiles: pd.DataFrame) -> None:
    drawn = []
    for name in ("a", "b"):
        db = AppDatabase(f"sqlite:///{tmp_path / f'{name}.db'}")
        survey_id, _ = create_survey(db, _spec(sample={"size": 7, "seed": 9}))
        sample_survey(db, survey_id, profiles, secret=SECRET)
        drawn.append(sorted(_tokens(db, survey_id)))
        db.close()
    assert drawn[0] == drawn[1]
    assert len(drawn[0]) == 7


def test_linked_answers_need_the_customers_consent(tmp_path: Path, profiles: pd.DataFrame) -> None:
    db = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    survey_id, _ = create_survey(db, _spec(anonymity="linked-with-consent", sample={"size": 2, "seed": 0}))
    sample_survey(db, survey_id, profiles, secret=SECRET)
    (first, first_token), (_second, second_token) = sorted(_tokens(db, survey_id).items())
    question = survey_form(db, first_token).questions[0].question_id
    submit_response(db, first_token, {question: ["9"]}, link_to_customer=True)
    submit_response(db, second_token, {question: ["3"]}, link_to_customer=False)
    with db.session() as session:
        linked = sorted((r.customer_key or "") for r in session.scalars(select(SurveyResponse)))
    db.close()
    assert linked == sorted(["", first])


def test_a_strict_create_refuses_flagged_questions(tmp_path: Path) -> None:
    db = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    spec = _spec(questions=[{"kind": "rating", "text": "How satisfied were you with our live chat?"}])
    with pytest.raises(InputError, match="question 1: dont-know: not every customer has used 'live chat'"):
        create_survey(db, spec, strict=True)
    db.close()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"questions": [{"kind": "single_choice", "text": "Which one?", "options": ["A"]}]},
            "survey definition: questions.0: Value error, a choice question needs at least two options",
        ),
        (
            {"target": {"segments": ["Whales"]}},
            "survey definition: target.segments: Value error, unknown segment(s) Whales",
        ),
        ({"anonymity": "public"}, "survey definition: anonymity: Input should be 'anonymous' or 'linked-with-consent'"),
    ],
)
def test_bad_definitions_say_where(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as caught:
        _spec(**change)
    assert str(caught.value).startswith(message)
