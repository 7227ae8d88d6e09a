"""Retention campaigns with an honest holdout: who is in the group, how it is split, and what the campaign did.

**The group** is every customer of one RFM segment (:func:`shoplens.metrics.rfm_scores`) or of one lifecycle state
(:func:`shoplens.metrics.lifecycle`, named "lifecycle: at risk") as of ``as_of`` (by default the data end), frozen
when the campaign is created.

**The split** (:func:`assign_holdout`) sorts the distinct customer keys, draws one permutation with
``numpy.random.default_rng(seed).permutation(n)`` and puts the first ``round(holdout_share * n)`` keys of that
permutation in the holdout, the rest in the treatment. The seed is stored, so the same seed and the same group
always give the same split, whatever order the keys came in.

**The pre-period** is the :data:`PRE_PERIOD_DAYS` store-local days up to and including ``as_of``; each member's
orders and revenue (net sales less refunds) there are stored with the split.

**Balance** (:func:`balance_check`): the standardised mean difference of pre-period revenue and orders,
``SMD = (mean_t - mean_h) / sqrt((var_t + var_h) / 2)``; above :data:`SMD_LIMIT` in absolute value the groups
differ by more than chance usually makes, and a warning says so.

**Minimum detectable effect** (:func:`minimum_detectable_effect`, 80 % power, 5 % two-sided):
``MDE = (z_0.975 + z_0.8) * sqrt(var / n_t + var / n_h)``. The variance of the window's outcome is predicted
from the pre-period: a member who placed ``k`` orders in the pre-period orders in a window of ``w`` days with
probability ``1 - exp(-k w / 365)`` (a Poisson rate), so the repeat rate's variance is ``p(1 - p)`` at the mean
of those probabilities; the window's revenue is a compound Poisson sum, whose variance is the mean of
``(w / 365) * sum of squared order values`` plus the variance between members of ``(w / 365) * revenue``.

**Measurement** (:func:`cuped_difference`): the difference treatment - holdout of the mean outcome in the
window after ``as_of``, with a 95 % normal interval. CUPED (Deng et al. 2013) first removes what the pre-period
predicts: ``y' = y - theta (x - mean x)`` with ``theta = cov(x, y) / var(x)`` over both groups, ``x`` the
pre-period orders (for the repeat rate) or revenue (for revenue and margin). Because the split is random,
``theta`` does not bias the difference; it only narrows the interval, and the unadjusted interval is reported
beside it. Margin (revenue less the cost of the goods bought) is measured only when every line bought in the
window has a product cost. The repeat rate is the primary outcome: ``significant`` is whether its interval
excludes zero.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy.stats import norm

from shoplens.errors import InputError
from shoplens.metrics import (
    LIFECYCLE_STATES,
    SEGMENT_NAMES,
    Zone,
    data_end,
    lifecycle,
    purchase_lines,
    purchase_refunds,
    purchases,
    rfm_scores,
    with_local_day,
)
from shoplens.metrics._facts import within

PRE_PERIOD_DAYS = 365
SMD_LIMIT = 0.1
POWER = 0.8
ALPHA = 0.05
CONFIDENCE = 0.95
DEFAULT_EXPECTED_UPLIFT = 0.10
PRIMARY_OUTCOME = "repeat_rate"
AUDIENCE_FORMATS = ("klaviyo", "mailchimp")
AudienceFormat = Literal["klaviyo", "mailchimp"]
Arm = Literal["treatment", "holdout"]
LIFECYCLE_PREFIX = "lifecycle: "
AUDIENCE_COLUMNS = ("customer_key", "email", "first_name", "segment", "campaign_id", "tags")
AUDIENCE_ROLES = ("owner", "marketer")


def segment_name(asked: str) -> str:
    """The RFM segment called ``asked`` (case and surrounding spaces ignored); an InputError naming them all."""
    wanted = " ".join(asked.split()).casefold()
    for name in SEGMENT_NAMES:
        if name.casefold() == wanted:
            return name
    raise InputError(f"unknown segment {asked!r}; choose one of: {', '.join(SEGMENT_NAMES)}")


def assign_holdout(keys: Iterable[str], holdout_share: float, seed: int) -> tuple[list[str], list[str]]:
    """``(treatment, holdout)``, each sorted: a seeded random split of the distinct ``keys`` (see the module)."""
    if not 0 < holdout_share < 1:
        raise InputError("the holdout share must be between 0 and 1 (e.g. 0.2 for a fifth)")
    ordered = sorted(set(keys))
    permutation = np.random.default_rng(seed).permutation(len(ordered))
    size = round(holdout_share * len(ordered))
    holdout = sorted(ordered[i] for i in permutation[:size])
    treatment = sorted(ordered[i] for i in permutation[size:])
    return treatment, holdout


def standardised_mean_difference(treatment: Sequence[float], holdout: Sequence[float]) -> float:
    """``(mean_t - mean_h) / sqrt((var_t + var_h) / 2)`` with sample variances; 0 when both groups are constant."""
    t, h = np.asarray(treatment, dtype=float), np.asarray(holdout, dtype=float)
    if len(t) < 2 or len(h) < 2:
        return 0.0
    pooled = math.sqrt((t.var(ddof=1) + h.var(ddof=1)) / 2)
    difference = float(t.mean() - h.mean())
    if pooled == 0:
        return 0.0 if difference == 0 else math.copysign(math.inf, difference)
    return difference / pooled


@dataclass(frozen=True)
class PrePeriod:
    """A member's pre-period: orders, revenue, and the sum of squared order values (for the revenue variance)."""

    orders: int
    revenue: float
    squared_order_values: float = 0.0


