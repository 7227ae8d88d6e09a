"""Data to share with vendors and web designers: four aggregate datasets, k-anonymous, in one zip.

:func:`build_share_package` computes them as Ibis expressions over the runner's tables, passes every one through
:func:`shoplens.privacy.suppress_small_cells`, and returns a :class:`SharePackage` with a data dictionary and a
manifest. What leaves the store is aggregates only: no customer key, order id, name, e-mail, free text, and no
minimum or maximum of any individual's value (medians and quartiles of groups of at least k people instead).

Two rules keep suppressed cells suppressed:

* every total or share is computed from released rows only (a share of the segment's spend is the share of the
  spend of the segment's *released* rows), and a count that is another dataset's cell is given only when that
  cell is released (``continued_sessions`` of a funnel row is the next step's row);
* response times are measured over the sessions of released funnel rows only, so their session counts are sums
  of released cells, not totals from which a suppressed funnel row could be recovered by subtraction.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pydantic import ConfigDict

from shoplens.errors import InputError
from shoplens.metrics import FUNNEL_STEPS, reached_steps, rfm_scores
from shoplens.privacy import DEFAULT_K, check_k, people, share_of_released, suppress_small_cells
from shoplens.queries import Query, QueryContext, QueryRunner, Result, answers

ShareFormat = Literal["csv", "parquet"]
SHARE_FORMATS: tuple[str, ...] = ("csv", "parquet")
DATASETS: tuple[str, ...] = ("funnel_dropoffs", "segment_preferences", "product_affinity", "response_times")
MIN_PAIR_SUPPORT = 0.01  # a pair is considered from 1% of orders together (as `shoplens basket`), and k orders
UNKNOWN = "(unknown)"
NO_CATEGORY = "(no category)"
FLOAT_DIGITS = 6
NO_EVENTS = "the store has no web session events, so there is no funnel or response time to share"
Finish = Callable[[ir.Table], ir.Table]  # shares, links and order, computed on released rows
NO_PAIRS = "no product pair was bought together in {orders} orders (min_pair_orders), so there is no pair to share"
TIMED_STEPS: tuple[str, ...] = FUNNEL_STEPS[1:]  # cart, checkout, order: time from the session's start

# --- the data dictionary: every column of every dataset ---------------------------------------------------------

Column = tuple[str, str, str]  # name, unit, meaning and how it is computed

COLUMNS: dict[str, tuple[str, tuple[Column, ...]]] = {
    "funnel_dropoffs": (
        "Where web shoppers stop: one row per landing page (the page of a session's first event), device and "
        "funnel step (view → cart → checkout → order). A session reaches a step when it has an event of that "
        "type no earlier than the first event of the step before (as in `shoplens funnel`).",
        (
            ("landing_page", "page path", "page of the session's first event; (unknown) when the export has none"),
            ("device", "text", "device of the session's first event; (unknown) when the export has none"),
            ("step", "text", "funnel step: view, cart, checkout or order (a purchase)"),
            ("step_index", "integer", "0 for view, 1 cart, 2 checkout, 3 order"),
            ("sessions", "sessions", "sessions of this landing page and device that reached the step"),
            ("people", "people", "people behind those sessions (see 'Who counts as a person')"),
            (
                "continued_sessions",
                "sessions",
                "of those sessions, how many reached the next step: the next step's row. Empty for order (the last "
                "step) and when the next step's row was suppressed, since giving it here would reveal that row",
            ),
            ("continued_people", "people", "people behind continued_sessions; empty when continued_sessions is"),
            (
                "drop_off_rate",
                "share 0-1",
                "1 - continued_sessions / sessions: the share of sessions that stopped at this step",
            ),
        ),
    ),
    "segment_preferences": (
        "What each RFM segment buys. Every customer with an order is counted once, under the segment `shoplens rfm` "
        "gives them and their favourite product category (the category of most of their merchandise spend; ties "
        "go to the first category by name). Guest orders belong to no segment and are left out.",
        (
            ("segment", "text", "RFM segment (see `shoplens rfm` for the rule of each)"),
            ("category", "text", "favourite product category; (no category) when products carry none"),
            ("people", "people", "customers of the segment whose favourite category this is"),
            ("orders", "orders", "all orders those customers placed"),
            ("units", "units", "all units in those orders (order line quantities)"),
            ("spend", "store currency, 2 decimals", "net merchandise sales of those orders (orders.net)"),
            (
                "share_of_segment_spend",
                "share 0-1",
                "spend / the spend of the segment's released rows (suppressed rows are not in the total)",
            ),
            (
                "favourite_category_share",
                "share 0-1",
                "line amounts in the favourite category / all line amounts of those customers",
            ),
        ),
    ),
    "product_affinity": (
        "Products bought in the same order, one row per pair (product_a < product_b). A pair is considered when "
        "bought together in at least `min_pair_orders` orders (see the manifest: the larger of k and "
        f"{MIN_PAIR_SUPPORT:.1%} of orders), and released when at least k people bought both.",
        (
            ("product_a", "product id", "the first product of the pair (ids sort a before b)"),
            ("product_a_name", "text", "its name in the product catalogue"),
            ("product_b", "product id", "the second product of the pair"),
            ("product_b_name", "text", "its name in the product catalogue"),
            ("orders_together", "orders", "orders containing both products"),
            ("people", "people", "people who bought both in one order"),
            ("support", "share 0-1", "orders_together / all orders with a product line"),
            ("confidence_a_to_b", "share 0-1", "orders_together / orders containing product_a"),
            ("confidence_b_to_a", "share 0-1", "orders_together / orders containing product_b"),
            (
                "lift",
                "ratio",
                "orders_together x all orders / (orders with a x orders with b): above 1, buying one makes the other "
                "more likely than it is anyway",
            ),
        ),
    ),
    "response_times": (
        "How long shoppers take from the start of a session (its first event) to reaching the cart, the checkout "
        "and the order, by device. Measured over the sessions of released funnel_dropoffs rows only, so the "
        "counts here are sums of released funnel cells. No minimum or maximum is given: they describe one person.",
        (
            ("device", "text", "device of the session's first event"),
            ("step", "text", "cart, checkout or order (a purchase)"),
            ("sessions", "sessions", "sessions that reached the step (in released funnel rows)"),
            ("people", "people", "people behind those sessions"),
            ("q1_minutes", "minutes", "first quartile (continuous) of the minutes from session start to the step"),
            ("median_minutes", "minutes", "median of the same"),
            ("q3_minutes", "minutes", "third quartile of the same"),
        ),
    ),
}

PEOPLE_RULE = (
    "A known customer counts once however many sessions or orders they have (distinct pseudonymous customer keys, "
    "which are never shared). A guest session or guest order cannot be linked to any other, so each counts as one "
    "person: a guest who visits twice counts as two, which can only overstate `people` for guests."
)


def _k_rule(k: int) -> str:
    return (
        f"Every released row stands for at least k = {k} people; rows with fewer are suppressed (left out), and the "
        "manifest counts them per dataset (`suppressed_cells` rows, `suppressed_people` = the sum of their "
        "`people`, so a person in two suppressed rows counts twice). Totals and shares are computed from released "
        "rows only, so no suppressed row can be recovered by subtraction."
    )


def dataset_descriptions() -> dict[str, str]:
    """Each dataset's one-paragraph description from the data dictionary, in package order."""
    return {name: COLUMNS[name][0] for name in DATASETS}


