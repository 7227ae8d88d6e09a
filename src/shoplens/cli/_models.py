"""Sub-commands for the predictive models: ``clv fit|predict`` and ``forecast``."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from shoplens.cli._analytics import query_of, run, runner
from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._format import count, money, number, text
from shoplens.cli._output import emit_json, stdout, tracked_job
from shoplens.cli._profit import FeeFixedOption, FeePercentOption, ShippingCostOption, with_costs
from shoplens.queries import (
    ClvFitQuery,
    ClvFitResult,
    ClvPredictQuery,
    ClvPredictResult,
    ForecastQuery,
    ForecastResult,
)

clv_app = typer.Typer(
    name="clv",
    help="Customer lifetime value: fit BG/NBD, Pareto/NBD and Gamma-Gamma, then predict per customer.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(clv_app, name="clv")

DATE_FORMATS = ["%Y-%m-%d"]


class ModelChoice(StrEnum):
    bgnbd = "bgnbd"
    pareto_nbd = "pareto-nbd"
    gamma_gamma = "gamma-gamma"


class TransactionModelChoice(StrEnum):
    bgnbd = "bgnbd"
    pareto_nbd = "pareto-nbd"


class TimeUnitChoice(StrEnum):
    days = "D"
    weeks = "W"


class MetricChoice(StrEnum):
    revenue = "revenue"
    orders = "orders"


class GrainChoice(StrEnum):
    day = "day"
    week = "week"


class ByChoice(StrEnum):
    category = "category"


def day_of(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


# --- clv -------------------------------------------------------------------------------------------------------------


def _show_fit(document: dict[str, Any]) -> None:
    table = Table(title=f"{document['model']} on {document['n_customers']:,} customers", show_header=True)
    table.add_column("parameter")
    table.add_column("estimate", justify="right")
    intervals = (document.get("intervals") or {}).get("params", {})
    if intervals:
        table.add_column(f"{document['intervals']['level']:.0%} interval", justify="right")
    for name, value in document["params"].items():
        cells = [name, f"{value:.4g}"]
        if intervals:
            low, high = intervals[name]
            cells.append(f"{low:.4g} – {high:.4g}")
        table.add_row(*cells)
    stdout.print(table)
    stdout.print(f"log-likelihood {document['log_likelihood']:.1f}; calibration to {document['calibration_end']}")
    holdout = document.get("holdout")
    if holdout and "buckets" in holdout:
        stdout.print(
            f"holdout to {holdout['observation_end']}: {holdout['actual_purchases']:.0f} purchases, predicted "
            f"{holdout['predicted_purchases']:.1f}; by frequency group MAE {holdout['bucket_errors']['mae']:.3f}"
        )
        if holdout["plot"]:
            stdout.print(f"chart: {holdout['plot']}")
    _show_churn_validation(document.get("churn_bands"), document.get("churn_validation"))
    for warning in document["warnings"]:
        stdout.print(f"warning: {warning}", markup=False)


def _show_churn_validation(bands: dict[str, Any] | None, validation: dict[str, Any] | None) -> None:
    if bands is None:
        return
    stdout.print(
        f"churn risk: P(no purchase in {bands['window_days']:.0f} days), medium from {bands['medium_from']:.3f}, "
        f"high from {bands['high_from']:.3f} (chosen on the {bands['chosen_on']})"
    )
    if validation is None:
        return
    stdout.print(
        f"in the {validation['window_days']:.0f} days after {validation['calibration_end']} (the holdout, to "
        f"{validation['observation_end']}): AUC "
        f"{validation['auc']:.3f} (1 − P(alive): {validation['auc_p_alive']:.3f}), Brier {validation['brier']:.3f} "
        f"(base rate {validation['brier_base_rate']:.3f})"
    )
    table = Table("churn risk", "customers", "bought in holdout", "95 % interval", "predicted")
    for row in validation["bands"]:
        if not row["customers"]:
            table.add_row(row["band"], "0", "-", "-", "-")
            continue
        table.add_row(
            row["band"],
            f"{row['customers']:,}",
            f"{row['holdout_purchase_rate']:.1%}",
            f"{row['holdout_purchase_rate_low']:.1%} – {row['holdout_purchase_rate_high']:.1%}",
            f"{row['predicted_purchase_rate']:.1%}",
        )
    stdout.print(table)


@clv_app.command("fit")
def clv_fit_command(
    ctx: typer.Context,
    model: Annotated[ModelChoice, typer.Option("--model", help="Which model to fit.")] = ModelChoice.bgnbd,
    calibration_end: Annotated[
        datetime | None,
        typer.Option("--calibration-end", formats=DATE_FORMATS, help="Last day of calibration (default: last order)."),
    ] = None,
    observation_end: Annotated[
        datetime | None,
        typer.Option("--observation-end", formats=DATE_FORMATS, help="Last day of the holdout (default: last order)."),
    ] = None,
    time_unit: Annotated[TimeUnitChoice, typer.Option("--time-unit", help="D (days) or W (weeks).")] = (
        TimeUnitChoice.days
    ),
    bootstrap: Annotated[
        int | None,
        typer.Option(
            "--bootstrap",
            min=2,
            help="Bootstrap resamples for parameter intervals (automatic, 100 in at most 20 s, below 200 customers; "
            "at most 5 minutes when asked for).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap resampling.")] = 0,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write the holdout chart (predicted vs actual) to this .svg/.png.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Fit a customer-base model on the store's orders and save it for clv predict.

    BG/NBD and Pareto/NBD model how often customers buy and when they stop; Gamma-Gamma how much they spend per
    order. With --calibration-end before the last order, the model is fitted on the orders up to that day and
    scored on the rest (the holdout): predicted against actual purchases per group of customers with the same
    number of repeat purchases, with MAE, RMSE and MAPE, and a chart with --plot. Below 200 customers the
    parameters come with bootstrap intervals. BG/NBD and Pareto/NBD fits also choose the churn-risk cut-offs on
    P(no purchase in the holdout window) and validate them there (AUC, purchase rate per band, calibration);
    without a holdout, on the last 90 days.

    Example: shoplens clv fit --model bgnbd --calibration-end 1997-09-30 --time-unit W --json
    """
    config = settings(ctx)
    query = query_of(
        ClvFitQuery,
        model=model.value,
        calibration_end=day_of(calibration_end),
        observation_end=day_of(observation_end),
        time_unit=time_unit.value,
        bootstrap=bootstrap,
        seed=seed,
        plot=plot,
    )
    with tracked_job(config, "model fit", f"clv fit --model {model.value}", echo=False) as progress:
        progress(f"fitting {model.value}", 0, 1)
        document = run(ctx, query, ClvFitResult).model_dump(mode="json")
    if as_json:
        emit_json(document)
    else:
        _show_fit(document)