def balance_check(treatment: Sequence[PrePeriod], holdout: Sequence[PrePeriod]) -> dict[str, Any]:
    """The SMD of pre-period revenue and orders, with a warning for each above :data:`SMD_LIMIT`."""
    found: dict[str, Any] = {"limit": SMD_LIMIT, "warnings": []}
    for measure in ("revenue", "orders"):
        smd = standardised_mean_difference(
            [float(getattr(m, measure)) for m in treatment], [float(getattr(m, measure)) for m in holdout]
        )
        found[f"smd_{measure}"] = round(smd, 4) if math.isfinite(smd) else None
        if not math.isfinite(smd) or abs(smd) > SMD_LIMIT:
            shown = f"{smd:+.3f}" if math.isfinite(smd) else "unbounded"
            found["warnings"].append(
                f"the groups are unbalanced on pre-period {measure} (SMD {shown}, limit {SMD_LIMIT}): "
                "the CUPED-adjusted measurement corrects for such a difference; drawing again with another seed "
                "before anyone is contacted is fine too"
            )
    found["balanced"] = not found["warnings"]
    return found


def minimum_detectable_effect(
    treatment: Sequence[PrePeriod],
    holdout: Sequence[PrePeriod],
    *,
    window_days: int,
    expected_uplift: float = DEFAULT_EXPECTED_UPLIFT,
) -> dict[str, Any]:
    """The smallest true difference the split finds 80 % of the time at 5 % (two-sided), per outcome.

    ``expected_uplift`` is the relative effect hoped for (0.1 = 10 % more than the baseline); a warning says when
    it is below the minimum detectable effect, with the group size (``customers_needed``) that would detect it.
    """
    n_t, n_h = len(treatment), len(holdout)
    members = [*treatment, *holdout]
    if not n_t or not n_h:
        raise InputError("a campaign needs at least one customer in the treatment and one in the holdout")
    share = window_days / 365
    z = float(norm.ppf(1 - ALPHA / 2) + norm.ppf(POWER))
    scale = math.sqrt(1 / n_t + 1 / n_h)
    chances = np.array([1 - math.exp(-m.orders * share) for m in members])
    rate = float(chances.mean())
    revenue_means = np.array([m.revenue * share for m in members])
    revenue_variance = float(np.mean([m.squared_order_values * share for m in members]) + revenue_means.var())
    baselines = {"repeat_rate": rate, "revenue": float(revenue_means.mean())}
    variances = {"repeat_rate": rate * (1 - rate), "revenue": revenue_variance}
    found: dict[str, Any] = {"power": POWER, "alpha": ALPHA, "expected_uplift": expected_uplift, "warnings": []}
    for outcome, baseline in baselines.items():
        absolute = z * math.sqrt(variances[outcome]) * scale
        relative = absolute / baseline if baseline > 0 else None
        # The MDE shrinks with the square root of the group size at a fixed split, so the size that detects
        # the expected uplift is the present size times (MDE / expected effect) squared.
        needed = math.ceil((n_t + n_h) * (relative / expected_uplift) ** 2) if relative else None
        found[outcome] = {
            "baseline": round(baseline, 6),
            "absolute": round(absolute, 6),
            "relative": round(relative, 4) if relative is not None else None,
            "customers_needed": needed,
        }
        if relative is None or relative > expected_uplift:
            found["warnings"].append(
                f"the group is too small for a {expected_uplift:.0%} uplift in {outcome.replace('_', ' ')}: "
                + (
                    f"the smallest detectable one is {relative:.0%} of the baseline; about {needed:,} customers "
                    "with this split would detect it"
                    if relative is not None
                    else "the pre-period predicts no activity in the window"
                )
            )
    return found


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def rounded(self, digits: int = 6) -> dict[str, float]:
        return {name: round(value, digits) for name, value in asdict(self).items()}