def data_dictionary(k: int, min_pair_orders: int) -> str:
    """The data dictionary as Markdown: the rules, then every column of every dataset."""
    parts = [
        "# Data dictionary",
        "",
        "Aggregates of the store's data for vendors and web designers. Nothing here identifies a person: there are "
        "no customer keys, order ids, names, e-mail addresses, free text, or minima and maxima of individual values.",
        "",
        "## The k rule",
        "",
        _k_rule(k),
        "",
        "## Who counts as a person",
        "",
        PEOPLE_RULE,
        "",
        f"Product pairs are considered from {min_pair_orders} orders together upwards (min_pair_orders).",
    ]
    for name in DATASETS:
        meaning, columns = COLUMNS[name]
        parts += ["", f"## {name}", "", meaning, "", "| column | unit | meaning |", "|---|---|---|"]
        parts += [f"| {column} | {unit} | {text} |" for column, unit, text in columns]
    return "\n".join(parts) + "\n"


# --- the package ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SharedDataset:
    """One released table and what the k rule held back from it."""

    name: str
    table: pa.Table
    suppressed_cells: int
    suppressed_people: int
    note: str | None = None

    def summary(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "rows": self.table.num_rows,
            "suppressed_cells": self.suppressed_cells,
            "suppressed_people": self.suppressed_people,
        }
        if self.note:
            found["note"] = self.note
        return found


