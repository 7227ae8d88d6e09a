"""The four datasets of the share package as Ibis expressions: the cells before the k rule, and the totals, shares,
links and order computed afterwards on the released rows only (see :mod:`shoplens.reports._share`).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from shoplens.metrics import FUNNEL_STEPS, reached_steps
from shoplens.privacy import people, share_of_released

UNKNOWN = "(unknown)"
NO_CATEGORY = "(no category)"
TIMED_STEPS: tuple[str, ...] = FUNNEL_STEPS[1:]  # cart, checkout, order: time from the session's start

# --- funnel drop-offs and response times ---------------------------------------------------------------------------

FUNNEL_SCHEMA = pa.schema(
    [
        ("landing_page", pa.string()),
        ("device", pa.string()),
        ("step", pa.string()),
        ("step_index", pa.int64()),
        ("sessions", pa.int64()),
        ("people", pa.int64()),
        ("continued_sessions", pa.int64()),
        ("continued_people", pa.int64()),
        ("drop_off_rate", pa.float64()),
    ]
)
RESPONSE_SCHEMA = pa.schema(
    [
        ("device", pa.string()),
        ("step", pa.string()),
        ("sessions", pa.int64()),
        ("people", pa.int64()),
        ("q1_minutes", pa.float64()),
        ("median_minutes", pa.float64()),
        ("q3_minutes", pa.float64()),
    ]
)


def session_facts(events: ir.Table) -> ir.Table:
    """One row per session: ``session_id, customer_key, landing_page, device, started_at``, and per funnel step
    ``at_STEP`` (first event of that type) and ``reached_STEP`` (the funnel's rule)."""
    firsts = events.group_by("session_id").aggregate(
        started_at=events.at.min(),
        customer_key=events.customer_key.max(),  # a session belongs to at most one known customer
        **{f"at_{step}": events.at.min(where=events.type == step) for step in FUNNEL_STEPS},
    )
    opening = events.inner_join(
        firsts.select("session_id", "started_at"),
        [events.session_id == firsts.session_id, events.at == firsts.started_at],
    )
    opening = opening.group_by("session_id").aggregate(
        landing_page=opening.page.min().fill_null(UNKNOWN), device=opening.device.min().fill_null(UNKNOWN)
    )
    sessions = firsts.inner_join(opening, "session_id")
    reached = reached_steps(sessions)
    return sessions.mutate(**{f"reached_{step}": reached[step] for step in FUNNEL_STEPS})


def funnel_cells(sessions: ir.Table) -> ir.Table:
    """Sessions and people per landing page, device and step (steps nobody reached are no cells)."""
    per_step = []
    for index, step in enumerate(FUNNEL_STEPS):
        here = sessions.filter(sessions[f"reached_{step}"])
        per_step.append(
            here.group_by(["landing_page", "device"]).aggregate(
                step=ibis.literal(step),
                step_index=ibis.literal(index).cast("int64"),
                sessions=here.count().cast("int64"),
                people=people(here.customer_key),
            )
        )
    return ibis.union(*per_step, distinct=False)


def with_continuation(released: ir.Table) -> ir.Table:
    """Add the next step's sessions and people, only where the next step's row is itself released."""
    following = released.select(
        landing_page=released.landing_page,
        device=released.device,
        previous_index=released.step_index - 1,
        continued_sessions=released.sessions,
        continued_people=released.people,
    )
    joined = released.left_join(
        following,
        [
            released.landing_page == following.landing_page,
            released.device == following.device,
            released.step_index == following.previous_index,
        ],
    )
    table = joined.select(
        "landing_page",
        "device",
        "step",
        "step_index",
        "sessions",
        "people",
        "continued_sessions",
        "continued_people",
        drop_off_rate=1.0 - joined.continued_sessions.cast("float64") / joined.sessions.cast("float64"),
    )
    return table.order_by(["landing_page", "device", "step_index"])


def response_time_cells(sessions: ir.Table, released_funnel: ir.Table) -> ir.Table:
    """Minutes from session start to each step, by device, over sessions of released funnel rows."""
    parts = []
    for step in TIMED_STEPS:
        here = sessions.filter(sessions[f"reached_{step}"])
        parts.append(
            here.select(
                "customer_key",
                "landing_page",
                "device",
                step=ibis.literal(step),
                minutes=(here[f"at_{step}"].epoch_seconds() - here.started_at.epoch_seconds()).cast("float64") / 60.0,
            )
        )
    timed = ibis.union(*parts, distinct=False)
    timed = timed.semi_join(
        released_funnel.select("landing_page", "device", "step"), ["landing_page", "device", "step"]
    )
    cells = timed.group_by(["device", "step"]).aggregate(
        sessions=timed.count().cast("int64"),
        people=people(timed.customer_key),
        q1_minutes=timed.minutes.quantile(0.25),
        median_minutes=timed.minutes.quantile(0.5),
        q3_minutes=timed.minutes.quantile(0.75),
    )
    return cells.select(*RESPONSE_SCHEMA.names)


def order_response_times(released: ir.Table) -> ir.Table:
    step_order = ibis.cases(*[(released.step == step, index) for index, step in enumerate(TIMED_STEPS)])
    return released.order_by([released.device, step_order])


# --- segment preferences --------------------------------------------------------------------------------------------


def segment_preference_cells(scores: ir.Table, orders: ir.Table, lines: ir.Table, products: ir.Table) -> ir.Table:
    """Per RFM segment and favourite category: people, orders, units, spend, favourite-category share."""
    known = orders.filter(orders.customer_key.notnull()).select("order_id", "customer_key", "net")
    categories = products.select("product_id", "category")
    bought = lines.select("order_id", "product_id", "quantity", "amount").inner_join(
        known.select("order_id", "customer_key"), "order_id"
    )
    bought = bought.left_join(categories, "product_id")
    bought = bought.mutate(category=bought.category.fill_null(NO_CATEGORY))
    by_category = bought.group_by(["customer_key", "category"]).aggregate(category_amount=bought.amount.sum())
    rank = ibis.row_number().over(
        group_by=by_category.customer_key,
        order_by=[ibis.desc(by_category.category_amount), by_category.category],
    )
    favourite = by_category.mutate(rank=rank).filter(lambda t: t["rank"] == 0)
    line_totals = bought.group_by("customer_key").aggregate(
        units=bought.quantity.sum().cast("int64"), line_amount=bought.amount.sum()
    )
    order_totals = known.group_by("customer_key").aggregate(orders=known.count().cast("int64"), spend=known.net.sum())
    customers = (
        scores.select("customer_key", "segment")
        .left_join(order_totals, "customer_key")
        .select("customer_key", "segment", "orders", "spend")
    )
    customers = customers.left_join(line_totals, "customer_key").select(
        "customer_key", "segment", "orders", "spend", "units", "line_amount"
    )
    customers = customers.left_join(favourite.select("customer_key", "category", "category_amount"), "customer_key")
    customers = customers.select(
        "segment",
        "orders",
        "spend",
        category=customers.category.fill_null(NO_CATEGORY),
        units=customers.units.fill_null(0),
        line_amount=customers.line_amount,
        category_amount=customers.category_amount,
    )
    return customers.group_by(["segment", "category"]).aggregate(
        people=customers.count().cast("int64"),
        orders=customers.orders.sum().cast("int64"),
        units=customers.units.sum().cast("int64"),
        spend=customers.spend.sum().cast("decimal(38, 2)"),
        favourite_category_share=customers.category_amount.sum().cast("float64")
        / customers.line_amount.sum().cast("float64").nullif(0.0),
    )


def with_segment_shares(released: ir.Table) -> ir.Table:
    table = released.mutate(share_of_segment_spend=share_of_released(released.spend, within=["segment"]))
    return table.select(
        "segment",
        "category",
        "people",
        "orders",
        "units",
        "spend",
        "share_of_segment_spend",
        "favourite_category_share",
    ).order_by(["segment", ibis.desc("people"), "category"])


# --- product affinity -----------------------------------------------------------------------------------------------


def _baskets(orders: ir.Table, lines: ir.Table) -> ir.Table:
    """Each product once per order, with the order's customer: ``order_id, product_id, customer_key``."""
    products = lines.filter(lines.product_id.notnull()).select("order_id", "product_id").distinct()
    return products.inner_join(orders.select("order_id", "customer_key"), "order_id")


def pair_cells(baskets: ir.Table, products: ir.Table, *, min_pair_orders: int) -> ir.Table:
    """Pairs bought together in at least ``min_pair_orders`` orders, with people, support, confidence, lift.

    Only products in that many orders can be in such a pair, so the others are left out before pairing (exact,
    not an approximation: a pair is never in more orders than either of its products).
    """
    total = baskets.order_id.nunique().as_scalar()
    singles = baskets.group_by("product_id").aggregate(item_orders=baskets.count())
    singles = singles.filter(singles.item_orders >= min_pair_orders)
    frequent = baskets.semi_join(singles, "product_id")
    left = frequent.select("order_id", "customer_key", product_a="product_id")
    right = frequent.select(order_id_b="order_id", product_b="product_id")
    pairs = left.inner_join(right, [left.order_id == right.order_id_b, left.product_a < right.product_b])
    counts = pairs.group_by(["product_a", "product_b"]).aggregate(
        orders_together=pairs.count().cast("int64"), people=people(pairs.customer_key)
    )
    counts = counts.filter(counts.orders_together >= min_pair_orders)
    a = singles.select(product_a="product_id", orders_a="item_orders")
    b = singles.select(product_b="product_id", orders_b="item_orders")
    names = products.select("product_id", "name")
    rules = counts.inner_join(a, "product_a").inner_join(b, "product_b")
    rules = rules.left_join(names.select(product_a="product_id", product_a_name="name"), "product_a")
    rules = rules.left_join(names.select(product_b="product_id", product_b_name="name"), "product_b")
    together = rules.orders_together.cast("float64")
    table = rules.select(
        "product_a",
        "product_a_name",
        "product_b",
        "product_b_name",
        "orders_together",
        "people",
        support=together / total.cast("float64"),
        confidence_a_to_b=together / rules.orders_a.cast("float64"),
        confidence_b_to_a=together / rules.orders_b.cast("float64"),
        lift=together * total.cast("float64") / (rules.orders_a.cast("float64") * rules.orders_b.cast("float64")),
    )
    return table


def order_pairs(released: ir.Table) -> ir.Table:
    return released.order_by([ibis.desc("orders_together"), "product_a", "product_b"])