def _show_predictions(document: dict[str, Any]) -> None:
    stdout.print(
        f"{document['n_customers']:,} customers, next {document['horizon']} "
        f"{'days' if document['time_unit'] == 'D' else 'weeks'} from "
        f"{document['as_of']}: {document['totals']['expected_purchases']:.0f} expected purchases, "
        f"CLV {document['totals']['clv']:,.0f} (margin {document['margin']:.1%}, {document['margin_basis']}: "
        f"{document['margin_note']})"
    )
    bands = Table("churn risk", "customers", "expected purchases", "CLV")
    for row in document["by_churn_risk"]:
        bands.add_row(
            row["churn_risk"], count(row["customers"]), number(row["expected_purchases"]), number(row["clv"], 0)
        )
    stdout.print(bands)
    _show_churn_validation(document["churn"], document["churn"]["validation"])
    top = Table("customer", "P(alive)", "risk", "expected purchases", "CLV", "next order", title="highest CLV")
    for row in document["rows"][:20]:
        top.add_row(
            row["customer_key"],
            number(row["p_alive"], 2),
            row["churn_risk"],
            number(row["expected_purchases"], 2),
            money(row["clv"]),
            text(row["expected_next_order_date"]),
        )
    stdout.print(top)
    for warning in document["warnings"]:
        stdout.print(f"warning: {warning}", markup=False)


