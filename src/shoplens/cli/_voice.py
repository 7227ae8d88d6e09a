"""Sub-commands for the voice of the customer: ``voice sentiment|themes|needs|evaluate`` and ``survey …``.

Each command builds a query or definition, hands it to :mod:`shoplens.voice`, and prints the result: one JSON
document with --json, text otherwise. Heavy libraries (scikit-learn, torch) are imported only when a command runs.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table

from shoplens.appdb import AppDatabase
from shoplens.cli._analytics import query_of, run
from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._output import emit_json, stderr, stdout
from shoplens.config import Settings
from shoplens.errors import InputError, UnreadableFileError
from shoplens.queries import NeedsQuery, NeedsResult, ThemesQuery, ThemesResult
from shoplens.warehouse import Warehouse, connect, warehouse_exists

voice_app = typer.Typer(
    name="voice",
    help="Voice of the customer: sentiment and themes of feedback, hidden needs and silent dissatisfaction.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
survey_app = typer.Typer(
    name="survey",
    help="Surveys that ask well: lint questions, create, sample, export, remind, and analyse the answers.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(voice_app, name="voice")
app.add_typer(survey_app, name="survey")

ThemesOption = Annotated[int, typer.Option("--themes", min=1, max=50, help="Number of themes to find.")]
SeedOption = Annotated[int, typer.Option("--seed", help="Same seed, same sample and same themes.")]
MethodOption = Annotated[
    str,
    typer.Option("--method", help="auto (embeddings when torch is installed), embeddings, or keywords."),
]
SampleOption = Annotated[
    int, typer.Option("--sample", min=1, help="Mine at most this many texts (a seeded random sample).")
]
BaseUrlOption = Annotated[
    str,
    typer.Option(
        "--base-url", envvar="SHOPLENS_PUBLIC_URL", help="Public address of `shoplens serve`, for answer links."
    ),
]
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def _theme_method(value: str) -> Any:
    if value not in ("auto", "embeddings", "keywords"):
        raise InputError(f"--method must be auto, embeddings or keywords, not {value!r}")
    return value


def _read_only(config: Settings) -> Warehouse:
    return connect(config, read_only=True)


def _print_themes(themes: list[dict[str, Any]], title: str) -> None:
    if not themes:
        stdout.print("No themes: no feedback text with at least three words.")
    for number, theme in enumerate(themes, start=1):
        growth = f", growth {theme['growth']:+.0%}" if theme.get("growth") is not None else ""
        stdout.print(
            f"[bold]{title} {number}: {theme['name']}[/bold] — {theme['texts']:,} texts, "
            f"{theme['negative_share']:.0%} negative, {theme['customers']:,} customers, "
            f"value at risk {theme['value_at_risk']:,.2f}{growth}"
        )
        for quote in theme["quotes"]:
            stdout.print(f"    “{quote}”", markup=False)


# --- voice -----------------------------------------------------------------------------------------------------------


@voice_app.command("sentiment")
def sentiment_command(
    text: Annotated[str, typer.Option("--text", help="The text to judge.")],
    method: Annotated[
        str | None, typer.Option("--method", help="vader or tfidf-logreg (default: the better on held-out reviews).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Sentiment of one text: positive, neutral or negative, with a score from -1 to +1.

    The default method is the one with the higher macro-F1 against star ratings on held-out real reviews
    (see `shoplens voice evaluate`).

    Example: shoplens voice sentiment --text "Arrived broken and late, very disappointed." --json
    """
    from shoplens.voice import DEFAULT_SENTIMENT_METHOD, analyse_sentiment

    chosen = method or DEFAULT_SENTIMENT_METHOD
    result = analyse_sentiment([text], chosen)[0]
    if as_json:
        emit_json({**result.as_dict(), "method": chosen})
    else:
        stdout.print(f"{result.label} ({result.score:+.3f}, {chosen})")