@dataclass(frozen=True)
class Uplift:
    """The CUPED-adjusted difference treatment - holdout, the unadjusted one, and the group means."""

    adjusted: Interval
    unadjusted: Interval
    theta: float
    treatment_mean: float
    holdout_mean: float

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.adjusted.rounded(),
            "width": round(self.adjusted.width, 6),
            "unadjusted": self.unadjusted.rounded(),
            "unadjusted_width": round(self.unadjusted.width, 6),
            "theta": round(self.theta, 6),
            "treatment_mean": round(self.treatment_mean, 6),
            "holdout_mean": round(self.holdout_mean, 6),
            "significant": self.adjusted.excludes_zero,
        }


def _difference(treated: np.ndarray, held: np.ndarray, z: float) -> Interval:
    estimate = float(treated.mean() - held.mean())
    variance = (treated.var(ddof=1) if len(treated) > 1 else 0.0) / len(treated)
    variance += (held.var(ddof=1) if len(held) > 1 else 0.0) / len(held)
    margin = z * math.sqrt(variance)
    return Interval(estimate, estimate - margin, estimate + margin)


def cuped_difference(
    outcome_treatment: Sequence[float],
    outcome_holdout: Sequence[float],
    covariate_treatment: Sequence[float],
    covariate_holdout: Sequence[float],
    *,
    confidence: float = CONFIDENCE,
) -> Uplift:
    """Mean ``outcome`` of the treatment less that of the holdout, CUPED-adjusted by ``covariate`` (see module)."""
    y_t, y_h = np.asarray(outcome_treatment, dtype=float), np.asarray(outcome_holdout, dtype=float)
    x_t, x_h = np.asarray(covariate_treatment, dtype=float), np.asarray(covariate_holdout, dtype=float)
    if not len(y_t) or not len(y_h) or len(x_t) != len(y_t) or len(x_h) != len(y_h):
        raise InputError("both groups need members, each with an outcome and a covariate")
    z = float(norm.ppf(1 - (1 - confidence) / 2))
    x, y = np.concatenate([x_t, x_h]), np.concatenate([y_t, y_h])
    spread = float(x.var(ddof=1)) if len(x) > 1 else 0.0
    theta = float(np.cov(x, y, ddof=1)[0, 1] / spread) if spread > 0 else 0.0
    centre = float(x.mean())
    adjusted = _difference(y_t - theta * (x_t - centre), y_h - theta * (x_h - centre), z)
    return Uplift(adjusted, _difference(y_t, y_h, z), theta, float(y_t.mean()), float(y_h.mean()))


