"""Bootstrap intervals for the CLI's small-store fits, with a time budget.

The same percentile bootstrap as each model's ``bootstrap()`` (customers resampled with replacement, one refit per
resample from the full-data estimate; see :mod:`shoplens.models._fitting`), drawn one resample at a time so that it
can stop when a time budget runs out, even in the middle of a refit. On a few dozen customers most refits take
milliseconds, but a resample that pushes Pareto/NBD's s and β towards "nobody ever leaves" can send the optimiser
into thousands of slow evaluations; an interval must not hold the command for an hour. When the budget stops it
early, the result says how many resamples it rests on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd

from shoplens.errors import InputError
from shoplens.models import bgnbd, gamma_gamma, pareto_nbd
from shoplens.models._fitting import (
    BootstrapIntervals,
    DistinctValues,
    FloatArray,
    WeightedRows,
    check_bootstrap_settings,
    collapse_identical_rows,
    maximise_log_likelihood,
    validate_repeat_purchase_summary,
)

T = TypeVar("T")

Refit = Callable[[WeightedRows], Mapping[str, float] | None]


class _BudgetExhaustedError(Exception):
    """Raised from inside the optimiser's objective when the budget has run out."""


def _on_time(objective: Callable[[FloatArray], T], deadline: float | None) -> Callable[[FloatArray], T]:
    def checked(params: FloatArray) -> T:
        if deadline is not None and time.monotonic() > deadline:
            raise _BudgetExhaustedError
        return objective(params)

    return checked


@dataclass(frozen=True)
class BudgetedIntervals:
    intervals: BootstrapIntervals
    requested: int
    stopped_early: bool
    seconds: float


def _rows_and_refit(model: str, summary: pd.DataFrame, deadline: float | None) -> tuple[WeightedRows, Refit]:
    """The collapsed rows a model is fitted on, and a refit from its full-data estimate (as in its bootstrap()),
    whose objective gives up once ``deadline`` (a time.monotonic() value) has passed."""
    if model == "gamma-gamma":
        frequency, monetary_value, _ = gamma_gamma._repeat_buyers(summary)
        rows = collapse_identical_rows(frequency, monetary_value)
        spend_start = gamma_gamma._fit_rows(rows)[0]

        def refit_spend(resample: WeightedRows) -> dict[str, float] | None:
            if len(resample.counts) < 2:
                return None
            levels = DistinctValues.of(resample.columns[0])
            result = maximise_log_likelihood(
                gamma_gamma.PARAM_NAMES,
                spend_start,
                resample.counts.sum(),
                log_likelihood_with_gradient=_on_time(
                    lambda params: gamma_gamma._total_log_likelihood_and_gradient(params, resample, levels), deadline
                ),
                shape_parameters=gamma_gamma.SHAPE_PARAMETERS,
            )
            return result.params if result.converged else None

        return rows, refit_spend
    frequency, recency, age = validate_repeat_purchase_summary(
        summary, model=bgnbd.MODEL_NAME if model == "bgnbd" else pareto_nbd.MODEL_NAME
    )
    rows = collapse_identical_rows(frequency, recency, age)
    if model == "bgnbd":
        bgnbd_start = bgnbd._fit_rows(rows)[0]

        def refit_bgnbd(resample: WeightedRows) -> dict[str, float] | None:
            if not (resample.columns[0] > 0).any():
                return None
            levels = DistinctValues.of(resample.columns[0])
            result = maximise_log_likelihood(
                bgnbd.PARAM_NAMES,
                bgnbd_start,
                resample.counts.sum(),
                log_likelihood_with_gradient=_on_time(
                    lambda params: bgnbd._total_log_likelihood_and_gradient(params, resample, levels), deadline
                ),
                shape_parameters=bgnbd.SHAPE_PARAMETERS,
            )
            return result.params if result.converged else None

        return rows, refit_bgnbd
    pareto_start = pareto_nbd._fit_rows(rows)[0]

    def refit_pareto(resample: WeightedRows) -> dict[str, float] | None:
        if not (resample.columns[0] > 0).any():
            return None
        result = maximise_log_likelihood(
            pareto_nbd.PARAM_NAMES,
            pareto_start,
            resample.counts.sum(),
            log_likelihood=_on_time(lambda params: pareto_nbd._total_log_likelihood(params, resample), deadline),
            shape_parameters=pareto_nbd.SHAPE_PARAMETERS,
        )
        return result.params if result.converged else None

    return rows, refit_pareto


def budgeted_bootstrap(
    model: str, summary: pd.DataFrame, *, n: int, seed: int, level: float, seconds: float | None
) -> BudgetedIntervals:
    """Percentile intervals from up to ``n`` resamples, stopping once ``seconds`` have passed (None: no limit)."""
    check_bootstrap_settings(n, level)
    started = time.monotonic()
    deadline = None if seconds is None else started + seconds
    rows, refit = _rows_and_refit(model, summary, deadline)
    generator = np.random.default_rng(seed)
    shares = rows.counts / rows.counts.sum()
    draws: list[Mapping[str, float]] = []
    failed = 0
    stopped_early = False
    for _ in range(n):
        counts = generator.multinomial(rows.n_customers, shares).astype(np.float64)
        kept = counts > 0
        try:
            params = refit(WeightedRows(columns=tuple(column[kept] for column in rows.columns), counts=counts[kept]))
        except _BudgetExhaustedError:
            stopped_early = True
            break
        if params is None:
            failed += 1
        else:
            draws.append(params)
    if len(draws) < 2:
        raise InputError(f"bootstrap: only {len(draws)} of {len(draws) + failed} resamples could be fitted")
    tail = (1.0 - level) / 2.0 * 100.0
    intervals = {
        name: (
            float(np.percentile([d[name] for d in draws], tail)),
            float(np.percentile([d[name] for d in draws], 100.0 - tail)),
        )
        for name in draws[0]
    }
    return BudgetedIntervals(
        intervals=BootstrapIntervals(intervals, level, len(draws) + failed, failed),
        requested=n,
        stopped_early=stopped_early,
        seconds=time.monotonic() - started,
    )
