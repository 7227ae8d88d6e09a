"""Gamma-Gamma model of average spend per purchase (Fader, Hardie & Lee 2005; Fader & Hardie 2013).

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using Iso-Value Curves for Customer Base
Analysis. *Journal of Marketing Research* 42(4), 415–430. Fader, P. S. & Hardie, B. G. S. (2013). "The Gamma-Gamma
Model of Monetary Value", http://brucehardie.com/notes/025/.

A customer's purchase amounts are Gamma(p, ν) around her own mean p/ν, and ν ~ Gamma(q, γ) across customers. Given
x repeat purchases with mean amount m_x, the expected mean spend is a weighted average of the population mean
pγ/(q−1) and m_x, with more weight on m_x the more purchases there are. It is fitted on repeat buyers only
(``frequency`` > 0, ``monetary_value`` = mean amount of the repeat purchases, see
:func:`shoplens.models.rfm_summary`). On the 946 CDNOW repeat buyers the note reports p = 6.25, q = 3.74, γ = 15.44.

The model assumes spend is independent of purchase frequency. The note checks this with the correlation between
frequency and average spend (0.11 on CDNOW); :func:`fit` reports it and warns above
:data:`INDEPENDENCE_WARNING_CORRELATION`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

from shoplens.errors import InputError
from shoplens.models._fitting import (
    BootstrapIntervals,
    DistinctValues,
    FloatArray,
    MaximumLikelihood,
    WeightedRows,
    check_bootstrap_settings,
    collapse_identical_rows,
    maximise_log_likelihood,
    refitting_bootstrap,
    small_data_warnings,
)
from shoplens.models._validation import validate_columns

MODEL_NAME = "Gamma-Gamma"
SHAPE_PARAMETERS = ("p", "q")
PARAM_NAMES = ("p", "q", "gamma")

# |Pearson ρ| between frequency and average spend above which the independence assumption is doubtful. 0.3 is the
# usual "weak correlation" cut-off; CDNOW, the textbook case where the model is appropriate, has 0.11.
INDEPENDENCE_WARNING_CORRELATION = 0.3


def log_likelihood_per_customer(
    params: npt.ArrayLike, frequency: npt.ArrayLike, monetary_value: npt.ArrayLike
) -> FloatArray:
    """Density of the observed mean spend m_x of x purchases, marginal over ν (the note's likelihood)."""
    p, q, gamma = (float(v) for v in np.asarray(params, dtype=np.float64))
    x = DistinctValues.of(np.asarray(frequency, dtype=np.float64))
    m_x = np.asarray(monetary_value, dtype=np.float64)
    return _log_likelihood(p, q, gamma, x, m_x, np.log(gamma + x.column * m_x))


def _log_likelihood(
    p: float, q: float, gamma: float, frequency: DistinctValues, m_x: FloatArray, log_total_scale: FloatArray
) -> FloatArray:
    # Γ(px+q)/(Γ(px)Γ(q)) · γ^q x^(px) m_x^(px−1) / (γ + x m_x)^(px+q); x^(px) is the Jacobian from the sum of
    # x amounts to their mean. Functions of x alone are evaluated once per distinct x.
    levels = frequency.values
    p_levels = p * levels
    px = p * frequency.column
    per_level = special.gammaln(p_levels + q) - special.gammaln(p_levels) + p_levels * np.log(levels)
    return np.asarray(
        frequency.expand(per_level)
        - special.gammaln(q)
        + q * np.log(gamma)
        + (px - 1.0) * np.log(m_x)
        - (px + q) * log_total_scale
    )


def _total_log_likelihood_and_gradient(
    params: FloatArray, rows: WeightedRows, frequency: DistinctValues
) -> tuple[float, FloatArray]:
    p, q, gamma = (float(v) for v in params)
    _, m_x = rows.columns
    x = frequency.column
    levels = frequency.values
    weights = rows.counts
    px = p * x
    total_scale = gamma + x * m_x
    log_total_scale = np.log(total_scale)
    digamma_pxq_levels = special.digamma(p * levels + q)
    d_p = x * (
        frequency.expand(digamma_pxq_levels - special.digamma(p * levels) + np.log(levels))
        + np.log(m_x)
        - log_total_scale
    )
    d_q = frequency.expand(digamma_pxq_levels) - special.digamma(q) + np.log(gamma) - log_total_scale
    d_gamma = q / gamma - (px + q) / total_scale
    gradient = np.array([weights @ d_p, weights @ d_q, weights @ d_gamma])
    log_likelihood = _log_likelihood(p, q, gamma, frequency, m_x, log_total_scale)
    return float(weights @ log_likelihood), gradient


def _starting_values(rows: WeightedRows) -> FloatArray:
    _, m_x = rows.columns
    # Start where the population mean spend pγ/(q−1) equals the observed mean: p = 2, q = 3, γ = mean.
    observed_mean = float(rows.counts @ m_x) / float(rows.counts.sum())
    return np.array([2.0, 3.0, observed_mean])


@dataclass(frozen=True)
class FittedGammaGamma:
    """A fitted Gamma-Gamma spend model."""

    params: dict[str, float]
    log_likelihood: float
    n_customers: int
    frequency_monetary_correlation: float
    converged: bool
    warnings: list[str] = field(default_factory=list)

    def expected_average_spend(self) -> float:
        """Population mean spend per purchase, pγ/(q−1); infinite (NaN) when q ≤ 1."""
        p, q, gamma = self.params["p"], self.params["q"], self.params["gamma"]
        return p * gamma / (q - 1.0) if q > 1.0 else float("nan")

    def conditional_expected_average_spend(self, frequency: npt.ArrayLike, monetary_value: npt.ArrayLike) -> FloatArray:
        """E[mean spend | x, m_x] = (pγ + p·x·m_x)/(p·x + q − 1); the population mean for x = 0."""
        p, q, gamma = self.params["p"], self.params["q"], self.params["gamma"]
        x = np.asarray(frequency, dtype=np.float64)
        m_x = np.asarray(monetary_value, dtype=np.float64)
        denominator = p * x + q - 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            expected = np.where(denominator > 0, (p * gamma + p * x * m_x) / denominator, np.nan)
        return np.asarray(expected, dtype=np.float64)


def _repeat_buyers(data: pd.DataFrame) -> tuple[FloatArray, FloatArray, list[str]]:
    arrays = validate_columns(data, ("frequency", "monetary_value"), model=MODEL_NAME)
    frequency, monetary_value = arrays["frequency"], arrays["monetary_value"]
    repeat = frequency > 0
    warnings: list[str] = []
    zero_spend = repeat & (monetary_value <= 0)
    if zero_spend.any():
        warnings.append(
            f"{int(zero_spend.sum())} repeat buyer(s) with monetary_value 0 left out: the model needs positive spend"
        )
    used = repeat & (monetary_value > 0)
    if int(used.sum()) < 2:
        raise InputError(
            f"{MODEL_NAME}: needs at least 2 repeat buyers (frequency > 0) with positive monetary_value, "
            f"got {int(used.sum())}"
        )
    frequency, monetary_value = frequency[used], monetary_value[used]
    if np.all(monetary_value == monetary_value[0]):
        raise InputError(
            f"{MODEL_NAME}: every repeat buyer has the same monetary_value, so spend does not vary across customers "
            "and the model has no maximum"
        )
    return frequency, monetary_value, warnings


def _fit_rows(rows: WeightedRows, start: FloatArray | None = None, deadline: float | None = None) -> MaximumLikelihood:
    frequency = DistinctValues.of(rows.columns[0])
    return maximise_log_likelihood(
        PARAM_NAMES,
        _starting_values(rows) if start is None else start,
        rows.counts.sum(),
        log_likelihood_with_gradient=lambda params: _total_log_likelihood_and_gradient(params, rows, frequency),
        shape_parameters=SHAPE_PARAMETERS,
        deadline=deadline,
    )


def _has_two_spend_levels(rows: WeightedRows) -> bool:
    """A resample the model can be fitted on: more than one distinct repeat buyer."""
    return len(rows.counts) >= 2


def fit(data: pd.DataFrame) -> FittedGammaGamma:
    """Fit the Gamma-Gamma model on the repeat buyers of ``data`` (columns ``frequency``, ``monetary_value``)."""
    frequency, monetary_value, warnings = _repeat_buyers(data)
    rows = collapse_identical_rows(frequency, monetary_value)
    found = _fit_rows(rows)
    warnings = small_data_warnings(len(frequency), len(frequency)) + warnings + found.warnings
    correlation = float(np.corrcoef(frequency, monetary_value)[0, 1]) if np.ptp(frequency) > 0 else float("nan")
    if abs(correlation) > INDEPENDENCE_WARNING_CORRELATION:
        warnings.append(
            f"frequency and average spend are correlated (Pearson ρ = {correlation:.2f}); the Gamma-Gamma model "
            "assumes they are independent, so spend predictions may be biased"
        )
    if found.params["q"] <= 1.0:
        warnings.append("q ≤ 1: the population mean spend is not finite; spend predictions for new buyers are NaN")
    return FittedGammaGamma(
        params=found.params,
        log_likelihood=found.log_likelihood,
        n_customers=len(frequency),
        frequency_monetary_correlation=correlation,
        converged=found.converged,
        warnings=warnings,
    )


def bootstrap(
    data: pd.DataFrame, *, n: int = 200, seed: int = 0, level: float = 0.95, seconds: float | None = None
) -> BootstrapIntervals:
    """Percentile bootstrap intervals for p, q, γ from ``n`` refits on repeat buyers resampled with replacement; with
    ``seconds``, the refits stop once that time budget is spent (see :func:`refitting_bootstrap`)."""
    check_bootstrap_settings(n, level)
    frequency, monetary_value, _ = _repeat_buyers(data)
    rows = collapse_identical_rows(frequency, monetary_value)
    return refitting_bootstrap(
        rows, _fit_rows, usable=_has_two_spend_levels, n_resamples=n, seed=seed, level=level, seconds=seconds
    )
