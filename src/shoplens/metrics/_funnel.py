"""The web funnel from session events: view → cart → checkout → order.

A session **reaches** a step when it has an event of that type no earlier than the first event of the step
before it (so a session that carts without having viewed a product page is not counted past "view"). Per step:
``sessions`` reaching it, ``conversion`` from the previous step, ``conversion_from_start`` (from "view"),
``drop_off = 1 - conversion``, ``median_minutes`` from the previous step's first event to this step's
first event, and ``people`` behind the step's sessions (distinct known customers plus one per guest session, as
the k-anonymity rule counts them). With ``by`` (source, medium, device, campaign) the funnel is computed per value
of the session's first event.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

from shoplens.errors import FieldError
from shoplens.metrics._facts import ratio, with_local_day, within
from shoplens.metrics._time import Zone

FUNNEL_STEPS: tuple[str, ...] = ("view", "cart", "checkout", "order")
FUNNEL_SPLITS: tuple[str, ...] = ("source", "medium", "device", "campaign")


def reached_steps(sessions: ir.Table) -> dict[str, ir.BooleanValue]:
    """Per funnel step, whether each session (a row with ``at_STEP``, the first event of each step) reached it:
    it has that step's event no earlier than the first event of the step before, and reached that one."""
    reached: dict[str, ir.BooleanValue] = {}
    previous: str | None = None
    for step in FUNNEL_STEPS:
        here = sessions[f"at_{step}"].notnull()
        if previous is not None:
            here = reached[previous] & here & (sessions[f"at_{step}"] >= sessions[f"at_{previous}"])
        reached[step] = here
        previous = step
    return reached


def funnel(
    events: ir.Table,
    *,
    zone: Zone = "UTC",
    start: date | None = None,
    end: date | None = None,
    by: str | None = None,
) -> ir.Table:
    """One row per step (per group with ``by``): ``step, step_index, sessions, conversion,
    conversion_from_start, drop_off, median_minutes``."""
    if by is not None and by not in FUNNEL_SPLITS:
        raise FieldError(f"funnel {{by}} must be one of {', '.join(FUNNEL_SPLITS)}, not {by!r}")
    steps = events.filter(events.type.isin(FUNNEL_STEPS))
    firsts = steps.group_by("session_id").aggregate(
        customer_key=steps.customer_key.max(),  # a session belongs to at most one known customer
        **{f"at_{step}": steps.at.min(where=steps.type == step) for step in FUNNEL_STEPS},
    )
    if by is None and start is None and end is None:
        # every session with a step event has a first event: nothing to join for the group or the days
        sessions = firsts
    else:
        first_seen = with_local_day(
            events.group_by("session_id").aggregate(started_at=events.at.min()), "started_at", zone
        )
        first_seen = within(first_seen, start, end).select("session_id", "started_at")
        if by is None:
            opening = first_seen.select("session_id", group=ibis.null("string"))
        else:
            attributes = events.select("session_id", "at", group=events[by])
            opening = attributes.inner_join(
                first_seen, [attributes.session_id == first_seen.session_id, attributes.at == first_seen.started_at]
            )
            opening = opening.group_by("session_id").aggregate(group=opening.group.min())
        sessions = firsts.inner_join(opening, "session_id")
    reached = reached_steps(sessions)
    # One pass over the sessions for every step's counts (four aggregations over them cost four passes), then one
    # row per step from that small table.
    measures = {}
    for index, step in enumerate(FUNNEL_STEPS):
        measures[f"sessions_{index}"] = sessions.count(where=reached[step])
        measures[f"people_{index}"] = (
            sessions.customer_key.nunique(where=reached[step])
            + sessions.count(where=reached[step] & sessions.customer_key.isnull())
        ).cast("int64")
        if index > 0:
            seconds = sessions[f"at_{step}"].epoch_seconds() - sessions[f"at_{FUNNEL_STEPS[index - 1]}"].epoch_seconds()
            # NULL outside the step, and medians skip NULLs (Spark cannot take a median with a filter).
            minutes = ibis.ifelse(reached[step], seconds.cast("float64") / 60.0, ibis.null("float64"))
            measures[f"median_{index}"] = minutes.median()
    if by is None:  # one group: an aggregation without GROUP BY, which engines run faster (distinct counts)
        wide = sessions.aggregate(**measures).mutate(group=ibis.null("string"))
    else:
        wide = sessions.group_by("group").aggregate(**measures)
    per_step = [
        wide.select(
            "group",
            step=ibis.literal(step),
            step_index=ibis.literal(index),
            sessions=wide[f"sessions_{index}"],
            people=wide[f"people_{index}"],
            median_minutes=wide[f"median_{index}"] if index > 0 else ibis.null("float64"),
        )
        for index, step in enumerate(FUNNEL_STEPS)
    ]
    table = ibis.union(*per_step, distinct=False)
    window = ibis.window(group_by=table.group, order_by=table.step_index)
    result = table.mutate(
        conversion=ratio(table.sessions, table.sessions.lag().over(window)),
        conversion_from_start=ratio(table.sessions, table.sessions.first().over(window)),
    )
    result = result.mutate(drop_off=1.0 - result.conversion)
    columns = [
        "step",
        "step_index",
        "sessions",
        "people",
        "conversion",
        "conversion_from_start",
        "drop_off",
        "median_minutes",
    ]
    if by is not None:
        result = result.rename({by: "group"})
        columns.insert(0, by)
    return result.select(*columns).order_by([*([ibis.asc(by, nulls_first=True)] if by else []), "step_index"])
