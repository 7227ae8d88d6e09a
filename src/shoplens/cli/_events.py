"""``shoplens events add|list|remove|import``: the special-events calendar the demand forecast uses."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._models import DATE_FORMATS, day_of
from shoplens.cli._output import emit_json, stdout
from shoplens.warehouse import connect, load_table_file, warehouse_exists

events_app = typer.Typer(
    name="events",
    help="The special-events calendar the demand forecast uses: sales, festivals, holidays, closures.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(events_app, name="events")


def _show_events(rows: list[dict[str, Any]]) -> None:
    table = Table("date", "name", "kind")
    for row in rows:
        table.add_row(row["date"], row["name"], row["kind"] or "")
    stdout.print(table)


@events_app.command("add")
def events_add_command(
    ctx: typer.Context,
    day: Annotated[datetime, typer.Option("--date", formats=DATE_FORMATS, help="The (first) day of the event.")],
    name: Annotated[str, typer.Option("--name", help="Name; the same name in other years is the same event.")],
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="holiday, shopping_festival, store_sale, promotion, or closed (store shut)."),
    ] = None,
    until: Annotated[
        datetime | None, typer.Option("--until", formats=DATE_FORMATS, help="Last day of a multi-day event.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add an event to the calendar the forecast uses (one row per day it covers).

    Example: shoplens events add --date 2025-11-28 --name "Black Friday" --kind shopping_festival --json
    """
    from shoplens.models import events_calendar

    config = settings(ctx)
    config.ensure_home()
    with connect(config) as warehouse:
        added = events_calendar.add_event(warehouse, name=name, first_day=day.date(), last_day=day_of(until), kind=kind)
        version = warehouse.data_version
    rows = [event.as_dict() for event in added]
    if as_json:
        emit_json({"added": rows, "data_version": version})
    else:
        _show_events(rows)


@events_app.command("list")
def events_list_command(
    ctx: typer.Context,
    start: Annotated[datetime | None, typer.Option("--from", formats=DATE_FORMATS, help="First day to list.")] = None,
    end: Annotated[datetime | None, typer.Option("--to", formats=DATE_FORMATS, help="Last day to list.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List the events calendar, by date.

    Example: shoplens events list --from 2025-11-01 --json
    """
    from shoplens.models import events_calendar

    config = settings(ctx)
    if warehouse_exists(config):
        with connect(config, read_only=True) as warehouse:
            events = events_calendar.list_events(warehouse, start=day_of(start), end=day_of(end))
    else:
        events = []
    rows = [event.as_dict() for event in events]
    if as_json:
        emit_json({"events": rows})
    else:
        _show_events(rows)


@events_app.command("remove")
def events_remove_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="The event to remove.")],
    day: Annotated[
        datetime | None, typer.Option("--date", formats=DATE_FORMATS, help="Only this day (or from it, with --until).")
    ] = None,
    until: Annotated[datetime | None, typer.Option("--until", formats=DATE_FORMATS, help="Last day to remove.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Remove an event from the calendar (all its days, or the days given).

    Example: shoplens events remove --name "Summer Sale" --date 2025-07-01 --until 2025-07-07 --json
    """
    from shoplens.models import events_calendar

    config = settings(ctx)
    with connect(config) as warehouse:
        removed = events_calendar.remove_event(warehouse, name=name, first_day=day_of(day), last_day=day_of(until))
        version = warehouse.data_version
    if as_json:
        emit_json({"removed": removed, "data_version": version})
    else:
        stdout.print(f"removed {removed} day(s) of {name!r}", markup=False)


@events_app.command("import")
def events_import_command(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="CSV, Parquet or JSON-lines file with date, name and kind columns.")],
    as_json: JsonOption = False,
) -> None:
    """Load events from a file (columns date, name, kind); rows already in the calendar are skipped.

    Example: shoplens events import holidays.csv --json
    """
    config = settings(ctx)
    with connect(config) as warehouse:
        added = load_table_file(warehouse, "events_calendar", path, config.store_secret())
        version = warehouse.data_version
    if as_json:
        emit_json({"rows_added": added, "data_version": version})
    else:
        stdout.print(f"added {added} calendar row(s)")
