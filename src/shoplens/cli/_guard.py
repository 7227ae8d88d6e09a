"""``shoplens guard``: abuse and fraud flags, each with its evidence, score and a threshold you can tune."""

from __future__ import annotations

from typing import Annotated

import typer

from shoplens.actions import export_flags
from shoplens.appdb import AppDatabase
from shoplens.cli._analytics import query_of, run
from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._format import table_of
from shoplens.cli._output import emit_json, stdout
from shoplens.queries import GuardQuery, GuardResult


@app.command("guard")
def guard_command(
    ctx: typer.Context,
    min_refunds: Annotated[int, typer.Option(help="Refunds a customer or product needs before it is judged.")] = 3,
    refund_factor: Annotated[float, typer.Option(help="Flag a refund rate this many times the store's.")] = 3.0,
    leak_min_uses: Annotated[int, typer.Option(help="Uses in one week before a discount code can look leaked.")] = 10,
    leak_spike: Annotated[
        float, typer.Option(help="Flag a code whose busiest week has this many times its usual week's uses.")
    ] = 4.0,
    stack_discount_share: Annotated[
        float, typer.Option(help="Discount share of an order's gross that counts as stacked.")
    ] = 0.5,
    approval_limit: Annotated[
        float | None, typer.Option(help="Your order approval limit: flags customers ordering just under it.")
    ] = None,
    shared_address_accounts: Annotated[
        int, typer.Option(help="Accounts at one delivery address that are flagged.")
    ] = 4,
    export_people_per_day: Annotated[
        int, typer.Option(help="People one user may export in a day before it is flagged.")
    ] = 1000,
    as_json: JsonOption = False,
) -> None:
    """Abuse and fraud guards: unusual refunds (by customer and product), leaked and stacked discount codes,
    orders just under an approval limit, many accounts at one address, unusual export volumes by a user.

    Each flag names its subject (a pseudonymous key, product, code or user), its evidence and its score; the
    thresholds are the options below. What the data cannot show is listed as not checked.
    """
    query = query_of(
        GuardQuery,
        min_refunds=min_refunds,
        refund_factor=refund_factor,
        leak_min_uses=leak_min_uses,
        leak_spike=leak_spike,
        stack_discount_share=stack_discount_share,
        approval_limit=approval_limit,
        shared_address_accounts=shared_address_accounts,
        export_people_per_day=export_people_per_day,
    )
    result = run(ctx, query, GuardResult)
    database = AppDatabase.for_store(settings(ctx))
    try:
        flags = result.flags + export_flags(database.audit_rows(), people_per_day=query.export_people_per_day)
    finally:
        database.close()
    document = {"flags": [f.model_dump() for f in flags], "not_checked": result.not_checked}
    if as_json:
        emit_json({**result.model_dump(exclude={"flags", "not_checked"}), **document})
        return
    body = [[f.kind, f.subject, f"{f.score:g}", ", ".join(f"{k}={v}" for k, v in f.evidence.items())] for f in flags]
    stdout.print(table_of(f"{len(flags)} flags", ["kind", "subject", "score", "evidence"], body))
    for gap in result.not_checked:
        stdout.print(f"Not checked: {gap}.")