# The warehouse side: Ibis expressions over the stored tables, run by the functions below.


@dataclass(frozen=True)
class Window:
    """Store-local days ``first_day`` to ``last_day``; ``measured_until`` is the last of them with data."""

    first_day: date
    last_day: date
    measured_until: date | None

    @property
    def complete(self) -> bool:
        return self.measured_until is not None and self.measured_until >= self.last_day

    @property
    def days_measured(self) -> int:
        if self.measured_until is None or self.measured_until < self.first_day:
            return 0
        return (min(self.measured_until, self.last_day) - self.first_day).days + 1


def last_day_with_data(backend: ibis.BaseBackend, zone: Zone) -> date | None:
    orders, refunds = _sales(backend)
    value = data_end(orders, refunds, zone).execute()
    return None if value is None or pd.isna(value) else _as_date(value)  # NaT when there are no sales


def _as_date(value: Any) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else date.fromisoformat(str(value)[:10])


def _sales(backend: ibis.BaseBackend) -> tuple[ir.Table, ir.Table]:
    stored = backend.table("orders")
    return purchases(stored), purchase_refunds(backend.table("refunds"), stored)


def lifecycle_group(asked: str) -> str:
    """The group name of lifecycle state ``asked`` ("lifecycle: at risk"); an InputError naming the states."""
    wanted = " ".join(asked.casefold().split())
    if wanted not in LIFECYCLE_STATES:
        raise InputError(f"unknown lifecycle state {asked!r}; choose one of: {', '.join(LIFECYCLE_STATES)}")
    return LIFECYCLE_PREFIX + wanted


def group_keys(backend: ibis.BaseBackend, group: str, *, as_of: date, zone: Zone) -> list[str]:
    """The keys of a campaign's group as of ``as_of``, sorted: an RFM segment, or "lifecycle: STATE"."""
    if not group.startswith(LIFECYCLE_PREFIX):
        return segment_keys(backend, group, as_of=as_of, zone=zone)
    orders, refunds = _sales(backend)
    states = lifecycle(orders, refunds, zone=zone, as_of=as_of)
    chosen = states.filter(states.state == group.removeprefix(LIFECYCLE_PREFIX)).select("customer_key")
    return sorted(str(row["customer_key"]) for row in chosen.to_pyarrow().to_pylist())


def segment_keys(backend: ibis.BaseBackend, segment: str, *, as_of: date, zone: Zone) -> list[str]:
    """The keys of the customers in RFM ``segment`` as of ``as_of``, sorted."""
    orders, refunds = _sales(backend)
    known = orders.filter(orders.customer_key.notnull())
    scores = rfm_scores(known, refunds, zone=zone, as_of=as_of)
    chosen = scores.filter(scores.segment == segment).select("customer_key")
    return sorted(str(row["customer_key"]) for row in chosen.to_pyarrow().to_pylist())


