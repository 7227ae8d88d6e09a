"""The Cohorts page's tables: cohort rows by period columns, each cell written out and shaded.

Period 0 is the first order's own period: its retention is 100 % by definition, so it is shown uncoloured and
the colour scale runs over periods 1 and later only, from white (the lowest value there) to full blue (the
highest). Nothing is computed here but the presentation: the numbers are the rows of ``CohortResult``, the same
the API returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from shoplens.reports import NumberStyle

GRAIN_WORDS = {"week": "Week", "month": "Month", "quarter": "Quarter"}
# the cells' colour: a dark blue at full strength for the highest value of periods 1 and later
SCALE_RGB = (30, 64, 175)
FULL_STRENGTH = 0.85  # the opacity of the highest value's colour over the white table


def _relative_luminance(rgb: tuple[float, float, float]) -> float:
    """WCAG 2's relative luminance of an sRGB colour (channels 0–255)."""

    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(c) for c in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def _ink_on(background: tuple[float, float, float]) -> str:
    """White or black, whichever contrasts more with ``background``: one of them always reaches WCAG's 4.5:1."""
    luminance = _relative_luminance(background)
    on_white_ink = 1.05 / (luminance + 0.05)
    on_black_ink = (luminance + 0.05) / 0.05
    return "#fff" if on_white_ink >= on_black_ink else "#000"


@dataclass(frozen=True)
class Cell:
    text: str
    value: float | None
    style: str  # an inline background, "" for period 0 and for missing values


@dataclass(frozen=True)
class CohortLine:
    cohort: str
    customers: int
    cells: list[Cell]


@dataclass(frozen=True)
class CohortGrid:
    measure: str  # the result field shown
    title: str
    caption: str
    headers: list[str]
    lines: list[CohortLine]


def cohort_label(cohort: Any, grain: str) -> str:
    """A cohort as a person names it: ``Jan 2025``, ``2025 Q1``, ``week of 2025-01-06``."""
    if not isinstance(cohort, date):
        cohort = date.fromisoformat(str(cohort)[:10])
    if grain == "month":
        return f"{cohort:%b %Y}"
    if grain == "quarter":
        return f"{cohort.year} Q{(cohort.month - 1) // 3 + 1}"
    return f"week of {cohort.isoformat()}"


def period_headers(grain: str, width: int) -> list[str]:
    word = GRAIN_WORDS[grain]
    return [f"{word} of first order" if index == 0 else f"{word} {index}" for index in range(width)]


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def cohort_grid(
    rows: list[dict[str, Any]], grain: str, measure: str, title: str, caption: str, style: NumberStyle
) -> CohortGrid:
    """The long rows of a cohort result as a grid of ``measure``, shaded over periods 1 and later; amounts in the
    store's currency (``style``)."""
    write = style.money if measure == "cumulative_revenue_per_customer" else percent
    by_cohort: dict[Any, dict[int, float | None]] = {}
    sizes: dict[Any, int] = {}
    for row in rows:
        value = row[measure]
        by_cohort.setdefault(row["cohort"], {})[int(row["period_index"])] = None if value is None else float(value)
        sizes[row["cohort"]] = int(row["cohort_customers"])
    width = max((max(cells) for cells in by_cohort.values()), default=-1) + 1
    later = [v for cells in by_cohort.values() for i, v in cells.items() if i >= 1 and v is not None]
    low, high = (min(later), max(later)) if later else (0.0, 0.0)

    def shade(index: int, value: float | None) -> str:
        if index == 0 or value is None or high <= low:
            return ""
        opacity = round((value - low) / (high - low) * FULL_STRENGTH, 3)
        red, green, blue = SCALE_RGB
        shown = tuple(255 - opacity * (255 - c) for c in SCALE_RGB)  # the colour over the white table
        ink = _ink_on((shown[0], shown[1], shown[2]))  # every cell's text keeps a contrast of at least 4.5:1
        return f"background-color: rgba({red}, {green}, {blue}, {opacity:.3f}); color: {ink}"

    lines = [
        CohortLine(
            cohort=cohort_label(cohort, grain),
            customers=sizes[cohort],
            cells=[
                Cell(write(cells[i]), cells[i], shade(i, cells[i])) if i in cells else Cell("", None, "")
                for i in range(width)
            ],
        )
        for cohort, cells in by_cohort.items()
    ]
    return CohortGrid(measure, title, caption, period_headers(grain, width), lines)
