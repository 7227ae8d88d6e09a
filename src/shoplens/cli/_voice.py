"""Sub-commands for the voice of the customer: ``voice sentiment|themes|needs|evaluate``.

Each command builds a query, hands it to the one runner (or to :mod:`shoplens.voice`), and prints the result: one
JSON document with --json, text otherwise. Heavy libraries (scikit-learn, torch) are imported only when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from shoplens.cli._analytics import query_of, run
from shoplens.cli._app import JsonOption, app
from shoplens.cli._output import emit_json, progress_reporter, stdout
from shoplens.errors import InputError, UnreadableFileError
from shoplens.queries import NeedsQuery, NeedsResult, Query, Result, ThemesQuery, ThemesResult
from shoplens.voice import DEFAULT_SAMPLE, DEFAULT_THEMES, reporting_progress

R = TypeVar("R", bound=Result)
voice_app = typer.Typer(
    name="voice",
    help="Voice of the customer: sentiment and themes of feedback, hidden needs and silent dissatisfaction.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(voice_app, name="voice")

ThemesOption = Annotated[
    int, typer.Option("--themes", min=1, max=50, help="Number of themes of each polarity (complaint, praise).")
]
SeedOption = Annotated[int, typer.Option("--seed", help="Same seed, same sample and same themes.")]
MethodOption = Annotated[
    str,
    typer.Option("--method", help="auto (embeddings when torch is installed), embeddings, or keywords."),
]
SampleOption = Annotated[
    int, typer.Option("--sample", min=1, help="Mine at most this many texts (a seeded random sample).")
]


def theme_method(value: str) -> Any:
    if value not in ("auto", "embeddings", "keywords"):
        raise InputError(f"--method must be auto, embeddings or keywords, not {value!r}")
    return value


def _with_progress(ctx: typer.Context, query: Query, result_type: type[R], title: str) -> R:
    """``query`` answered by the runner, reporting on stderr how far the work is (sentiment, embedding…)."""
    with progress_reporter(title) as progress, reporting_progress(progress):
        return run(ctx, query, result_type)


def _print_themes(themes: list[dict[str, Any]], title: str) -> None:
    if not themes:
        stdout.print("No themes: no feedback text with at least three words.")
    for number, theme in enumerate(themes, start=1):
        growth = f", growth {theme['growth']:+.0%}" if theme.get("growth") is not None else ""
        label = title or theme["polarity"].capitalize()
        stdout.print(
            f"[bold]{label} {number}: {theme['name']}[/bold] — {theme['texts']:,} texts, "
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
        str | None,
        typer.Option(
            "--method",
            help="auto (embedding-logreg when torch is installed, else tfidf-logreg), embedding-logreg, "
            "tfidf-logreg or vader.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Sentiment of one text: positive, neutral or negative, with a score from -1 to +1.

    The default method is the one with the higher macro-F1 on held-out product reviews and service messages
    (see `shoplens voice evaluate`).

    Example: shoplens voice sentiment --text "Arrived broken and late, very disappointed." --json
    """
    from shoplens.voice import DEFAULT_SENTIMENT_METHOD, sentiment_method
    from shoplens.voice._sentiment import analyse_sentiment_with

    chosen = sentiment_method(method or DEFAULT_SENTIMENT_METHOD)
    result = analyse_sentiment_with([text], chosen)[0]
    if as_json:
        emit_json({**result.as_dict(), "method": chosen.name})
    else:
        stdout.print(f"{result.label} ({result.score:+.3f}, {chosen.name})")


