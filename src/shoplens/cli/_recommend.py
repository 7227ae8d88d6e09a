"""``shoplens recommend``: what to do next, ranked by what it is worth, each with the numbers it rests on."""

from __future__ import annotations

import typer

from shoplens.cli._analytics import run
from shoplens.cli._app import JsonOption, app
from shoplens.cli._format import count, money, table_of
from shoplens.cli._output import emit_json, stdout
from shoplens.queries import RecommendQuery, RecommendResult


@app.command("recommend")
def recommend_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Recommendations from transparent rules, highest expected value first.

    Overdue regulars (no order for 1.5x their usual interval: win back), one-time buyers of 30-90 days ago (nudge
    the second order) and products refunded far more than the rest (fix the listing). Each says for whom, what to
    do, what it is worth over the next 90 days, how that was estimated (a back-test on the store's own history,
    90 days before the data end) and the evidence.
    """
    result = run(ctx, RecommendQuery(), RecommendResult)
    if as_json:
        emit_json(result.model_dump())
        return
    if not result.recommendations:
        stdout.print(f"No recommendation: no rule found a group of at least 10 customers as of {result.as_of}.")
        return
    body = [
        [str(i), r.title, r.segment, count(r.customers), money(r.expected_value)]
        for i, r in enumerate(result.recommendations, start=1)
    ]
    title = f"Recommendations as of {result.as_of} (values back-tested from {result.backtest_day})"
    stdout.print(table_of(title, ["#", "what", "segment", "customers", "expected value (90 days)"], body))
    for i, r in enumerate(result.recommendations, start=1):
        stdout.print(f"{i}. {r.action} [dim]Value: {r.expected_value_method}. See {r.link}.[/dim]")
