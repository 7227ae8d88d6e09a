"""The monthly online customer report: KPIs against the previous month, RFM segments, cohort retention, hidden
needs (complaints by value at risk, wishes, silent dissatisfaction) and the next steps they point to.

:func:`build_monthly_report` asks the runner the questions; :func:`render_html` lays the answers out (charts as
inline SVG drawn with the DejaVu Sans font); :func:`render_pdf` prints that HTML with weasyprint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from shoplens.actions import Recommendation
from shoplens.errors import FieldError, InputError
from shoplens.metrics import python_period_end, python_period_start
from shoplens.queries import (
    CohortQuery,
    CohortResult,
    KpiQuery,
    KpiResult,
    NeedsQuery,
    NeedsResult,
    QueryRunner,
    RecommendQuery,
    RecommendResult,
    RfmQuery,
    RfmResult,
    SegmentRow,
    TargetPacingQuery,
    TargetPacingResult,
    TargetSpec,
)
from shoplens.reports._charts import bar_chart, heatmap
from shoplens.reports._numbers import NumberStyle

REPORT_KPIS = (
    ("revenue", "Revenue"),
    ("orders", "Orders"),
    ("customers", "Customers"),
    ("new_customers", "New customers"),
    ("returning_customers", "Returning customers"),
    ("aov", "Average order value"),
    ("repeat_rate", "Repeat rate"),
    ("refund_rate", "Refund rate"),
)
COHORTS_SHOWN = 12
# segments whose customers are slipping away: the report names the one with the most revenue behind it
SLIPPING_SEGMENTS = ("Can't lose them", "At risk", "About to sleep", "Need attention")
# the default question, exactly as `shoplens voice needs`, the API and the dashboard ask it: the same figures
REPORT_NEEDS = NeedsQuery()
RECOMMENDATIONS_SHOWN = 5


@dataclass(frozen=True)
class MonthlyReport:
    month: date
    previous_month: date
    current: dict[str, Any]
    previous: dict[str, Any]  # the previous month's figures on the days compared against (all of it, or the same days)
    segments: list[SegmentRow]
    rfm_as_of: date
    cohort_rows: list[dict[str, Any]]
    data_version: int | None
    hidden_needs: dict[str, Any] | None  # the ``voice needs`` document; None when no feedback is imported
    next_steps: list[str]
    recommendations: list[Recommendation]  # the top of ``shoplens recommend``, as of the data end
    against_target: list[dict[str, Any]]  # the month's targets with actual, projection and on_track (may be empty)
    data_end: date  # the last store-local day with a purchase or a refund
    chosen: str | None = None  # why this month, when the caller named none

    @property
    def partial(self) -> bool:
        return bool(self.current.get("partial"))

    @property
    def through(self) -> date:
        through = self.current.get("through")
        return through if isinstance(through, date) else python_period_end(self.month, "month")

    def comparison(self) -> str:
        """What the report compares, in words."""
        if not self.previous:
            return f"{self.previous_month:%B %Y} has no orders or refunds to compare with."
        if not self.partial:
            return f"Compared with {self.previous_month:%B %Y}."
        current = _days(self.current["covers_from"], self.current["through"])
        previous = _days(self.current["compared_from"], self.current["compared_through"])
        return (
            f"{self.month:%B %Y} is partial: the data cover {current} ({self.current['days_with_data']} of "
            f"{self.current['days_in_period']} days). It is compared with the same days of the previous month, "
            f"{previous}, not with all of {self.previous_month:%B %Y}."
        )

    def column_labels(self) -> tuple[str, str]:
        """The headings of the two KPI columns: the month, with its days when they are not the whole month."""
        if not self.partial or not self.previous:
            return f"{self.month:%Y-%m}", f"{self.previous_month:%Y-%m}"
        return (
            f"{_days(self.current['covers_from'], self.current['through'])}",
            f"{_days(self.current['compared_from'], self.current['compared_through'])}",
        )

    def kpi_lines(self) -> list[dict[str, Any]]:
        """Each KPI this month and last; the change is the runner's two numbers side by side, not a new metric."""
        return [
            {"key": key, "label": label, "current": self.current.get(key), "previous": self.previous.get(key)}
            for key, label in REPORT_KPIS
        ]

    def summary(self) -> dict[str, Any]:
        """What the report covers, for ``shoplens report --json``."""
        return {
            "month": f"{self.month:%Y-%m}",
            "partial": self.partial,
            "through": self.through.isoformat(),
            "days_with_data": self.current.get("days_with_data"),
            "days_in_month": self.current.get("days_in_period"),
            "data_end": self.data_end.isoformat(),
            "compared_from": _iso(self.current.get("compared_from")),
            "compared_through": _iso(self.current.get("compared_through")),
            "comparison": self.current.get("comparison"),
            "rfm_as_of": self.rfm_as_of.isoformat(),
            "chosen": self.chosen,
        }


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, date) else None


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _days(first: date, last: date) -> str:
    """``1–9 December 2011``, or ``28 November – 3 December 2011`` across months."""
    if first == last:
        return f"{first.day} {first:%B %Y}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {last:%B %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%B} – {last.day} {last:%B %Y}"
    return f"{first.day} {first:%B %Y} – {last.day} {last:%B %Y}"


