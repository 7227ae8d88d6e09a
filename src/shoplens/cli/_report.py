"""``shoplens report``: the monthly online customer report as HTML or PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shoplens.appdb import AppDatabase, PlanStore
from shoplens.cli._analytics import runner
from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._audit import audit_entry
from shoplens.cli._output import emit_json, stdout
from shoplens.errors import InputError
from shoplens.queries import target_specs
from shoplens.reports import NumberStyle, build_monthly_report, parse_month, render_html, render_pdf

FORMATS = ("html", "pdf")


@app.command("report")
def report_command(
    ctx: typer.Context,
    month: Annotated[
        str | None, typer.Option("--month", help="Month to report, YYYY-MM (default: the last complete month).")
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="html, or pdf (printed with weasyprint).")] = "html",
    out: Annotated[Path | None, typer.Option("--out", help="File to write (default: report-YYYY-MM.FORMAT).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Write the monthly online customer report: KPIs against the previous month, segments and cohorts.

    Without --month it reports the last complete month (the last month whose last day is on or before the last
    day with data). A month the data end in is partial: it is compared with the same days of the month before.
    """
    if output_format not in FORMATS:
        raise InputError(f"--format is html or pdf, not {output_format[:20]!r}")
    config = settings(ctx)
    database = AppDatabase.for_store(config)
    try:
        targets = target_specs(PlanStore(database).targets())
    finally:
        database.close()
    report = build_monthly_report(runner(config), parse_month(month) if month else None, targets)
    html = render_html(report, NumberStyle(locale=config.locale, currency=config.currency))
    path = out or Path(f"report-{report.month:%Y-%m}.{output_format}")
    if output_format == "pdf":
        path.write_bytes(render_pdf(html))
    else:
        path.write_text(html, encoding="utf-8")
    entry = audit_entry(
        config, "report.export", {"file": path.name, "format": output_format, "month": f"{report.month:%Y-%m}"}
    )
    if as_json:
        emit_json({**report.summary(), "format": output_format, "path": str(path), "audit_entry": entry})
        return
    if report.chosen:
        stdout.print(report.chosen)
    if report.partial:
        stdout.print(report.comparison())
    stdout.print(f"wrote {path}")