def activity(
    backend: ibis.BaseBackend, keys: Sequence[str], *, first_day: date, last_day: date, zone: Zone
) -> dict[str, dict[str, float]]:
    """Per customer of ``keys`` with activity in the store-local days [first_day, last_day]:
    ``orders, revenue`` (net sales less refunds given then), ``squared_order_values``, ``cost`` (of the goods
    bought) and ``lines_without_cost`` (lines of a product without a cost, and orders stored without lines)."""
    orders, refunds = _sales(backend)
    asked = ibis.memtable({"customer_key": list(keys)}, schema={"customer_key": "string"})
    bought = within(with_local_day(orders, "ordered_at", zone), first_day, last_day).semi_join(asked, "customer_key")
    value = bought.net.cast("float64")
    per_customer = bought.group_by("customer_key").aggregate(
        orders=bought.count(), net_sales=value.sum(), squared_order_values=(value * value).sum()
    )
    given = refunds.filter(refunds.refunded_at.notnull())
    given = within(with_local_day(given, "refunded_at", zone), first_day, last_day).semi_join(asked, "customer_key")
    refunded = given.group_by("customer_key").aggregate(refunds=given.amount.cast("float64").sum())
    lines = purchase_lines(backend.table("order_lines"), backend.table("orders"))
    products = backend.table("products").select("product_id", "cost")
    costed = lines.join(bought.select("order_id", "customer_key"), "order_id").left_join(products, "product_id")
    costs = costed.group_by("customer_key").aggregate(
        cost=(costed.quantity.cast("float64") * costed.cost.cast("float64")).sum(),
        lines_without_cost=costed.cost.isnull().ifelse(1, 0).sum(),  # (PostgreSQL casts no boolean to a number)
    )
    # An order stored without its lines has an unknown cost too: count it as one line without a cost.
    unlined = bought.anti_join(lines, "order_id")
    unlined = unlined.group_by("customer_key").aggregate(orders_without_lines=unlined.count())
    found: dict[str, dict[str, float]] = {}
    for row in per_customer.to_pyarrow().to_pylist():
        found[str(row["customer_key"])] = {
            "orders": float(row["orders"]),
            "revenue": float(row["net_sales"] or 0.0),
            "squared_order_values": float(row["squared_order_values"] or 0.0),
            "cost": 0.0,
            "lines_without_cost": 0.0,
        }
    empty = {"orders": 0.0, "revenue": 0.0, "squared_order_values": 0.0, "cost": 0.0, "lines_without_cost": 0.0}
    for row in refunded.to_pyarrow().to_pylist():
        entry = found.setdefault(str(row["customer_key"]), dict(empty))
        entry["revenue"] -= float(row["refunds"] or 0.0)
    for row in costs.to_pyarrow().to_pylist():
        entry = found.setdefault(str(row["customer_key"]), dict(empty))
        entry["cost"] = float(row["cost"] or 0.0)
        entry["lines_without_cost"] = float(row["lines_without_cost"] or 0.0)
    for row in unlined.to_pyarrow().to_pylist():
        entry = found.setdefault(str(row["customer_key"]), dict(empty))
        entry["lines_without_cost"] += float(row["orders_without_lines"])
    return found


def pre_period(backend: ibis.BaseBackend, keys: Sequence[str], *, as_of: date, zone: Zone) -> dict[str, PrePeriod]:
    """Every key's :class:`PrePeriod` over the :data:`PRE_PERIOD_DAYS` days up to and including ``as_of``."""
    first_day = as_of - timedelta(days=PRE_PERIOD_DAYS - 1)
    found = activity(backend, keys, first_day=first_day, last_day=as_of, zone=zone)
    empty: dict[str, float] = {}
    return {
        key: PrePeriod(
            int(found.get(key, empty).get("orders", 0)),
            round(found.get(key, empty).get("revenue", 0.0), 2),
            found.get(key, empty).get("squared_order_values", 0.0),
        )
        for key in keys
    }


@dataclass(frozen=True)
class Member:
    customer_key: str
    arm: Arm
    pre_orders: int
    pre_revenue: float


