"""Survey routes: the public answer page (``/s/{token}``) and its API twin, plus the owner's survey results.

The answer page and ``/api/v1/survey-answers/{token}`` are public: the one-time token in the address is the only
credential, it works once, and only while the survey is open. Pages are sent with ``Referrer-Policy: no-referrer``
and ``Cache-Control: no-store`` so the token does not leak to other sites or stay in shared caches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field

from shoplens.voice import (
    DONT_KNOW,
    SurveyForm,
    SurveyFormError,
    analyse_survey,
    lint_document,
    lint_questions,
    list_surveys,
    submit_response,
    survey_form,
)
from shoplens.web._deps import AppDb, CustomerLevel
from shoplens.web._errors import API_PREFIX, ApiError

PRIVATE_PAGE_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
_STATUS = {"unknown": 404, "answered": 410, "closed": 410, "invalid": 422}
_CODE = {"unknown": "not_found", "answered": "gone", "closed": "gone", "invalid": "invalid_request"}
SCALE_LABELS: dict[str, tuple[str, str]] = {
    "nps": ("0 = not at all likely", "10 = extremely likely"),
    "csat": ("1 = very dissatisfied", "5 = very satisfied"),
}


class LintRequest(BaseModel):
    """Survey questions to check (``shoplens survey lint``), up to 200 at a time."""

    model_config = ConfigDict(extra="forbid")

    questions: list[Annotated[str, Field(max_length=2000)]] = Field(min_length=1, max_length=200)


class AnswerSubmission(BaseModel):
    """Answers by question id: a value, a list of values (multiple choice), ``"__dont_know__"`` or null."""

    model_config = ConfigDict(extra="forbid")

    answers: dict[str, str | int | list[str] | None]
    link_answers: bool = False


def _api_error(exc: SurveyFormError) -> ApiError:
    return ApiError(_STATUS[exc.reason], _CODE[exc.reason], str(exc))


def _answers_by_question(raw: Mapping[str, str | int | list[str] | None]) -> dict[int, list[str]]:
    parsed: dict[int, list[str]] = {}
    for key, value in raw.items():
        if not key.isdigit():
            raise SurveyFormError("invalid", f"answers are keyed by question id, not {key[:40]!r}")
        if value is None:
            continue
        parsed[int(key)] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return parsed


routes = APIRouter()


def router() -> APIRouter:
    """The public survey pages and the survey API (templates are the app's, ``app.state.templates``)."""
    return routes


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, context, status_code=status, headers=PRIVATE_PAGE_HEADERS)


def form_page(
    request: Request,
    token: str,
    form: SurveyForm,
    *,
    error: str | None = None,
    given: Mapping[int, Sequence[str]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = {
        "form": form,
        "token": token,
        "error": error,
        "given": given or {},
        "dont_know": DONT_KNOW,
        "scale_labels": SCALE_LABELS,
    }
    return page(request, "survey_form.html", context, status)


@routes.get("/s/{token}", response_class=HTMLResponse, include_in_schema=False)
def answer_page(request: Request, token: str, db: AppDb) -> HTMLResponse:
    try:
        form = survey_form(db, token)
    except SurveyFormError as exc:
        return page(request, "survey_unavailable.html", {"message": str(exc)}, _STATUS[exc.reason])
    return form_page(request, token, form)


@routes.post("/s/{token}", response_class=HTMLResponse, include_in_schema=False)
async def answer_page_submit(request: Request, token: str, db: AppDb) -> HTMLResponse:
    submitted = await request.form()
    given: dict[int, list[str]] = {}
    for key in submitted:
        if key.startswith("q") and key[1:].isdigit():
            given[int(key[1:])] = [str(v) for v in submitted.getlist(key)]
    link = submitted.get("link_answers") == "yes"
    try:
        submit_response(db, token, given, link_to_customer=link)
    except SurveyFormError as exc:
        if exc.reason != "invalid":
            return page(request, "survey_unavailable.html", {"message": str(exc)}, _STATUS[exc.reason])
        return form_page(request, token, survey_form(db, token), error=str(exc), given=given, status=422)
    return page(request, "survey_thanks.html", {})


@routes.get(f"{API_PREFIX}/survey-answers/{{token}}", tags=["surveys (public)"])
def answer_form(token: str, db: AppDb, response: Response) -> dict[str, Any]:
    """The questions behind a one-time survey token (public: the token is the credential)."""
    try:
        form = survey_form(db, token)
    except SurveyFormError as exc:
        raise _api_error(exc) from None
    response.headers.update(PRIVATE_PAGE_HEADERS)
    return form.as_dict()


@routes.post(f"{API_PREFIX}/survey-answers/{{token}}", status_code=201, tags=["surveys (public)"])
def answer_submit(token: str, submission: AnswerSubmission, db: AppDb) -> dict[str, str]:
    """Answer a survey with its one-time token; the token cannot be used again."""
    try:
        submit_response(db, token, _answers_by_question(submission.answers), link_to_customer=submission.link_answers)
    except SurveyFormError as exc:
        raise _api_error(exc) from None
    return {"status": "recorded"}


@routes.get(f"{API_PREFIX}/surveys", dependencies=[CustomerLevel], tags=["surveys"])
def surveys(db: AppDb) -> dict[str, Any]:
    """Every survey with its questions, targeting and status."""
    return {"surveys": list_surveys(db)}


@routes.post(f"{API_PREFIX}/surveys/lint", dependencies=[CustomerLevel], tags=["surveys"])
def lint(body: LintRequest) -> dict[str, Any]:
    """Check draft questions (answer options written with them are read apart) for wording that makes answers
    worthless, each problem with its rule, reason and a suggested rewrite (``shoplens survey lint``)."""
    return lint_document(lint_questions(body.questions))


@routes.get(f"{API_PREFIX}/surveys/{{survey_id}}/results", dependencies=[CustomerLevel], tags=["surveys"])
def survey_results(survey_id: str, db: AppDb) -> dict[str, Any]:
    """Response rates by segment, NPS with its interval, CSAT, choices and open-answer themes."""
    if survey_id not in {s["survey_id"] for s in list_surveys(db)}:
        raise ApiError(404, "not_found", f"no survey {survey_id!r}")
    return analyse_survey(db, survey_id)
