"""A joint plan's progress: each shared KPI paced exactly as a target (:class:`TargetPacingQuery`), with the
number of customers behind its month's figure, so a partner's view can hold back a month of fewer than k.

The plan itself lives in the app database; the caller puts its KPIs into the question (``target_specs(plan.kpis)``),
so an answer is cached under what was asked.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import ClassVar

from shoplens.actions import monthly_kpis, period_start, shift_months
from shoplens.queries._base import Query, Result, Row, answers
from shoplens.queries._context import QueryContext, rows
from shoplens.queries._plans import TargetPacingQuery, TargetPacingResult, TargetSpec, _sales_tables


class PlanProgressQuery(Query):
    kind: ClassVar[str] = "plan_progress"
    kpis: tuple[TargetSpec, ...] = ()


class PlanProgressResult(Result):
    query: PlanProgressQuery
    method: str
    as_of: date | None
    kpis: list[Row]


@answers(PlanProgressQuery, PlanProgressResult)
def answer_plan_progress(context: QueryContext, query: PlanProgressQuery) -> PlanProgressResult:
    pacing = context.run(TargetPacingQuery(targets=query.kpis), TargetPacingResult)
    if not query.kpis:
        return PlanProgressResult(query=query, method=pacing.method, as_of=pacing.as_of, kpis=[])
    months = sorted({period_start(spec.period) for spec in query.kpis})
    end = shift_months(months[-1], 1) - timedelta(days=1)
    customers: dict[tuple[date, str], int] = {}
    split = any(spec.channel for spec in query.kpis)
    for by_channel in [False, *([True] if split else [])]:
        table = monthly_kpis(_sales_tables(context), zone=context.zone, start=months[0], end=end, by_channel=by_channel)
        for row in rows(table.select("period", "customers", *(["channel"] if by_channel else []))):
            channel = (row.get("channel") or "") if by_channel else ""
            customers[(row["period"], channel)] = int(row["customers"] or 0)
    found = [
        {**row, "customers": customers.get((period_start(spec.period), spec.channel), 0)}
        for spec, row in zip(query.kpis, pacing.targets, strict=True)
    ]
    return PlanProgressResult(query=query, method=pacing.method, as_of=pacing.as_of, kpis=found)
