"""Sub-commands for surveys that ask well: ``survey lint|create|list|sample|export|remind|results|close``."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table

from shoplens.appdb import AppDatabase
from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._output import emit_json, stderr, stdout
from shoplens.cli._voice import MethodOption, theme_method
from shoplens.config import Settings
from shoplens.errors import InputError, UnreadableFileError
from shoplens.privacy import csv_record
from shoplens.warehouse import connect, warehouse_exists

survey_app = typer.Typer(
    name="survey",
    help="Surveys that ask well: lint questions, create, sample, export, remind, and analyse the answers.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(survey_app, name="survey")

BaseUrlOption = Annotated[
    str,
    typer.Option(
        "--base-url", envvar="SHOPLENS_PUBLIC_URL", help="Public address of `shoplens serve`, for answer links."
    ),
]
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def _app_db(config: Settings) -> AppDatabase:
    config.ensure_home()
    return AppDatabase.for_store(config)


@survey_app.command("lint")
def lint_command(
    questions: Annotated[list[str], typer.Argument(help="Question texts, each in quotes.")],
    as_json: JsonOption = False,
) -> None:
    """Check survey questions for wording that makes answers worthless, with a reason and a better wording.

    Answer options written with a question ("(1-5, or not applicable)", "Yes / No / Don't remember") are read
    apart from it, and standard NPS, CSAT and CES wordings are sound. Flags questions she cannot answer (far-past
    recall, what only we know, hypothetical prices, ratings without a "don't know"), vague ones and jargon, leading
    wording, assumptions and unbalanced scales, product-centric and "my company" questions, sales pitches,
    arguments against a competitor's sales model, debating her choices, and two questions in one. Where no rule
    matches, a learned second opinion (with the embeddings extra) flags questions that read like flawed ones;
    ``method`` in the JSON says whether it ran.

    Example: shoplens survey lint "Don't you agree that our delivery is the fastest?" --json
    """
    from shoplens.voice import lint_document, lint_method, lint_questions

    results = lint_questions(questions)
    if as_json:
        emit_json(lint_document(results))
        return
    for result in results:
        stdout.print(f"{'ok  ' if result.ok else 'FIX '} {result.question}", markup=False)
        for problem in result.problems:
            stdout.print(f"     {problem.rule}: {problem.reason}", markup=False)
            stdout.print(f"     try: {problem.suggestion}", markup=False)
    if lint_method() == "rules":
        stdout.print("(rules only: the learned second opinion needs pip install 'shoplens[embeddings]')", markup=False)


@survey_app.command("create")
def create_command(
    ctx: typer.Context,
    definition: Annotated[Path, typer.Argument(help="Survey definition (YAML), see the README.")],
    strict: Annotated[bool, typer.Option("--strict", help="Refuse questions the linter flags.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a survey (a draft) from a YAML definition; every question is linted.

    The definition names the questions (nps, csat, rating, single_choice, multi_choice, open_text), the target
    segments and lifecycle states, the sample size and contact cap, the response window, reminders, and whether
    answers are anonymous or linked with the customer's consent.
    """
    from shoplens.voice import create_survey, parse_survey_spec

    try:
        raw = yaml.safe_load(definition.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UnreadableFileError(f"{definition}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError:
        raise InputError(f"{definition}: not valid YAML") from None
    if not isinstance(raw, dict):
        raise InputError(f"{definition}: a survey definition is a YAML mapping")
    spec = parse_survey_spec(raw)
    db = _app_db(settings(ctx))
    try:
        survey_id, lint = create_survey(db, spec, strict=strict)
    finally:
        db.close()
    document = {"survey_id": survey_id, "status": "draft", "lint": [r.as_dict() for r in lint]}
    if as_json:
        emit_json(document)
        return
    stdout.print(f"created survey {survey_id} (draft); next: shoplens survey sample {survey_id}")
    for result in lint:
        for problem in result.problems:
            stdout.print(f"warning: {result.question}: {problem.rule}: {problem.reason}", markup=False)


@survey_app.command("list")
def list_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the surveys with their status, targeting and questions."""
    from shoplens.voice import list_surveys

    db = _app_db(settings(ctx))
    try:
        surveys = list_surveys(db)
    finally:
        db.close()
    if as_json:
        emit_json({"surveys": surveys})
        return
    table = Table("survey", "name", "status", "questions", "closes")
    for s in surveys:
        table.add_row(s["survey_id"], s["name"], s["status"], str(len(s["questions"])), s["closes_at"] or "")
    stdout.print(table)


@survey_app.command("sample")
def sample_command(
    ctx: typer.Context, survey_id: Annotated[str, typer.Argument()], as_json: JsonOption = False
) -> None:
    """Draw the survey's recipients (a seeded random sample of the target) and open the answer window.

    Customers asked by any survey within the contact cap are left out, and so are customers who withdrew consent
    to analytics; a survey for consented customers only reads marketing consent as it stands now. Each recipient
    gets a one-time answer link.
    """
    from shoplens.privacy import consent_book
    from shoplens.voice import customer_profiles, sample_survey

    config = settings(ctx)
    db = _app_db(config)
    try:
        with connect(config, read_only=True) as warehouse:
            profiles = customer_profiles(
                warehouse.backend,
                zone=config.timezone,
                marketing=consent_book(db, "marketing"),
                analytics=consent_book(db, "analytics"),
            )
        report = sample_survey(db, survey_id, profiles, secret=config.store_secret())
    finally:
        db.close()
    if as_json:
        emit_json(report.as_dict())
        return
    stdout.print(
        f"sampled {report.sampled:,} of {report.targeted:,} targeted customers "
        f"({report.recently_contacted:,} left out by the contact cap); open until {report.closes_at:%Y-%m-%d}"
    )


def _write_recipients(
    config: Settings,
    survey_id: str,
    out: Path,
    base_url: str,
    contacts: bool,
    invitation_ids: list[str] | None,
    purpose: str,
) -> dict[str, Any]:
    from shoplens.privacy import audit_sink, consent_book
    from shoplens.privacy import contacts as vault_contacts
    from shoplens.voice import recipients

    db = _app_db(config)
    try:
        rows = recipients(db, survey_id, secret=config.store_secret(), base_url=base_url, invitation_ids=invitation_ids)
        columns = ["customer_key", "segment", "lifecycle", "answer_url", "reminders_sent"]
        release = None
        if contacts:
            with connect(config, read_only=True) as warehouse:
                release = vault_contacts(
                    warehouse.backend,
                    [r["customer_key"] for r in rows],
                    purpose=purpose,
                    action="survey.contacts_export",
                    audit=audit_sink(db, actor="cli", secret=config.store_secret()),
                    consent=consent_book(db, "marketing"),
                    keys=warehouse.vault_keys(),
                    context={"survey_id": survey_id, "file": out.name},
                )
            emails = {contact.customer_key: contact.email for contact in release.contacts}
            rows = [{**r, "email": emails[r["customer_key"]]} for r in rows if r["customer_key"] in emails]
            columns.append("email")
    finally:
        db.close()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(csv_record(row) for row in rows)
        if contacts:
            out.chmod(0o600)  # personal data: readable by the owner only
    except OSError as exc:
        raise UnreadableFileError(f"{out}: cannot write ({exc.strerror})") from None
    if release is not None:
        entry_id = release.audit_entry.id
    else:  # pseudonymous keys and one-time answer links: whoever holds a link answers as that customer
        from shoplens.cli._audit import audit_entry

        entry_id = audit_entry(
            config, "survey.recipients_export", {"survey_id": survey_id, "file": out.name, "recipients": len(rows)}
        )
    return {
        "survey_id": survey_id,
        "path": str(out),
        "recipients": len(rows),
        "left_out_without_consent": release.left_out if release is not None else 0,
        "audit_entry": entry_id,
    }


ContactsOption = Annotated[
    bool,
    typer.Option(
        "--contacts", help="Add e-mail addresses from the vault (marketing consent only; recorded in the audit log)."
    ),
]


@survey_app.command("export")
def export_command(
    ctx: typer.Context,
    survey_id: Annotated[str, typer.Argument()],
    out: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    base_url: BaseUrlOption = DEFAULT_BASE_URL,
    contacts: ContactsOption = False,
    as_json: JsonOption = False,
) -> None:
    """Write the recipients to a CSV: pseudonymous key, segment, stage and one-time answer link.

    With --contacts the file also carries e-mail addresses from the vault, for customers who agreed to marketing
    only (the others are left out and counted); such a file is personal data, written readable by you only,
    and each such export is an entry in the audit log (how many addresses, for which survey; never an address).
    """
    document = _write_recipients(settings(ctx), survey_id, out, base_url, contacts, None, "survey invitations")
    if as_json:
        emit_json(document)
    else:
        stdout.print(f"wrote {document['recipients']:,} recipients to {out}")


@survey_app.command("remind")
def remind_command(
    ctx: typer.Context,
    survey_id: Annotated[str, typer.Argument()],
    out: Annotated[Path, typer.Option("--out", help="CSV file of the recipients to remind.")],
    base_url: BaseUrlOption = DEFAULT_BASE_URL,
    contacts: ContactsOption = False,
    as_json: JsonOption = False,
) -> None:
    """Write the recipients due a reminder (no answer yet, reminders left, window open) and count them reminded."""
    from shoplens.voice import due_reminders

    config = settings(ctx)
    db = _app_db(config)
    try:
        due = due_reminders(db, survey_id)
    finally:
        db.close()
    document = _write_recipients(config, survey_id, out, base_url, contacts, due, "survey reminders")
    if as_json:
        emit_json(document)
    else:
        stdout.print(f"wrote {document['recipients']:,} reminders to {out}")


@survey_app.command("results")
def results_command(
    ctx: typer.Context,
    survey_id: Annotated[str, typer.Argument()],
    method: MethodOption = "auto",
    as_json: JsonOption = False,
) -> None:
    """Analyse the answers: response rate by segment (with a non-response bias warning), NPS with its 95 %
    interval, CSAT, ratings, choices, and themes of the open answers."""
    from shoplens.voice import analyse_survey, customer_spend

    config = settings(ctx)
    spend: dict[str, Decimal] = {}
    if warehouse_exists(config):
        with connect(config, read_only=True) as warehouse:
            spend = customer_spend(warehouse.backend)
    db = _app_db(config)
    try:
        document = analyse_survey(db, survey_id, spend=spend, theme_method=theme_method(method))
    finally:
        db.close()
    if as_json:
        emit_json(document)
        return
    rate = document["response_rate"]
    stdout.print(
        f"{document['name']}: {document['responses']:,} answers of {document['invited']:,} asked ({rate or 0:.0%})"
    )
    for warning in document["warnings"]:
        stderr.print(f"warning: {warning}", markup=False)
    for question in document["questions"]:
        stdout.print(f"{question['position']}. {question['text']}", markup=False)
        if "nps" in question and question["nps"]["n"]:
            nps = question["nps"]
            stdout.print(f"    NPS {nps['nps']:+.0f} (95% {nps['ci_low']:+.0f} to {nps['ci_high']:+.0f}, n={nps['n']})")
        if "csat" in question and question["csat"]["n"]:
            stdout.print(f"    CSAT {question['csat']['csat']:.0%} (n={question['csat']['n']})")


@survey_app.command("close")
def close_command(ctx: typer.Context, survey_id: Annotated[str, typer.Argument()], as_json: JsonOption = False) -> None:
    """Close a survey: its answer links stop working."""
    from shoplens.voice import close_survey

    db = _app_db(settings(ctx))
    try:
        close_survey(db, survey_id)
    finally:
        db.close()
    if as_json:
        emit_json({"survey_id": survey_id, "status": "closed"})
    else:
        stdout.print(f"closed {survey_id}")
