"""Churn risk: the chance that a customer buys nothing in the next window, in bands chosen on a holdout.

**The score** is P(no purchase in (T, T+w] | x, t_x, T) from the fitted transaction model (BG/NBD or Pareto/NBD,
their ``probability_no_purchase``), for a window of w days. It is used instead of 1 − P(alive) because P(alive) is
no churn score on real shops: BG/NBD gives every customer without a repeat purchase P(alive) = 1, and when a shop's
year of data shows no visible dropout (UCI Online Retail: BG/NBD's a, Pareto/NBD's s run off to ~1e-6) P(alive) is
near 1 for everyone. P(no purchase) also uses how often a customer buys, so a one-time buyer of a year ago scores
high even when the model thinks she may still be "alive". It is a probability, so it can be checked for calibration.

**The bands** ``low | medium | high`` are cut on that score at two cut-offs chosen on a holdout (time split):
the customers are ordered by score and split into three contiguous groups so that the groups' observed holdout
purchase rates are as far apart as they can be (the split maximises the between-group sum of squares of
"bought in the holdout", Fisher's (1958) optimal grouping of an ordered sequence; customers with equal scores stay
in one group). The cut-offs are saved with the fit and used by ``clv predict``.

**The validation** reports the AUC of the score against "no purchase in the holdout" (Mann-Whitney, ties counted
half), the holdout purchase rate per band with a 95 % Wilson interval, the Brier score of the predicted
P(purchase) beside that of the base rate, and predicted against observed P(purchase) per score decile.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from shoplens.errors import InputError
from shoplens.models._fitting import FloatArray

CHURN_RISK_BANDS = ("low", "medium", "high")
# The churn window when no holdout is given: the last quarter, the window the lifecycle states call "active".
CHURN_WINDOW_DAYS = 90
# When a store's customers take more distinct scores than this, cut-offs are searched among this many quantiles
# of the score (the search compares every pair of candidates); a finer grid changes the band shares by < 0.1 %.
MAX_CUT_OFF_CANDIDATES = 1000
CALIBRATION_GROUPS = 10
TIE_DECIMALS = 12
# z for the 95 % Wilson interval of a band's holdout purchase rate.
WILSON_Z = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class ChurnBands:
    """Cut-offs on P(no purchase in the next ``window_days`` days): "medium" from ``medium_from``, "high" from
    ``high_from``; ``chosen_on`` says where they come from (``"holdout"`` or, without one, ``"model"``)."""

    window_days: float
    medium_from: float
    high_from: float
    chosen_on: str = "holdout"

    def band(self, p_no_purchase: npt.ArrayLike) -> npt.NDArray[np.object_]:
        score = np.asarray(p_no_purchase, dtype=np.float64)
        bands = np.where(score >= self.high_from, "high", np.where(score >= self.medium_from, "medium", "low"))
        return bands.astype(object)

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": "p_no_purchase",
            "window_days": self.window_days,
            "medium_from": self.medium_from,
            "high_from": self.high_from,
            "chosen_on": self.chosen_on,
        }

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> ChurnBands:
        return cls(
            window_days=float(document["window_days"]),
            medium_from=float(document["medium_from"]),
            high_from=float(document["high_from"]),
            chosen_on=str(document.get("chosen_on", "holdout")),
        )


def churn_risk_band(p_no_purchase: npt.ArrayLike, bands: ChurnBands) -> npt.NDArray[np.object_]:
    """``"low"``, ``"medium"`` or ``"high"`` per customer, from P(no purchase in the window) and the cut-offs."""
    return bands.band(p_no_purchase)


def area_under_curve(score: npt.ArrayLike, event: npt.ArrayLike) -> float:
    """AUC of ``score`` for the binary ``event``: the chance that a random customer with the event scores higher
    than a random one without (ties count half), from the Mann-Whitney rank sum. NaN without both kinds."""
    values = np.asarray(score, dtype=np.float64)
    positive = np.asarray(event, dtype=bool)
    n_positive = int(positive.sum())
    n_negative = len(positive) - n_positive
    if n_positive == 0 or n_negative == 0:
        return float("nan")
    # Customers with the same history get the same score up to the last bit of floating point (vectorised exp and
    # log may differ there); rounding keeps them tied.
    ranks = stats.rankdata(np.round(values, TIE_DECIMALS))
    rank_sum = float(ranks[positive].sum())
    return (rank_sum - n_positive * (n_positive + 1) / 2.0) / (n_positive * n_negative)


def choose_cut_offs(p_no_purchase: npt.ArrayLike, purchased: npt.ArrayLike) -> tuple[float, float]:
    """(medium_from, high_from): the two cut-offs on the score that split the customers, ordered by score, into
    three groups whose mean ``purchased`` (observed 0/1, or predicted probabilities) differ the most.

    Maximising the between-group sum of squares Σ n_k (ȳ_k − ȳ)² is maximising Σ Y_k² / n_k (Y_k the group's
    purchases), evaluated for every pair of candidate cut-offs from prefix sums.
    """
    score = np.asarray(p_no_purchase, dtype=np.float64)
    outcome = np.asarray(purchased, dtype=np.float64)
    if len(score) != len(outcome) or not np.all(np.isfinite(score)) or not np.all(np.isfinite(outcome)):
        raise InputError("churn cut-offs need one finite score and one finite outcome per customer")
    order = np.argsort(score, kind="stable")
    sorted_score, sorted_outcome = score[order], outcome[order]
    # A cut can only fall where the score changes (equal scores stay in one band).
    starts = np.flatnonzero(np.diff(sorted_score) > 0) + 1
    if len(starts) < 2:
        raise InputError(
            f"churn cut-offs need at least 3 distinct scores among the {len(score)} customers, got {len(starts) + 1}"
        )
    if len(starts) > MAX_CUT_OFF_CANDIDATES:
        wanted = np.linspace(0, len(score), MAX_CUT_OFF_CANDIDATES + 2)[1:-1]
        starts = np.unique(starts[np.clip(np.searchsorted(starts, wanted), 0, len(starts) - 1)])
    cumulative = np.concatenate([[0.0], np.cumsum(sorted_outcome)])
    total_n, total_y = float(len(score)), cumulative[-1]
    n_first, y_first = starts.astype(np.float64), cumulative[starts]
    # first cut at starts[i], second at starts[j], i < j
    n_mid = n_first[None, :] - n_first[:, None]
    y_mid = y_first[None, :] - y_first[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        objective = (
            (y_first**2 / n_first)[:, None]
            + y_mid**2 / n_mid
            + ((total_y - y_first) ** 2 / (total_n - n_first))[None, :]
        )
    objective[n_mid <= 0] = -np.inf
    i, j = np.unravel_index(int(np.argmax(objective)), objective.shape)
    return float(sorted_score[starts[i]]), float(sorted_score[starts[j]])


def _finite_or_none(value: float) -> float | None:
    return value if np.isfinite(value) else None


def _wilson_interval(successes: float, n: int) -> tuple[float | None, float | None]:
    if n == 0:
        return None, None
    share = successes / n
    denominator = 1.0 + WILSON_Z**2 / n
    centre = (share + WILSON_Z**2 / (2 * n)) / denominator
    half_width = WILSON_Z * np.sqrt(share * (1 - share) / n + WILSON_Z**2 / (4 * n * n)) / denominator
    return float(max(centre - half_width, 0.0)), float(min(centre + half_width, 1.0))


def validate_churn_score(
    p_no_purchase: npt.ArrayLike,
    purchased: npt.ArrayLike,
    bands: ChurnBands,
    *,
    p_alive: npt.ArrayLike | None = None,
) -> dict[str, Any]:
    """How well the score and its bands foretold who bought in the holdout (module docstring)."""
    score = np.asarray(p_no_purchase, dtype=np.float64)
    bought = np.asarray(purchased, dtype=np.float64) > 0
    predicted_purchase = 1.0 - score
    band = bands.band(score)
    rows = []
    for name in CHURN_RISK_BANDS:
        members = band == name
        n = int(members.sum())
        low, high = _wilson_interval(float(bought[members].sum()), n)
        rows.append(
            {
                "band": name,
                "customers": n,
                "share": n / len(score) if len(score) else None,
                "holdout_purchase_rate": float(bought[members].mean()) if n else None,
                "holdout_purchase_rate_low": low,
                "holdout_purchase_rate_high": high,
                "predicted_purchase_rate": float(predicted_purchase[members].mean()) if n else None,
            }
        )
    intervals = [
        _wilson_interval(float(bought[band == name].sum()), int((band == name).sum())) for name in CHURN_RISK_BANDS
    ]
    filled = [(low, high) for low, high in intervals if low is not None and high is not None]
    # Each band's purchase rate is clearly above the next riskier one's: their 95 % intervals do not overlap.
    separated = all(safer[0] > riskier[1] for safer, riskier in pairwise(filled))
    rate = float(bought.mean())
    document: dict[str, Any] = {
        "score": "p_no_purchase",
        "window_days": bands.window_days,
        "customers": len(score),
        "holdout_purchase_rate": rate,
        "auc": _finite_or_none(area_under_curve(score, ~bought)),
        "auc_p_alive": None,
        "brier": float(np.mean((predicted_purchase - bought) ** 2)),
        "brier_base_rate": rate * (1.0 - rate),
        "bands": rows,
        "bands_separated": separated,
        "calibration": _calibration(predicted_purchase, bought),
    }
    if p_alive is not None:
        document["auc_p_alive"] = _finite_or_none(
            area_under_curve(1.0 - np.asarray(p_alive, dtype=np.float64), ~bought)
        )
    return document


def _calibration(predicted_purchase: FloatArray, bought: npt.NDArray[np.bool_]) -> list[dict[str, Any]]:
    """Mean predicted against observed P(purchase) in each tenth of the customers ordered by the prediction."""
    order = np.argsort(predicted_purchase, kind="stable")
    groups = np.array_split(order, min(CALIBRATION_GROUPS, len(order)))
    return [
        {
            "decile": number,
            "customers": len(members),
            "predicted_purchase_rate": float(predicted_purchase[members].mean()),
            "observed_purchase_rate": float(bought[members].mean()),
        }
        for number, members in enumerate(groups, start=1)
        if len(members)
    ]
