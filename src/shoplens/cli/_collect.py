"""``shoplens collect serve|load``: the first-party event collector and the loader of what it collected."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._output import emit_json, stderr, stdout
from shoplens.errors import InputError
from shoplens.warehouse import EventSpool, connect, load_spool

collect_app = typer.Typer(
    name="collect",
    help=(
        "First-party events from your shop's pages: 'collect serve' receives them into a durable spool, "
        "'collect load' moves them into the warehouse's events table."
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(collect_app, name="collect")


@collect_app.command("serve")
def collect_serve_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8001,
    origins: Annotated[
        list[str] | None,
        typer.Option(
            "--origin",
            help="A web page origin allowed to send events (repeat for more); replaces SHOPLENS_COLLECT_ORIGINS.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Receive events at POST /collect/v1/events into the spool; each answer comes after the events are on disk.

    Pages load the snippet from /collect/v1/snippet.js; it sends nothing before the visitor's consent
    (shoplens.consent(true)) nor under Do-Not-Track or Global Privacy Control. Browsers may send events only
    from the allowed origins (--origin, or SHOPLENS_COLLECT_ORIGINS="https://shop.example,https://www.shop.example");
    limits: SHOPLENS_COLLECT_RATE (requests/s per address, 50), SHOPLENS_COLLECT_BURST (100),
    SHOPLENS_COLLECT_MAX_BODY_BYTES (262144), SHOPLENS_COLLECT_MAX_EVENTS (500 per request).
    Run 'shoplens collect load' (e.g. every few minutes) to move the events into the warehouse.

    Example: shoplens collect serve --port 8001 --origin https://shop.example
    """
    import uvicorn

    from shoplens.web import CollectorSettings, create_collector_app

    try:
        collector_settings = CollectorSettings() if origins is None else CollectorSettings(collect_origins=origins)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise InputError(f"{error['loc'][0]}: " + str(error["msg"]).removeprefix("Value error, ")) from None
    config = settings(ctx)
    spool = EventSpool(config.spool_dir)
    collector = create_collector_app(spool, collector_settings)
    url = f"http://{host}:{port}"
    if as_json:
        emit_json(
            {
                "url": url,
                "endpoint": f"{url}/collect/v1/events",
                "snippet": f"{url}/collect/v1/snippet.js",
                "origins": collector_settings.collect_origins,
                "spool": config.spool_dir,
            }
        )
    else:
        allowed = ", ".join(collector_settings.collect_origins) or "none (only requests without an Origin)"
        stderr.print(f"shoplens collector on {url}/collect/v1/events; origins: {allowed} (Ctrl-C stops)", markup=False)
    # No access log: it would keep visitors' addresses and pages.
    uvicorn.run(collector, host=host, port=port, log_level="warning", access_log=False)
    spool.close()


@collect_app.command("load")
def collect_load_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Move the collected events from the spool into the warehouse's events table.

    Idempotent: an event id already in the table is counted as a duplicate and not stored again, so loading
    twice adds nothing and an event a page sent twice is stored once. Safe while the collector runs; what was
    loaded leaves the spool only after the warehouse has committed it. A line cut short by a crash is put in
    the quarantine directory and counted as quarantined.

    Example: shoplens collect load --json   →  {"events_loaded": 120, "duplicates": 3, "quarantined": 0, ...}
    """
    config = settings(ctx)
    config.ensure_home()
    with connect(config) as warehouse:
        result = load_spool(warehouse, config.spool_dir, config.store_secret(), config.quarantine_dir)
        version = warehouse.data_version
    document = {
        "events_loaded": result.events_loaded,
        "duplicates": result.duplicates,
        "quarantined": result.quarantined,
        "quarantine_file": result.quarantine_file,
        "segments_removed": result.segments_removed,
        "data_version": version,
    }
    if as_json:
        emit_json(document)
        return
    stdout.print(f"loaded {result.events_loaded} event(s), {result.duplicates} duplicate(s) skipped", markup=False)
    if result.quarantined:
        stdout.print(f"{result.quarantined} damaged line(s) quarantined in {result.quarantine_file}", markup=False)
