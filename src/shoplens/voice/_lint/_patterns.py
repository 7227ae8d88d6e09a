"""Small helpers shared by the rule modules."""

from __future__ import annotations

import re

# Phrases that take the presupposition out of a question ("What, if anything, …").
HEDGED = re.compile(r"\bif (anything|any|at all|so|you|ever)\b", re.IGNORECASE)
TIMEFRAME = re.compile(
    r"\b(in|during|over|within) the (last|past) (\d+|few|two|three|four|seven|fourteen|thirty) (days?|weeks?|months?)\b"
    r"|\b(last|this) (week|month)\b|\btoday\b|\byesterday\b|\b(last|most recent|latest) (order|purchase|visit)\b",
    re.IGNORECASE,
)


def any_of(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