@dataclass(frozen=True)
class SharePackage:
    """The four datasets, their data dictionary and a manifest; :meth:`to_zip` packs them."""

    k: int
    created_at: datetime
    data_version: int | None
    store_timezone: str
    min_pair_orders: int
    datasets: dict[str, SharedDataset] = field(default_factory=dict)

    @property
    def data_dictionary(self) -> str:
        return data_dictionary(self.k, self.min_pair_orders)

    @property
    def manifest(self) -> dict[str, Any]:
        return {
            "created_at": self.created_at.isoformat(),
            "k": self.k,
            "data_version": self.data_version,
            "store_timezone": self.store_timezone,
            "min_pair_orders": self.min_pair_orders,
            "datasets": {name: dataset.summary() for name, dataset in self.datasets.items()},
        }

    def table(self, name: str) -> pa.Table:
        return self.datasets[name].table

    def to_zip(self, format: ShareFormat = "csv") -> bytes:
        """A zip with one file per dataset (``NAME.csv`` or ``NAME.parquet``), data_dictionary.md, manifest.json."""
        if format not in SHARE_FORMATS:
            raise InputError(f"format is csv or parquet, not {str(format)[:20]!r}")
        stamp = self.created_at.astimezone(UTC).timetuple()[:6]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:

            def add(name: str, data: bytes) -> None:
                archive.writestr(zipfile.ZipInfo(name, date_time=stamp), data, compress_type=zipfile.ZIP_DEFLATED)

            for name, dataset in self.datasets.items():
                add(f"{name}.{format}", _encode(dataset.table, format))
            add("data_dictionary.md", self.data_dictionary.encode())
            add("manifest.json", (json.dumps(self.manifest, indent=2, sort_keys=True) + "\n").encode())
        return buffer.getvalue()

    def write(self, path: Path, format: ShareFormat = "csv") -> str:
        """Write the zip to ``path`` and return its SHA-256 (hex)."""
        data = self.to_zip(format)
        path.write_bytes(data)
        return hashlib.sha256(data).hexdigest()


def _encode(table: pa.Table, format: ShareFormat) -> bytes:
    sink = io.BytesIO()
    if format == "parquet":
        pq.write_table(table, sink)  # money stays DECIMAL
    else:
        pacsv.write_csv(table, sink)  # decimals are printed exactly
    return sink.getvalue()