@clv_app.command("predict")
def clv_predict_command(
    ctx: typer.Context,
    horizon: Annotated[int, typer.Option("--horizon", min=1, help="How far ahead, in --time-unit.")] = 365,
    time_unit: Annotated[TimeUnitChoice, typer.Option("--time-unit", help="Unit of --horizon: D or W.")] = (
        TimeUnitChoice.days
    ),
    model: Annotated[
        TransactionModelChoice, typer.Option("--model", help="Purchase model (spend is always Gamma-Gamma).")
    ] = TransactionModelChoice.bgnbd,
    margin: Annotated[
        float | None,
        typer.Option(
            "--margin",
            min=0.0,
            max=1.0,
            help="Share of spend kept as profit (default: the store's contribution margin rate when every product "
            "cost is known, else a flat 0.3).",
        ),
    ] = None,
    discount_rate: Annotated[
        float, typer.Option("--discount-rate", min=0.0, max=0.99, help="Yearly discount rate for CLV.")
    ] = 0.1,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the K customers of highest CLV.")] = None,
    fee_percent: FeePercentOption = None,
    fee_fixed: FeeFixedOption = None,
    shipping_cost: ShippingCostOption = None,
    as_json: JsonOption = False,
) -> None:
    """Predict each customer's purchases, chance of still being active, churn risk and lifetime value.

    Uses the fits saved by clv fit while the data are unchanged; otherwise fits BG/NBD (or Pareto/NBD) and
    Gamma-Gamma on all orders first. Rows carry the pseudonymous customer key only. CLV is the margin on the
    expected spend over the horizon, discounted monthly. Without --margin the margin is the store's contribution
    margin rate (shoplens profit, with the cost options below) when every product cost is known
    ("margin_basis": "contribution"), else a flat 0.3 ("flat"); "margin_note" says which and why.

    Example: shoplens clv predict --horizon 52 --time-unit W --margin 0.3 --limit 100 --json
    """
    query = query_of(
        ClvPredictQuery,
        horizon=horizon,
        time_unit=time_unit.value,
        model=model.value,
        margin=margin,
        annual_discount_rate=discount_rate,
        limit=limit,
    )
    config = with_costs(settings(ctx), fee_percent, fee_fixed, shipping_cost)
    document = runner(config).run(query, ClvPredictResult).model_dump(mode="json")
    if as_json:
        emit_json(document)
    else:
        _show_predictions(document)


# --- forecast --------------------------------------------------------------------------------------------------------


def _show_forecast(document: dict[str, Any]) -> None:
    stdout.print(f"{document['metric']} per {document['grain']}: {', '.join(document['components'])}")
    table = Table("period", "forecast", f"{document['interval_level']:.0%} interval", "events")
    for row in document["rows"]:
        table.add_row(
            row["period"],
            f"{row['forecast']:,.1f}",
            f"{row['lower']:,.1f} – {row['upper']:,.1f}",
            ", ".join(row["events"]),
        )
    stdout.print(table)
    backtest = document["backtest"]
    if backtest:
        model, baseline = backtest["model"], backtest["seasonal_naive"]
        stdout.print(
            f"backtest, last {backtest['weeks']} weeks: MAPE {model['mape']:.1f}% vs {baseline['mape']:.1f}% "
            f"({backtest['baseline']}); MASE {model['mase']:.3f} vs {baseline['mase']:.3f}"
        )
    for category in document["categories"] or []:
        total = sum(row["forecast"] for row in category["rows"])
        stdout.print(f"{category['category']}: {total:,.1f} over the horizon")
    for warning in document["warnings"]:
        stdout.print(f"warning: {warning}", markup=False)


@app.command("forecast")
def forecast_command(
    ctx: typer.Context,
    metric: Annotated[MetricChoice, typer.Option("--metric", help="What to forecast.")] = MetricChoice.revenue,
    grain: Annotated[GrainChoice, typer.Option("--grain", help="Days or (Monday-start) weeks.")] = GrainChoice.day,
    horizon: Annotated[
        int | None, typer.Option("--horizon", min=1, max=730, help="Periods ahead (default 28 days or 8 weeks).")
    ] = None,
    by: Annotated[ByChoice | None, typer.Option("--by", help="Also forecast per product category.")] = None,
    backtest_weeks: Annotated[
        int, typer.Option("--backtest-weeks", min=0, help="Replay the last K weeks against seasonal naive (0: no).")
    ] = 8,
    use_events: Annotated[
        bool, typer.Option("--events/--no-events", help="Use the events calendar (shoplens events list).")
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Forecast daily or weekly revenue or orders, with weekly and yearly seasonality and the events calendar.

    Each event of the calendar (shoplens events add) is estimated from its past occurrences; days of kind
    "closed" are forecast as zero. The backtest replays the last weeks one week at a time and reports MAPE and
    MASE for the model and for the seasonal-naive baseline (same weekday last week).

    Example: shoplens forecast --metric revenue --grain day --horizon 28 --by category --json
    """
    query = query_of(
        ForecastQuery,
        metric=metric.value,
        grain=grain.value,
        horizon=horizon or (28 if grain == GrainChoice.day else 8),
        by_category=by == ByChoice.category,
        backtest_weeks=backtest_weeks,
        use_events=use_events,
    )
    document = run(ctx, query, ForecastResult).model_dump(mode="json")
    if as_json:
        emit_json(document)
    else:
        _show_forecast(document)
