"""``shoplens suggest``: what a product's buyers also bought, what a customer may buy next, and how well the
suggestions did offline against popularity."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from shoplens.cli._analytics import query_of, run
from shoplens.cli._app import JsonOption, app
from shoplens.cli._format import count, number, share, table_of, text
from shoplens.cli._output import emit_json, stdout
from shoplens.errors import InputError
from shoplens.queries import (
    AlsoBoughtQuery,
    AlsoBoughtResult,
    CustomerSuggestQuery,
    CustomerSuggestResult,
    SuggestEvaluationQuery,
    SuggestEvaluationResult,
)


@app.command("suggest")
def suggest_command(
    ctx: typer.Context,
    product: Annotated[str | None, typer.Option("--product", help="Product id: what its buyers also bought.")] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Customer key: the products to suggest to them next.")
    ] = None,
    evaluate: Annotated[
        bool, typer.Option("--evaluate", help="Score the suggestions against popularity on a time split.")
    ] = False,
    min_customers: Annotated[
        int | None, typer.Option("--min-customers", help="Customers who bought both, at least (for --product).")
    ] = None,
    cutoff: Annotated[
        datetime | None,
        typer.Option("--cutoff", formats=["%Y-%m-%d"], help="First day of the test window (for --evaluate)."),
    ] = None,
    window_days: Annotated[
        int | None, typer.Option("--window-days", help="Days of the test and of the validation window.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Products to list (default 10).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Product suggestions from co-purchases (one of --product, --customer, --evaluate).

    --product: products bought by the same customers, ranked by cosine similarity, with lift and the share of the
    product's buyers. --customer: the next products for one customer (item-kNN over what they bought, recency
    weighted; nothing they already bought; filled with popular products). --evaluate: trains on orders before a
    cut-off and scores hit rate@10 and recall@10 on the products customers then bought for the first time, against
    the 10 most popular products each had not bought; settings are tuned on the window before the cut-off only.
    """
    if sum(1 for given in (product is not None, customer is not None, evaluate) if given) != 1:
        raise InputError("give exactly one of --product ID, --customer KEY or --evaluate")
    if product is not None:
        asked = query_of(AlsoBoughtQuery, product_id=product, min_customers=min_customers, limit=limit)
        also = run(ctx, asked, AlsoBoughtResult)
        if as_json:
            emit_json(also.model_dump(exclude={"query"}))
            return
        body = [
            [
                text(r["product_id"]),
                text(r["name"]),
                count(r["customers"]),
                number(r["cosine"], 3),
                number(r["lift"], 2),
                share(r["share"]),
            ]
            for r in also.also_bought
        ]
        title = f"Customers who bought {also.product_id} ({text(also.name)}, {also.buyers:,} buyers) also bought"
        stdout.print(table_of(title, ["product", "name", "customers", "cosine", "lift", "of its buyers"], body))
        return
    if customer is not None:
        next_products = run(
            ctx, query_of(CustomerSuggestQuery, customer_key=customer, limit=limit), CustomerSuggestResult
        )
        if as_json:
            emit_json(next_products.model_dump(exclude={"query"}))
            return
        body = [
            [str(r["rank"]), text(r["product_id"]), text(r["name"]), number(r["score"], 3), text(r["method"])]
            for r in next_products.suggestions
        ]
        title = f"Suggestions for {next_products.customer_key} ({next_products.products_bought} products bought)"
        stdout.print(table_of(title, ["rank", "product", "name", "score", "method"], body))
        return
    query = query_of(
        SuggestEvaluationQuery, cutoff=cutoff.date() if cutoff else None, window_days=window_days, limit=limit
    )
    result = run(ctx, query, SuggestEvaluationResult)
    if as_json:
        emit_json(result.model_dump(exclude={"query"}))
        return
    split = result.split
    k = result.query.limit
    body = [
        [name, count(row["customers"]), share(row["hit_rate"]), share(row["recall"])]
        for name, row in (("item-kNN", result.test["item_knn"]), ("popularity", result.test["popularity"]))
    ]
    title = f"Test window {split['test_from']} to {split['test_to']} (trained before {split['test_train_before']})"
    stdout.print(table_of(title, ["method", "customers", f"hit rate@{k}", f"recall@{k}"], body))
    stdout.print(
        f"Settings chosen on the validation window {split['validation_from']} to {split['validation_to']}: "
        f"{result.chosen}. Beats popularity on hit rate: {'yes' if result.beats_popularity else 'no'}."
    )