def parse_month(text: str) -> date:
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise FieldError(f"{{month}} wants YYYY-MM, not {text[:20]!r}") from None


def default_month(rows: list[dict[str, Any]]) -> tuple[date, str]:
    """The month a report covers when none is named: the last complete one (the last month whose last day is on
    or before the data end), and why, in words. ``rows`` are the monthly KPI rows of the whole store."""
    if not rows:
        raise InputError("the warehouse has no orders to report on")
    last = rows[-1]
    complete = [row for row in rows if row["period_end"] <= last["through"]]
    if not complete:
        return last["period"], (
            f"{last['period']:%B %Y} is the only month with data and it is partial (data through "
            f"{_day(last['through'])}); no month is complete yet."
        )
    month = complete[-1]["period"]
    if complete[-1] is last:
        return month, f"{month:%B %Y} is the last complete month (the data end on {_day(last['through'])})."
    return month, (
        f"{month:%B %Y} is the last complete month: {last['period']:%B %Y} has data only through "
        f"{_day(last['through'])} ({last['days_with_data']} of {last['days_in_period']} days), so it is "
        "left out by default (ask for it with --month)."
    )


def build_monthly_report(
    runner: QueryRunner, month: date | None = None, targets: Sequence[TargetSpec] = ()
) -> MonthlyReport:
    """The report of ``month`` (default: the last complete month; see :func:`default_month`).

    A month the data end in is partial: its figures are compared with the same days of the previous month, and
    its RFM segments are as of the data end, not the month's last day.
    """
    every_month = runner.run(KpiQuery(grain="month"), KpiResult).rows
    if not every_month:
        raise InputError("the warehouse has no orders to report on")
    data_end = every_month[-1]["through"]
    assert isinstance(data_end, date)
    chosen = None
    if month is None:
        month, chosen = default_month(every_month)
    first = python_period_start(month, "month")
    previous_first = python_period_start(first - timedelta(days=1), "month")
    kpis = runner.run(KpiQuery(grain="month", start=previous_first, end=python_period_end(first, "month")), KpiResult)
    by_period = {row["period"]: row for row in kpis.rows}
    if first not in by_period:
        raise InputError(f"no orders in {first:%Y-%m}")
    current = by_period[first]
    previous = by_period.get(previous_first, {})
    if current["partial"] and current["compared_from"] is not None:
        same_days = KpiQuery(grain="month", start=current["compared_from"], end=current["compared_through"])
        previous = runner.run(same_days, KpiResult).rows[0]
    rfm = runner.run(RfmQuery(as_of=min(python_period_end(first, "month"), data_end)), RfmResult)
    cohorts = runner.run(CohortQuery(grain="month"), CohortResult)
    recent = sorted({row["cohort"] for row in cohorts.rows if row["cohort"] <= first})[-COHORTS_SHOWN:]
    needs = hidden_needs(runner)
    return MonthlyReport(
        month=first,
        previous_month=previous_first,
        current=current,
        previous=previous,
        segments=rfm.segments,
        rfm_as_of=rfm.as_of,
        cohort_rows=[r for r in cohorts.rows if r["cohort"] in recent and r["period_index"] <= COHORTS_SHOWN],
        data_version=kpis.data_version,
        hidden_needs=needs,
        next_steps=next_steps(rfm.segments, needs),
        recommendations=runner.run(RecommendQuery(), RecommendResult).recommendations[:RECOMMENDATIONS_SHOWN],
        against_target=_against_target(runner, targets, first),
        data_end=data_end,
        chosen=chosen,
    )


