"""Acquisition cohorts: customers grouped by the period of their first order, followed period by period.

For cohort ``c`` (first-order period, store-local) and ``period_index`` k = 0, 1, 2, ... (periods since
``c``):

* ``cohort_customers``: customers acquired in ``c``; ``customers``: how many of them ordered in period c+k;
  ``retention = customers / cohort_customers`` (1 at k = 0);
* ``revenue``: their net sales in c+k less the refunds they were given in c+k (net of refunds);
  ``revenue_retention = revenue / revenue at k = 0`` (net revenue retention, can exceed 1);
* ``cumulative_revenue_per_customer``: revenue of periods 0..k divided by ``cohort_customers``.

The triangle is complete: every cohort gets a row for every later period in which the store sold anything,
with zeros where nobody in the cohort bought. With ``by="channel"`` the cohorts are split by the channel of
the customer's first order. Guests cannot be followed and are left out.

Cohorts can be narrowed to the customers whose **first order** (their first purchase, the one that puts them in
a cohort) matches filters, all of which must hold (:func:`first_order_customers`):

* ``first_product``: the first order has a line of this product id (exact, surrounding spaces ignored);
* ``first_category``: the first order has a line of a product of this category;
* ``discount_code``: the first order used this code (one of its codes where a shop writes several, separated
  by ``+``, ``,`` or ``;``);
* ``channel``: the channel of the first order, or the customer's ``channel_acquired`` where the order names none;
* ``country``: the customer's country (``customers.country``).

Categories, codes, channels and countries are compared without regard to case or surrounding spaces. The
periods of the triangle stay those of the whole store, so a filtered triangle lines up with the unfiltered one.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import ibis
import ibis.expr.types as ir

from shoplens.errors import FieldError
from shoplens.metrics._facts import money, numbered_orders, ratio, with_local_day, zero_money
from shoplens.metrics._time import Zone, check_grain, period_ordinal

COHORT_GRAINS: tuple[str, ...] = ("week", "month", "quarter")
COHORT_SPLITS: tuple[str, ...] = ("channel", "device")
CODE_SEPARATORS = r"\s*[+,;]\s*"


@dataclass(frozen=True)
class FirstOrderFilters:
    """What a customer's first order must match to be counted in a cohort (None: anything); module docstring."""

    first_product: str | None = None
    first_category: str | None = None
    discount_code: str | None = None
    channel: str | None = None
    country: str | None = None

    def given(self) -> dict[str, str]:
        """The filters that are set, by name, in the order of the fields."""
        found = ((f.name, getattr(self, f.name)) for f in fields(self))
        return {name: value for name, value in found if value is not None}

    def only(self, name: str) -> FirstOrderFilters:
        """These filters with only ``name`` kept."""
        return FirstOrderFilters(**{name: self.given()[name]})


def _folded(value: ir.StringValue) -> ir.StringValue:
    return value.strip().lower()


def first_order_customers(
    orders: ir.Table,
    filters: FirstOrderFilters,
    *,
    order_lines: ir.Table | None = None,
    products: ir.Table | None = None,
    customers: ir.Table | None = None,
) -> ir.Table:
    """``customer_key`` of the known customers whose first order matches every filter given (module docstring).

    ``order_lines`` is needed for the product and category filters, ``products`` for the category, ``customers``
    for the channel (``channel_acquired``) and the country.
    """
    known = numbered_orders(orders.filter(orders.customer_key.notnull()), ["channel", "discount_code"])
    first = known.filter(known.order_number == 0).select("customer_key", "order_id", "channel", "discount_code")
    if filters.first_product is not None or filters.first_category is not None:
        if order_lines is None:
            raise ValueError("the product and category filters need the order lines")
        lines = order_lines.filter(order_lines.product_id.notnull())
        if filters.first_product is not None:
            lines = lines.filter(lines.product_id.strip() == filters.first_product.strip())
        if filters.first_category is not None:
            if products is None:
                raise ValueError("the category filter needs the products")
            wanted = products.filter(_folded(products.category) == filters.first_category.strip().lower())
            lines = lines.semi_join(wanted.select("product_id"), "product_id")
        first = first.semi_join(lines.select("order_id").distinct(), "order_id")
    if filters.discount_code is not None:
        codes = ibis.literal(",") + first.discount_code.strip().upper().re_replace(CODE_SEPARATORS, ",") + ","
        first = first.filter(codes.contains("," + filters.discount_code.strip().upper() + ","))
    if filters.channel is not None or filters.country is not None:
        if customers is None:
            raise ValueError("the channel and country filters need the customers")
        who = customers.select(key="customer_key", acquired="channel_acquired", country="country")
        first = first.left_join(who, first.customer_key == who.key).select(
            "customer_key", channel=first.channel.coalesce(who.acquired), country=who.country
        )
        if filters.channel is not None:
            first = first.filter(_folded(first.channel) == filters.channel.strip().lower())
        if filters.country is not None:
            first = first.filter(_folded(first.country) == filters.country.strip().lower())
    return first.select("customer_key")