def measure(members: Sequence[Member], outcomes: Mapping[str, Mapping[str, float]], window: Window) -> dict[str, Any]:
    """The uplift of each outcome in the window: repeat rate, revenue, and margin when every cost is known."""
    treated = [m for m in members if m.arm == "treatment"]
    held = [m for m in members if m.arm == "holdout"]
    nothing: dict[str, float] = {}

    def outcome(member: Member, name: str) -> float:
        found = outcomes.get(member.customer_key, nothing)
        if name == "repeat_rate":
            return 1.0 if found.get("orders", 0) > 0 else 0.0
        if name == "margin":
            return found.get("revenue", 0.0) - found.get("cost", 0.0)
        return found.get(name, 0.0)

    def covariate(member: Member, name: str) -> float:
        return float(member.pre_orders) if name == "repeat_rate" else member.pre_revenue

    lines_without_cost = int(sum(found.get("lines_without_cost", 0) for found in outcomes.values()))
    anyone_ordered = any(found.get("orders", 0) > 0 for found in outcomes.values())
    names = ["repeat_rate", "revenue"]
    notes: list[str] = []
    if lines_without_cost:
        notes.append(f"no margin: {lines_without_cost} order line(s) in the window have no known product cost")
    elif not anyone_ordered:
        notes.append("no margin: nobody in the campaign ordered in the window yet")
    else:
        names.append("margin")
    uplift = {
        name: cuped_difference(
            [outcome(m, name) for m in treated],
            [outcome(m, name) for m in held],
            [covariate(m, name) for m in treated],
            [covariate(m, name) for m in held],
        ).as_dict()
        for name in names
    }
    for name, found in uplift.items():
        if found["width"] >= found["unadjusted_width"]:
            notes.append(
                f"{name.replace('_', ' ')}: the pre-period predicts little of the window here (theta "
                f"{found['theta']:.3g}), so the CUPED interval is no narrower than the unadjusted one"
            )
    primary = uplift[PRIMARY_OUTCOME]
    significant = bool(primary["significant"])
    if window.days_measured == 0:
        message = "the campaign window has no data yet: import the orders placed since the campaign started"
    elif significant:
        direction = "more" if primary["estimate"] > 0 else "fewer"
        message = (
            f"the treatment bought again {direction} often than the holdout: {primary['estimate']:+.1%} "
            f"(95 % interval {primary['low']:+.1%} to {primary['high']:+.1%})"
        )
    else:
        message = (
            "not significant: the 95 % interval of the repeat-rate difference "
            f"({primary['low']:+.1%} to {primary['high']:+.1%}) includes zero, so the data cannot tell the "
            "campaign's effect from chance"
        )
    if not window.complete:
        message += f"; the window is not over yet ({window.days_measured} of "
        message += f"{(window.last_day - window.first_day).days + 1} days measured)"
    return {
        "uplift": uplift,
        "significant": significant,
        "primary": PRIMARY_OUTCOME,
        "complete": window.complete,
        "window": {
            "first_day": window.first_day.isoformat(),
            "last_day": window.last_day.isoformat(),
            "measured_until": window.measured_until.isoformat() if window.measured_until else None,
            "days_measured": window.days_measured,
        },
        "treatment": len(treated),
        "holdout": len(held),
        "confidence": CONFIDENCE,
        "message": message,
        "notes": notes,
    }


def audience_rows(
    released: Sequence[tuple[str, str, str | None]],
    *,
    segment: str,
    campaign_id: str,
    output_format: AudienceFormat,
) -> list[dict[str, str]]:
    """CSV rows for an e-mail tool from released ``(customer_key, email, name)``; the first name is the
    name's first word. Tags name the campaign and the segment: comma-separated for Mailchimp's Tags column, a
    JSON list (Klaviyo's list property syntax) for Klaviyo."""
    tags = [f"shoplens-campaign-{campaign_id}", "segment-" + "-".join(segment.casefold().replace("'", "").split())]
    tag_text = ",".join(tags) if output_format == "mailchimp" else json.dumps(tags)
    return [
        {
            "customer_key": key,
            "email": email,
            "first_name": (name or "").split()[0] if (name or "").split() else "",
            "segment": segment,
            "campaign_id": campaign_id,
            "tags": tag_text,
        }
        for key, email, name in released
    ]