def _against_target(runner: QueryRunner, targets: Sequence[TargetSpec], first: date) -> list[dict[str, Any]]:
    """The report month's targets as ``shoplens targets pacing`` answers them."""
    month = f"{first:%Y-%m}"
    chosen = tuple(t for t in targets if t.period == month)
    if not chosen:
        return []
    return runner.run(TargetPacingQuery(targets=chosen), TargetPacingResult).targets


def hidden_needs(runner: QueryRunner) -> dict[str, Any] | None:
    """The hidden-needs report over the whole store's feedback, or None when there is no feedback with text."""
    needs = runner.run(REPORT_NEEDS, NeedsResult)
    if needs.sampled_from == 0:
        return None
    return needs.model_dump(mode="json")


def next_steps(segments: list[SegmentRow], needs: dict[str, Any] | None) -> list[str]:
    """What to do next, each step read off a number in the report: the slipping segment with the most revenue,
    the complaint with the most value at risk, the most asked-for upgrade and the largest silent signal."""
    steps = []
    slipping = [s for s in segments if s.segment in SLIPPING_SEGMENTS and s.customers]
    if slipping:
        worst = max(slipping, key=lambda s: s.revenue)
        steps.append(
            f"{worst.segment}: {worst.customers} customers who brought {_display(worst.revenue)} in revenue. "
            f"{worst.action}"
        )
    if needs is not None:
        if needs["complaint_themes"]:
            theme = needs["complaint_themes"][0]
            steps.append(
                f"Fix what customers complain about most: “{theme['name']}” ({theme['texts']} texts from "
                f"{theme['customers']} customers, {_display(theme['value_at_risk'])} of recent spend at risk)."
            )
        if needs["upgrade_wishes"]:
            wish = needs["upgrade_wishes"][0]
            steps.append(f"Consider the upgrade customers ask for most: {wish['name']} ({wish['texts']} texts).")
        signals = (needs.get("silent_dissatisfaction") or {}).get("signals") or {}
        if signals:
            name, signal = max(signals.items(), key=lambda item: item[1]["spend"])
            steps.append(
                f"Reach out to the {signal['customers']} customers showing “{name.replace('_', ' ')}” "
                f"({_display(signal['spend'])} of spend): {signal['rule']}."
            )
    return steps


def _display(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, (Decimal, float)):
        return f"{value:,.2f}"
    return str(value)


_environment = Environment(
    loader=PackageLoader("shoplens.reports", "templates"), autoescape=select_autoescape(["html"]), auto_reload=False
)
_environment.filters["display"] = _display


def render_html(report: MonthlyReport, style: NumberStyle | None = None) -> str:
    """The report as HTML, its numbers written in the store's currency and locale (``style``; US English and
    dollars when not given)."""
    segments = [{"segment": s.segment, "customers": s.customers} for s in report.segments if s.customers]
    cohort_records = [
        {"cohort": f"{r['cohort']:%Y-%m}", "period_index": r["period_index"], "retention": r["retention"]}
        for r in report.cohort_rows
        if r["period_index"] >= 1  # period 0 is 100 % by definition: colouring it would wash out the rest
    ]
    charts = {
        "segments": Markup(bar_chart(segments, category="segment", value="customers", title="Customers by segment")),
        "cohorts": Markup(
            heatmap(
                cohort_records,
                x="period_index",
                y="cohort",
                value="retention",
                title="Retention by cohort, months 1 and later (month 0 is always 100 %)",
            )
        )
        if cohort_records
        else "",
    }
    return _environment.get_template("monthly.html").render(report=report, charts=charts, fmt=style or NumberStyle())


def render_pdf(html: str) -> bytes:
    """``html`` printed to PDF by weasyprint (imported here: only PDF output needs it)."""
    from weasyprint import HTML  # type: ignore[import-untyped]  # weasyprint ships no type hints

    pdf: bytes | None = HTML(string=html).write_pdf()
    assert pdf is not None
    return pdf
