"""The web app: one JSON error shape, 401 on every non-public API route, the public answer API, OpenAPI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shoplens.appdb import AppDatabase, SurveyInvitation
from shoplens.config import Settings
from shoplens.voice import create_survey, invitation_token, parse_survey_spec, sample_survey
from shoplens.web import create_app

PUBLIC_ROUTES = {"/api/v1/health", "/api/v1/survey-answers/{token}"}
API_TOKEN = "test-api-token-of-some-length"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def client(home: Path) -> TestClient:
    return TestClient(create_app(Settings(home=home), api_token=API_TOKEN))


def _open_survey(home: Path) -> tuple[str, list[str]]:
    """An open survey of three made-up customers; returns its id and the customers' answer tokens."""
    settings = Settings(home=home)
    db = AppDatabase(settings.app_database_url)
    spec = parse_survey_spec(
        {
            "name": "Quick question",
            "sample": {"size": 3},
            "questions": [
                {"kind": "csat", "text": "How satisfied are you with your most recent order?"},
                {"kind": "multi_choice", "text": "Which of these did you use?", "options": ["App", "Website"]},
            ],
        }
    )
    survey_id, _ = create_survey(db, spec)
    profiles = pd.DataFrame(
        {
            "customer_key": ["a", "b", "c"],
            "segment": ["New"] * 3,
            "lifecycle": ["new"] * 3,
            "consent_marketing": [True] * 3,
        }
    )
    secret = settings.store_secret()
    sample_survey(db, survey_id, profiles, secret=secret)
    with db.session() as session:
        ids = list(session.scalars(select(SurveyInvitation.invitation_id).order_by(SurveyInvitation.customer_key)))
    db.close()
    return survey_id, [invitation_token(secret, i) for i in ids]


def test_every_non_public_api_route_answers_401_with_the_error_shape(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    private = [(path, method) for path, methods in paths.items() if path not in PUBLIC_ROUTES for method in methods]
    assert len(private) >= 2, "there are non-public routes to check"
    assert all(path.startswith("/api/v1/") for path, _ in private)
    for path, method in private:
        response = client.request(method.upper(), path.replace("{survey_id}", "sv-x"))
        assert response.status_code == 401, path
        assert response.json() == {"error": {"code": "unauthorized", "message": "credentials required"}}
        assert response.headers["www-authenticate"] == "Bearer"


def test_with_credentials_the_owner_sees_surveys_and_results(client: TestClient, home: Path) -> None:
    survey_id, _ = _open_survey(home)
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    listed = client.get("/api/v1/surveys", headers=auth)
    assert listed.status_code == 200
    assert [s["survey_id"] for s in listed.json()["surveys"]] == [survey_id]
    results = client.get(f"/api/v1/surveys/{survey_id}/results", headers=auth)
    assert (results.status_code, results.json()["invited"]) == (200, 3)
    missing = client.get("/api/v1/surveys/sv-nope/results", headers=auth)
    assert (missing.status_code, missing.json()) == (
        404,
        {"error": {"code": "not_found", "message": "no survey 'sv-nope'"}},
    )
    wrong = client.get("/api/v1/surveys", headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401


def test_the_public_answer_api_takes_each_token_once(client: TestClient, home: Path) -> None:
    _, tokens = _open_survey(home)
    form = client.get(f"/api/v1/survey-answers/{tokens[0]}")
    assert form.status_code == 200
    questions = form.json()["questions"]
    assert [q["kind"] for q in questions] == ["csat", "multi_choice"]
    assert form.headers["referrer-policy"] == "no-referrer"
    body = {"answers": {str(questions[0]["question_id"]): 4, str(questions[1]["question_id"]): ["App", "Website"]}}
    first = client.post(f"/api/v1/survey-answers/{tokens[0]}", json=body)
    assert (first.status_code, first.json()) == (201, {"status": "recorded"})
    second = client.post(f"/api/v1/survey-answers/{tokens[0]}", json=body)
    assert second.status_code == 410
    assert second.json() == {
        "error": {"code": "gone", "message": "this survey link has already been used; thank you for answering"}
    }
    bad = client.post(f"/api/v1/survey-answers/{tokens[1]}", json={"answers": {str(questions[0]["question_id"]): 9}})
    assert bad.status_code == 422
    assert bad.json() == {
        "error": {"code": "invalid_request", "message": "question 1: choose a whole number from 1 to 5"}
    }
    shapeless = client.post(f"/api/v1/survey-answers/{tokens[1]}", json={"answer": {}})
    assert shapeless.status_code == 422
    assert set(shapeless.json()["error"]) == {"code", "message"}
    unknown = client.get("/api/v1/survey-answers/no-such-token")
    assert unknown.json() == {"error": {"code": "not_found", "message": "this survey link is not valid"}}
    assert client.get("/api/v1/nothing-here").json()["error"]["code"] == "unauthorized", "nothing is revealed"
    found = client.get("/api/v1/nothing-here", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert (found.status_code, found.json()["error"]["code"]) == (404, "not_found")


def test_openapi_and_health_are_public(client: TestClient) -> None:
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    assert "/api/v1/survey-answers/{token}" in spec.json()["paths"]
    assert client.get("/api/v1/health").json()["status"] == "ok"
    assert client.get("/").status_code == 200


def test_the_lint_api_answers_as_the_command_line(client: TestClient, cli: Any) -> None:
    questions = [
        "Don't you agree that our delivery is fast and cheap?",
        "How satisfied are you with your most recent order?",
    ]
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    answer = client.post("/api/v1/surveys/lint", json={"questions": questions}, headers=auth)
    assert answer.status_code == 200, answer.text
    by_cli = cli("survey", "lint", *questions, "--json")
    assert by_cli.exit_code == 0, by_cli.stderr
    assert answer.json() == by_cli.json()
    assert [r["ok"] for r in answer.json()["results"]] == [False, True]
    assert client.post("/api/v1/surveys/lint", json={"questions": []}, headers=auth).status_code == 422
