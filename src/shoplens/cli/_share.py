"""``shoplens share export``: the k-anonymous data package for vendors and web designers, recorded in the audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, cast

import typer

from shoplens.actions import existing_plan
from shoplens.appdb import AppDatabase
from shoplens.cli._analytics import runner
from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._output import emit_json, stdout
from shoplens.errors import InputError
from shoplens.privacy import DEFAULT_K, check_k, consent_book, record_audit
from shoplens.reports import SHARE_FORMATS, ShareFormat, share_package

share_app = typer.Typer(
    name="share",
    help=(
        "Share store data safely with vendors and web designers: aggregates only, each row standing for at least "
        "k people, with a data dictionary and a manifest; every export is written to the audit log."
    ),
    no_args_is_help=True,
)
app.add_typer(share_app)


@share_app.command("export")
def export_command(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="The zip file to write, e.g. share-2026-11.zip.")],
    k: Annotated[
        int,
        typer.Option(
            "--k",
            help="Anonymity threshold: a row is shared only when at least k people stand behind it (at least 2).",
        ),
    ] = DEFAULT_K,
    output_format: Annotated[str, typer.Option("--format", help="csv (exact decimals) or parquet (DECIMAL).")] = "csv",
    plan: Annotated[
        int | None,
        typer.Option("--plan", min=1, help="Only the datasets a partner plan names (see shoplens plans show ID)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write a zip of four aggregate datasets for vendors and web designers.

    What is shared: funnel drop-offs per landing page and device, what each RFM segment buys (by favourite
    category), product pairs bought together, and how long shoppers take to reach cart, checkout and order per
    device (median and quartiles), plus data_dictionary.md (every column, the k rule) and manifest.json (what
    was suppressed).

    What is never shared: customer keys, order ids, names, e-mails, phones, addresses, free text (reviews,
    tickets), the minimum or maximum of anybody's value, and anything of customers who withdrew consent to
    sharing (their orders, refunds and sessions are left out before counting; the manifest says how many).

    What k means: a row is released only when at least k different people are behind it (a known customer
    counts once; each guest session or guest order counts as one person). Smaller rows are left out and
    counted in the manifest; totals and shares come from released rows only, so nothing left out can be
    recovered by subtraction. Larger k hides more.

    With --plan ID the package holds only the datasets of that partner plan (the same k-anonymous cells, the
    data dictionary and manifest of those datasets only), and the audit entry names the plan.
    """
    check_k(k)
    if output_format not in SHARE_FORMATS:
        raise InputError(f"--format is csv or parquet, not {output_format[:20]!r}")
    if not out.parent.is_dir():
        raise InputError(f"--out: the folder {out.parent} does not exist")
    config = settings(ctx)
    database = AppDatabase.for_store(config)
    try:
        withdrawn = consent_book(database, "sharing").withdrawn
        plan_datasets = existing_plan(database, plan).datasets if plan is not None else None
    finally:
        database.close()
    package = share_package(runner(config), k=k, withdrawn=withdrawn)
    if plan_datasets is not None:
        package = package.only(plan_datasets)
    digest = package.write(out, cast(ShareFormat, output_format))
    datasets = {
        name: {
            "rows": dataset.table.num_rows,
            "suppressed_cells": dataset.suppressed_cells,
            "suppressed_people": dataset.suppressed_people,
        }
        for name, dataset in package.datasets.items()
    }
    database = AppDatabase.for_store(config)
    try:
        entry = record_audit(
            database,
            actor="cli",
            action="share.export",
            details={
                "file": out.name,
                "format": output_format,
                "k": k,
                "datasets": datasets,
                "customers_withdrawn": package.customers_withdrawn,
                "sha256": digest,
                **({"plan_id": plan} if plan is not None else {}),
            },
            secret=config.store_secret(),
        )
    finally:
        database.close()
    document = {
        "path": str(out),
        "format": output_format,
        "k": k,
        "datasets": datasets,
        "customers_withdrawn": package.customers_withdrawn,
        "audit_entry": entry.id,
        "sha256": digest,
    }
    if plan is not None:
        document["plan_id"] = plan
    if as_json:
        emit_json(document)
        return
    stdout.print(f"wrote {out} ({output_format}, k={k}, sha256 {digest[:16]}…), audit entry {entry.id}")
    for name, counts in datasets.items():
        stdout.print(
            f"  {name}: {counts['rows']:,} rows shared, {counts['suppressed_cells']:,} suppressed "
            f"({counts['suppressed_people']:,} people)"
        )
