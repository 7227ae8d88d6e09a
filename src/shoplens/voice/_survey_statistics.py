"""Survey scores with their 95 % intervals: NPS (from the multinomial variance), CSAT and any proportion
(Wilson score interval).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

Z_95 = 1.959963984540054


def net_promoter_score(scores: Sequence[int]) -> dict[str, Any]:
    """NPS = % promoters (9-10) − % detractors (0-6), with a 95 % interval from the multinomial variance.

    Var(p̂ − d̂) = (p + d − (p − d)²) / n for promoter and detractor shares p, d of n answers.
    """
    n = len(scores)
    if n == 0:
        return {"n": 0, "nps": None, "ci_low": None, "ci_high": None, "promoters": 0, "passives": 0, "detractors": 0}
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    p, d = promoters / n, detractors / n
    half_width = Z_95 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n)
    return {
        "n": n,
        "nps": round(100 * (p - d), 2),
        "ci_low": round(max(-100.0, 100 * (p - d - half_width)), 2),
        "ci_high": round(min(100.0, 100 * (p - d + half_width)), 2),
        "promoters": promoters,
        "passives": n - promoters - detractors,
        "detractors": detractors,
    }


def wilson_interval(successes: int, n: int) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion."""
    if n == 0:
        return (0.0, 1.0)
    share = successes / n
    denominator = 1 + Z_95**2 / n
    centre = (share + Z_95**2 / (2 * n)) / denominator
    spread = Z_95 * math.sqrt(share * (1 - share) / n + Z_95**2 / (4 * n * n)) / denominator
    return (max(0.0, centre - spread), min(1.0, centre + spread))


def customer_satisfaction(scores: Sequence[int]) -> dict[str, Any]:
    """CSAT: the share of 4-5 answers on the 1-5 scale, with its 95 % Wilson interval, and the mean score."""
    n = len(scores)
    satisfied = sum(1 for s in scores if s >= 4)
    low, high = wilson_interval(satisfied, n)
    return {
        "n": n,
        "csat": round(satisfied / n, 4) if n else None,
        "ci_low": round(low, 4) if n else None,
        "ci_high": round(high, 4) if n else None,
        "satisfied": satisfied,
        "mean": round(sum(scores) / n, 3) if n else None,
    }