@voice_app.command("themes")
def themes_command(
    ctx: typer.Context,
    themes: ThemesOption = 8,
    seed: SeedOption = 0,
    method: MethodOption = "auto",
    sample: SampleOption = 5000,
    source: Annotated[
        str | None, typer.Option("--source", help="Only feedback of this source (review, ticket, survey, return).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Themes in the feedback: what customers write about, with quotes, negative share and value at risk.

    Sentences are grouped by meaning (MiniLM sentence embeddings, or keywords without torch) and each theme is
    named by its most distinctive phrases. Value at risk is the last year's net spend of the customers who wrote
    a negative text in the theme.

    Example: shoplens voice themes --themes 8 --json
    """
    query = query_of(
        ThemesQuery, n_themes=themes, seed=seed, method=_theme_method(method), sample=sample, source=source
    )
    document = run(ctx, query, ThemesResult).model_dump(mode="json")
    if as_json:
        emit_json(document)
        return
    stdout.print(
        f"{document['texts']:,} texts ({document['sampled_from']:,} in the warehouse), method {document['method']}"
    )
    _print_themes(document["themes"], "Theme")


@voice_app.command("needs")
def needs_command(
    ctx: typer.Context,
    themes: ThemesOption = 6,
    seed: SeedOption = 0,
    method: MethodOption = "auto",
    sample: SampleOption = 5000,
    as_json: JsonOption = False,
) -> None:
    """Hidden needs: complaint themes ranked by value at risk, upgrade wishes, and silent dissatisfaction.

    Complaint themes come from critical feedback (negative, or at most 3 stars), ranked by the spend of the
    customers voicing them, their negative share and their growth. Service-upgrade wishes (faster delivery, more
    sizes, other payment methods) are a class of their own. Silent dissatisfaction shows, per RFM segment, the
    customers whose behaviour says what they do not write: rising returns, overdue repeat buyers, checkouts
    abandoned after seeing shipping costs, discount-only buying.

    Example: shoplens voice needs --json
    """
    query = query_of(NeedsQuery, n_themes=themes, seed=seed, method=_theme_method(method), sample=sample)
    document = run(ctx, query, NeedsResult).model_dump(mode="json")
    if as_json:
        emit_json(document)
        return
    stdout.print(f"{document['critical_texts']:,} critical texts of {document['texts']:,}")
    _print_themes(document["complaint_themes"], "Complaint")
    for wish in document["upgrade_wishes"]:
        stdout.print(f"[bold]Wish: {wish['name']}[/bold] — {wish['texts']:,} texts, {wish['customers']:,} customers")
        for quote in wish["quotes"]:
            stdout.print(f"    “{quote}”", markup=False)
    silent = document["silent_dissatisfaction"]
    if silent:
        table = Table("signal", "customers", "spend (last year)", "rule")
        for name, signal in silent["signals"].items():
            table.add_row(name, f"{signal['customers']:,}", f"{signal['spend']:,.2f}", signal["rule"])
        stdout.print(table)


@voice_app.command("evaluate")
def evaluate_command(
    reviews: Annotated[
        Path, typer.Option("--reviews", help="The labelled reviews (womens_clothing_ecommerce_reviews.csv.gz).")
    ],
    as_json: JsonOption = False,
) -> None:
    """Judge both sentiment methods on the held-out labelled reviews: macro-F1 of positive/negative vs stars.

    Positive = 4-5 stars, negative = 1-2 stars; held out = reviews whose row index is divisible by 5. The
    shipped model was trained on the other reviews only.
    """
    from shoplens.voice import SENTIMENT_METHODS, analyse_sentiment, macro_f1, read_labelled_reviews, split_reviews

    if not reviews.is_file():
        raise UnreadableFileError(f"{reviews}: no such file")
    _, held_out = split_reviews(read_labelled_reviews(reviews))
    polar = held_out.polar()
    truth = polar.polarity()
    scores = {
        m: round(macro_f1(truth, [s.label for s in analyse_sentiment(polar.text, m)]), 4) for m in SENTIMENT_METHODS
    }
    document = {"held_out_reviews": len(polar), "macro_f1": scores, "best": max(scores, key=scores.__getitem__)}
    if as_json:
        emit_json(document)
    else:
        for name, value in scores.items():
            stdout.print(f"{name}: macro-F1 {value:.4f} on {len(polar):,} held-out reviews")


# --- survey ----------------------------------------------------------------------------------------------------------


def _app_db(config: Settings) -> AppDatabase:
    config.ensure_home()
    return AppDatabase(config.app_database_url)


@survey_app.command("lint")
def lint_command(
    questions: Annotated[list[str], typer.Argument(help="Question texts, each in quotes.")],
    as_json: JsonOption = False,
) -> None:
    """Check survey questions for wording that makes answers worthless, with a reason and a better wording.

    Flags vague and double-barrelled questions, leading or loaded wording, questions customers cannot answer
    (jargon, far-past recall, hypothetical prices), product-centric or "my company" framing, sales pitches and
    swipes at competitors, assumptions taken for granted, and ratings without a "don't know" way out.

    Example: shoplens survey lint "Don't you agree that our delivery is the fastest?" --json
    """
    from shoplens.voice import lint_questions

    results = lint_questions(questions)
    if as_json:
        emit_json({"results": [r.as_dict() for r in results]})
        return
    for result in results:
        stdout.print(f"{'ok  ' if result.ok else 'FIX '} {result.question}", markup=False)
        for problem in result.problems:
            stdout.print(f"     {problem.rule}: {problem.reason}", markup=False)
            stdout.print(f"     try: {problem.suggestion}", markup=False)


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

    Customers asked by any survey within the contact cap are left out. Each recipient gets a one-time answer link.
    """
    from shoplens.voice import customer_profiles, sample_survey

    config = settings(ctx)
    with _read_only(config) as warehouse:
        profiles = customer_profiles(warehouse.backend, zone=config.timezone)
    db = _app_db(config)
    try:
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
    from shoplens.privacy import audit_sink
    from shoplens.privacy import contacts as vault_contacts
    from shoplens.voice import recipients

    db = _app_db(config)
    try:
        rows = recipients(db, survey_id, secret=config.store_secret(), base_url=base_url, invitation_ids=invitation_ids)
        columns = ["customer_key", "segment", "lifecycle", "answer_url", "reminders_sent"]
        release = None
        if contacts:
            with _read_only(config) as warehouse:
                release = vault_contacts(
                    warehouse.backend,
                    [r["customer_key"] for r in rows],
                    purpose=purpose,
                    action="survey.contacts_export",
                    audit=audit_sink(db, actor="cli", secret=config.store_secret()),
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
            writer.writerows(rows)
        if contacts:
            out.chmod(0o600)  # personal data: readable by the owner only
    except OSError as exc:
        raise UnreadableFileError(f"{out}: cannot write ({exc.strerror})") from None
    document: dict[str, Any] = {
        "survey_id": survey_id,
        "path": str(out),
        "recipients": len(rows),
        "left_out_without_consent": release.left_out if release is not None else 0,
    }
    if release is not None:
        document["audit_entry"] = release.audit_entry.id
    return document


@survey_app.command("export")
def export_command(
    ctx: typer.Context,
    survey_id: Annotated[str, typer.Argument()],
    out: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    base_url: BaseUrlOption = DEFAULT_BASE_URL,
    contacts: Annotated[
        bool,
        typer.Option(
            "--contacts",
            help="Add e-mail addresses from the vault (marketing consent only; recorded in the audit log).",
        ),
    ] = False,
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
    contacts: Annotated[
        bool,
        typer.Option(
            "--contacts",
            help="Add e-mail addresses from the vault (marketing consent only; recorded in the audit log).",
        ),
    ] = False,
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
        with _read_only(config) as warehouse:
            spend = customer_spend(warehouse.backend)
    db = _app_db(config)
    try:
        document = analyse_survey(db, survey_id, spend=spend, theme_method=_theme_method(method))
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