def build_share_package(
    runner: QueryContext, *, k: int = DEFAULT_K, min_pair_support: float = MIN_PAIR_SUPPORT
) -> SharePackage:
    """Compute the four k-anonymous datasets from the runner's tables."""
    check_k(k)
    if not 0 < min_pair_support <= 1:
        raise InputError(f"min_pair_support must be in (0, 1], not {min_pair_support}")
    orders = runner.table("orders")
    if int(orders.count().execute()) == 0:
        raise InputError("the warehouse has no orders yet: import the store's exports first")
    with ExitStack() as temporary:  # tables cached on the backend, dropped when the package is built

        def release(cells: ir.Table, finish: Finish | None) -> tuple[ir.Table, tuple[int, int]]:
            return _release(temporary.enter_context(cells.cache()), k, finish)

        lines, products = runner.table("order_lines"), runner.table("products")
        datasets: dict[str, SharedDataset] = {}

        events = _events(runner)
        if events is None:
            datasets["funnel_dropoffs"] = SharedDataset("funnel_dropoffs", _empty(FUNNEL_SCHEMA), 0, 0, NO_EVENTS)
        else:
            sessions = session_facts(events)
            funnel_table, held = release(funnel_cells(sessions), with_continuation)
            datasets["funnel_dropoffs"] = _dataset("funnel_dropoffs", funnel_table, held)

        scores = rfm_scores(orders, runner.table("refunds"), zone=runner.zone)
        preferences, held = release(segment_preference_cells(scores, orders, lines, products), with_segment_shares)
        datasets["segment_preferences"] = _dataset("segment_preferences", preferences, held)

        baskets = _baskets(orders, lines)
        total = int(baskets.order_id.nunique().execute())
        min_pair_orders = max(k, math.ceil(min_pair_support * total))
        pairs, held = release(pair_cells(baskets, products, min_pair_orders=min_pair_orders), order_pairs)
        affinity = _dataset("product_affinity", pairs, held)
        if affinity.table.num_rows == 0 and held == (0, 0):
            affinity = SharedDataset(affinity.name, affinity.table, 0, 0, NO_PAIRS.format(orders=min_pair_orders))
        datasets["product_affinity"] = affinity

        if events is None:
            datasets["response_times"] = SharedDataset("response_times", _empty(RESPONSE_SCHEMA), 0, 0, NO_EVENTS)
        else:
            timed, held = release(response_time_cells(sessions, funnel_table), order_response_times)
            datasets["response_times"] = _dataset("response_times", timed, held)

    return SharePackage(
        k=k,
        created_at=datetime.now(UTC).replace(microsecond=0),
        data_version=runner.data_version,
        store_timezone=runner.store_timezone,
        min_pair_orders=min_pair_orders,
        datasets={name: datasets[name] for name in DATASETS},
    )


def _release(cells: ir.Table, k: int, finish: Finish | None) -> tuple[ir.Table, tuple[int, int]]:
    """Suppress small cells, then compute totals, shares and links from what is released."""
    split = suppress_small_cells(cells, k=k)
    released = split.released if finish is None else finish(split.released)
    return released, split.counts()


def _dataset(name: str, table: ir.Table, held: tuple[int, int]) -> SharedDataset:
    return SharedDataset(name, _rounded(table.to_pyarrow()), held[0], held[1])


def _rounded(table: pa.Table) -> pa.Table:
    for index, column in enumerate(table.schema):
        if pa.types.is_floating(column.type):
            table = table.set_column(index, column.name, pc.round(table.column(index), FLOAT_DIGITS))
    return table


def _empty(schema: pa.Schema) -> pa.Table:
    return schema.empty_table()


def _events(runner: QueryContext) -> ir.Table | None:
    try:
        events = runner.table("events")
    except Exception:  # a backend without an events table: no sessions to share
        return None
    return events if int(events.count().execute()) > 0 else None


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


class SharePackageQuery(Query):
    """The k-anonymous package for vendors and web designers (``shoplens share export``)."""

    kind: ClassVar[str] = "share_package"
    kept_on_disk: ClassVar[bool] = False  # arrow tables; rebuilt per data version, kept in memory by the web app

    k: int = DEFAULT_K
    min_pair_support: float = MIN_PAIR_SUPPORT


class SharePackageResult(Result):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    query: SharePackageQuery
    package: SharePackage


@answers(SharePackageQuery, SharePackageResult)
def answer_share_package(context: QueryContext, query: SharePackageQuery) -> SharePackageResult:
    package = build_share_package(context, k=query.k, min_pair_support=query.min_pair_support)
    return SharePackageResult(query=query, package=package)


def share_package(runner: QueryRunner, *, k: int = DEFAULT_K, wait: float | None = None) -> SharePackage:
    """The store's share package with k, through the runner (computed once per data version where kept)."""
    return runner.run(SharePackageQuery(k=k), SharePackageResult, wait=wait).package
