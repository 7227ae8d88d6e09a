"""Conversion from the ``sessions`` table, for sources that give one row per web session instead of events
(the funnel needs events). Per group: ``sessions``, ``converted`` (sessions that ended in a purchase),
``conversion`` (their share), and the mean ``product_pages`` and ``bounce_rate`` of the group's sessions.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from shoplens.errors import FieldError
from shoplens.metrics._facts import ratio

SESSION_SPLITS: tuple[str, ...] = ("visitor_type", "month", "weekend", "traffic_type", "region", "browser")


def session_conversion(sessions: ir.Table, *, by: str | None = None) -> ir.Table:
    """One row per value of ``by`` (one row, ``group`` NULL, without it), largest group first."""
    if by is not None and by not in SESSION_SPLITS:
        raise FieldError(f"sessions {{by}} must be one of {', '.join(SESSION_SPLITS)}, not {by!r}")
    group = sessions[by].cast("string") if by is not None else ibis.null("string")
    labelled = sessions.mutate(group=group)
    table = labelled.group_by("group").aggregate(
        sessions=labelled.count(),
        converted=labelled.count(where=labelled.converted),
        product_pages=labelled.product_pages.cast("float64").mean(),
        bounce_rate=labelled.bounce_rate.mean(),
    )
    table = table.mutate(conversion=ratio(table.converted, table.sessions))
    return table.select("group", "sessions", "converted", "conversion", "product_pages", "bounce_rate").order_by(
        [ibis.desc("sessions"), "group"]
    )