def cohorts(
    orders: ir.Table,
    refunds: ir.Table,
    *,
    grain: str = "month",
    zone: Zone = "UTC",
    by: str | None = None,
    members: ir.Table | None = None,
) -> ir.Table:
    """The cohort triangle in long form: ``cohort, [by,] period_index, cohort_customers, customers, retention,
    revenue, revenue_retention, cumulative_revenue_per_customer``.

    With ``members`` (a table with ``customer_key``, e.g. :func:`first_order_customers`), only those customers
    are counted; the periods are still every period in which the store sold anything.
    """
    check_grain(grain, COHORT_GRAINS)
    if by is not None and by not in COHORT_SPLITS:
        raise FieldError(f"cohorts {{by}} must be one of {', '.join(COHORT_SPLITS)}, not {by!r}")
    known = numbered_orders(orders.filter(orders.customer_key.notnull()), ["net", *([by] if by else [])])
    known = with_local_day(known, "ordered_at", zone, grain)
    first = known.filter(known.order_number == 0).select(
        "customer_key",
        cohort=known.period,
        group=known[by] if by is not None else ibis.null("string"),
    )
    if members is not None:
        first = first.semi_join(members.select("customer_key").distinct(), "customer_key")
    bought = known.group_by(["customer_key", "period"]).aggregate(net=money(known.net.sum()), bought=ibis.literal(1))
    given = with_local_day(
        refunds.filter(refunds.customer_key.notnull() & refunds.refunded_at.notnull()), "refunded_at", zone, grain
    )
    returned = given.group_by(["customer_key", "period"]).aggregate(
        net=money(-given.amount.sum()), bought=ibis.literal(0)
    )
    activity = ibis.union(bought, returned, distinct=False)
    activity = activity.group_by(["customer_key", "period"]).aggregate(
        revenue=money(activity.net.sum()), active=activity.bought.max()
    )
    activity = activity.inner_join(first, "customer_key")
    activity = activity.filter(activity.period >= activity.cohort)  # refunds of orders from before the data
    cells = activity.group_by(["cohort", "group", "period"]).aggregate(
        customers=activity.active.sum().cast("int64"), revenue=money(activity.revenue.sum())
    )
    sizes = first.group_by(["cohort", "group"]).aggregate(cohort_customers=first.count())
    periods = known.select("period").distinct()
    spine = sizes.cross_join(periods)
    spine = spine.filter(spine.period >= spine.cohort)
    triangle = spine.left_join(
        cells, [spine.cohort == cells.cohort, _same(spine.group, cells.group), spine.period == cells.period]
    )
    triangle = triangle.select(
        cohort=spine.cohort,
        group=spine.group,
        period=spine.period,
        cohort_customers=spine.cohort_customers,
        customers=cells.customers.fill_null(0),
        revenue=cells.revenue.fill_null(zero_money()),
    )
    triangle = triangle.mutate(
        period_index=(period_ordinal(triangle.period, grain) - period_ordinal(triangle.cohort, grain)).cast("int64")
    )
    window = ibis.window(group_by=[triangle.cohort, triangle.group], order_by=triangle.period_index)
    cumulative = ibis.window(
        group_by=[triangle.cohort, triangle.group], order_by=triangle.period_index, preceding=None, following=0
    )
    first_revenue = triangle.revenue.first().over(window)
    result = triangle.mutate(
        retention=ratio(triangle.customers, triangle.cohort_customers),
        revenue_retention=ratio(triangle.revenue, first_revenue),
        cumulative_revenue_per_customer=ratio(triangle.revenue.sum().over(cumulative), triangle.cohort_customers),
    )
    columns = [
        "cohort",
        "period_index",
        "cohort_customers",
        "customers",
        "retention",
        "revenue",
        "revenue_retention",
        "cumulative_revenue_per_customer",
    ]
    if by is not None:
        result = result.rename({by: "group"})
        columns.insert(1, by)
    order = ["cohort", *([ibis.asc(by, nulls_first=True)] if by else []), "period_index"]
    return result.select(*columns).order_by(order)


def _same(left: ir.Value, right: ir.Value) -> ir.BooleanValue:
    """Equality that also matches NULL with NULL (an unknown channel is one group)."""
    return (left == right) | (left.isnull() & right.isnull())