@voice_app.command("themes")
def themes_command(
    ctx: typer.Context,
    themes: ThemesOption = DEFAULT_THEMES,
    seed: SeedOption = 0,
    method: MethodOption = "auto",
    sample: SampleOption = DEFAULT_SAMPLE,
    source: Annotated[
        str | None, typer.Option("--source", help="Only feedback of this source (review, ticket, survey, return).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Themes in the feedback: complaints and praise apart, with quotes, negative share and value at risk.

    Sentences are split into complaints and praise and each group by meaning (MiniLM sentence embeddings, or
    keywords without torch); each theme gets a plain name ("Late delivery", "Runs small"). Value at risk is the
    last year's net spend of the customers voicing a complaint theme.

    Example: shoplens voice themes --themes 8 --json
    """
    query = query_of(ThemesQuery, n_themes=themes, seed=seed, method=theme_method(method), sample=sample, source=source)
    document = _with_progress(ctx, query, ThemesResult, "voice themes").model_dump(mode="json")
    if as_json:
        emit_json(document)
        return
    embedded = f", {document['embedded_units']:,} of {document['units']:,} sentences embedded"
    stdout.print(
        f"{document['texts']:,} texts ({document['sampled_from']:,} in the warehouse), method {document['method']}"
        + (embedded if document["method"] == "embeddings" else "")
    )
    _print_themes(document["themes"], "")


@voice_app.command("needs")
def needs_command(
    ctx: typer.Context,
    themes: ThemesOption = DEFAULT_THEMES,
    seed: SeedOption = 0,
    method: MethodOption = "auto",
    sample: SampleOption = DEFAULT_SAMPLE,
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
    query = query_of(NeedsQuery, n_themes=themes, seed=seed, method=theme_method(method), sample=sample)
    document = _with_progress(ctx, query, NeedsResult, "voice needs").model_dump(mode="json")
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
    service: Annotated[
        Path | None,
        typer.Option("--service", help="Labelled service messages (service_feedback_held_out.csv), judged too."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Judge the sentiment methods on held-out labelled texts by macro-F1.

    Reviews: positive = 4-5 stars, negative = 1-2 stars, macro-F1 over positive/negative; held out = reviews whose
    row index is divisible by 5. Service messages: macro-F1 over negative/neutral/positive. The shipped models were
    trained on neither. embedding-logreg is judged only when torch is installed.
    """
    from shoplens.voice import SENTIMENT_METHODS, macro_f1, read_labelled_reviews, sentiment_method, split_reviews
    from shoplens.voice._sentiment import analyse_sentiment_with
    from shoplens.voice._service import SERVICE_LABELS, read_labelled_messages

    for path in (reviews, service):
        if path is not None and not path.is_file():
            raise UnreadableFileError(f"{path}: no such file")
    _, held_out = split_reviews(read_labelled_reviews(reviews))
    polar = held_out.polar()
    truth = polar.polarity()
    messages = read_labelled_messages(service) if service is not None else None
    methods = []
    for name in SENTIMENT_METHODS:
        try:
            methods.append(sentiment_method(name))
        except InputError:
            continue  # embedding-logreg without torch
    scores = {
        m.name: round(macro_f1(truth, [s.label for s in analyse_sentiment_with(polar.text, m)]), 4) for m in methods
    }
    document: dict[str, Any] = {"held_out_reviews": len(polar), "macro_f1": scores}
    mean = dict(scores)
    if messages is not None:
        on_service = {
            m.name: round(
                macro_f1(messages.label, [s.label for s in analyse_sentiment_with(messages.text, m)], SERVICE_LABELS),
                4,
            )
            for m in methods
        }
        document |= {"held_out_service_messages": len(messages), "service_macro_f1": on_service}
        mean = {name: (scores[name] + on_service[name]) / 2 for name in scores}
    document["best"] = max(mean, key=mean.__getitem__)
    if as_json:
        emit_json(document)
    else:
        for name, value in scores.items():
            stdout.print(f"{name}: macro-F1 {value:.4f} on {len(polar):,} held-out reviews")
        for name, value in document.get("service_macro_f1", {}).items():
            count = document["held_out_service_messages"]
            stdout.print(f"{name}: macro-F1 {value:.4f} on {count:,} held-out service messages")


# --- survey ----------------------------------------------------------------------------------------------------------
