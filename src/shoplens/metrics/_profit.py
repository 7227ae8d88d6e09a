"""Contribution margin: what each order leaves the shop after the goods, shipping, payment fees and refunds.

Per purchase (:func:`order_margins`)::

    contribution margin = net sales + shipping charged − shipping cost − cost of goods − payment fees − refunds

* **net sales** is ``orders.net`` (goods after discounts; shipping and tax apart), as everywhere in shoplens;
* **cost of goods** is ``products.cost × quantity`` over the order's lines. It is known only when every line
  names a product with a cost; otherwise it is NULL, and so is the margin — a margin without the goods' cost would
  be revenue under another name;
* **shipping**: ``orders.shipping`` is what the customer was charged. What the shop pays the carrier is
  :attr:`CostRules.shipping_cost_per_order` when set (every purchase ships once, so free shipping is a cost);
  when it is not set, shipping is passed through at cost (the shop pays the carrier what it charged: shipping
  neither adds nor takes margin). Tax is collected for the state and is neither income nor cost;
* **payment fees** are :attr:`CostRules.payment_fee_percent` of what the customer paid (net sales + shipping +
  tax), rounded half up to the cent, plus :attr:`CostRules.payment_fee_fixed` per order;
* **refunds** are the amounts given back on the order (``refunds.amount`` by ``order_id``). The goods' cost of a
  refunded order does *not* come back, nor do its payment fees: a refund row says what was paid back, not whether
  the goods returned in a state to be sold again (damage in transit and late deliveries are refunded without a
  return), and card processors keep their fee on a refunded payment. The margin of a refunded order is therefore a
  floor: a shop that restocks its returns earns back at most the goods' cost.

A customer's margin over time (:func:`customer_margin_events`) counts each order on its store-local day and each
refund on the day it was given, against the customer it names, like :func:`shoplens.metrics.cohorts`; events
before the customer's first order (refunds of orders older than the data) are left out. Guest orders have no
customer to follow and are left out of the customer views (not of :func:`order_margins`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from shoplens.metrics._facts import MONEY, money, pro_rata, ratio, with_local_day, zero_money
from shoplens.metrics._time import Zone

CUSTOMER_GROUPINGS: tuple[str, ...] = ("cohort", "channel", "first-product", "first-discount-code")
PROFIT_GROUPINGS: tuple[str, ...] = (*CUSTOMER_GROUPINGS, "category")
UNKNOWN_GROUP = "(unknown)"
NO_CODE = "(no code)"
MARGIN_COLUMNS: tuple[str, ...] = (
    "net_sales",
    "shipping_charged",
    "shipping_cost",
    "cost_of_goods",
    "payment_fees",
    "refunds",
    "contribution_margin",
)
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class CostRules:
    """What the shop pays beyond the goods: a payment fee (percent of what the customer paid, in steps of 0.01 %,
    plus a fixed amount per order) and what one shipment costs it (None: shipping charged is passed through at
    cost)."""

    payment_fee_percent: Decimal = Decimal(0)
    payment_fee_fixed: Decimal = Decimal(0)
    shipping_cost_per_order: Decimal | None = None

    def __post_init__(self) -> None:
        if not (0 <= self.payment_fee_percent <= 100) or self.payment_fee_percent % _CENT:
            raise ValueError(f"payment_fee_percent is 0 to 100 in steps of 0.01, not {self.payment_fee_percent}")
        for name in ("payment_fee_fixed", "shipping_cost_per_order"):
            value = getattr(self, name)
            if value is not None and (value < 0 or value % _CENT):
                raise ValueError(f"{name} is an amount of at least 0 in cents, not {value}")

    @property
    def fee_basis_points(self) -> int:
        return int(self.payment_fee_percent * 100)


def _cents_to_money(cents: ir.IntegerValue) -> ir.DecimalValue:
    return (cents.cast(MONEY) * ibis.literal(_CENT, type=dt.Decimal(3, 2))).cast(MONEY)


def _amount(value: Decimal) -> ir.DecimalValue:
    return ibis.literal(value, type=dt.Decimal(18, 2)).cast(MONEY)


def goods_costs(order_lines: ir.Table, products: ir.Table) -> ir.Table:
    """Per order with lines: ``order_id, cost_of_goods, lines_without_cost`` (cost NULL when a line has none)."""
    priced = order_lines.left_join(products.select("product_id", "cost"), "product_id")
    per = priced.group_by("order_id").aggregate(
        goods=(priced.quantity * priced.cost).sum(),
        lines_without_cost=priced.count(where=priced.cost.isnull()),
    )
    return per.select(
        "order_id",
        "lines_without_cost",
        cost_of_goods=ibis.ifelse(per.lines_without_cost == 0, money(per.goods), ibis.null(MONEY)),
    )


def lines_without_cost(order_lines: ir.Table, products: ir.Table) -> ir.Table:
    """One row: ``lines, lines_without_cost, products_with_cost`` — sold lines, those whose product has no known
    cost, and the products in the catalogue that have one."""
    priced = order_lines.left_join(products.select("product_id", "cost"), "product_id")
    counted = priced.aggregate(
        lines=priced.count(), lines_without_cost=priced.count(where=priced.cost.isnull()), key=ibis.literal(1)
    )
    catalogue = products.aggregate(
        products_with_cost=products.count(where=products.cost.notnull()), key=ibis.literal(1)
    )
    return counted.inner_join(catalogue, "key").drop("key")


def order_margins(
    orders: ir.Table, order_lines: ir.Table, products: ir.Table, refunds: ir.Table, rules: CostRules
) -> ir.Table:
    """The contribution margin of every order (see the module docstring).

    Columns: ``order_id, customer_key, ordered_at, channel, discount_code, net_sales, shipping_charged,
    shipping_cost, cost_of_goods, payment_fees, refunds, margin_before_refunds, contribution_margin`` (money,
    DECIMAL). ``orders``, ``order_lines`` and ``refunds`` are the purchases' rows. An order without lines has no
    goods to cost (0); an order with a line whose product has no cost has NULL cost and NULL margins.
    """
    goods = goods_costs(order_lines, products)
    given = refunds.filter(refunds.order_id.notnull())
    given = given.group_by("order_id").aggregate(refunds=money(given.amount.sum()))
    table = orders.select(
        "order_id", "customer_key", "ordered_at", "channel", "discount_code", "net", "shipping", "tax"
    ).left_join(goods, "order_id")
    table = table.drop(*[c for c in table.columns if c.endswith("_right")])
    table = table.left_join(given, "order_id")
    table = table.drop(*[c for c in table.columns if c.endswith("_right")])
    shipping_charged = money(table.shipping.fill_null(zero_money()))
    paid = table.net + shipping_charged + table.tax.fill_null(zero_money())
    paid_cents = (paid * 100).round(0).cast("int64")
    fee_cents = (paid_cents * rules.fee_basis_points + 5000) // 10_000
    payment_fees = money(_cents_to_money(fee_cents) + _amount(rules.payment_fee_fixed))
    if rules.shipping_cost_per_order is None:
        shipping_cost = shipping_charged
    else:
        shipping_cost = _amount(rules.shipping_cost_per_order)
    cost_of_goods = ibis.ifelse(table.lines_without_cost.isnull(), zero_money(), table.cost_of_goods)
    table = table.select(
        "order_id",
        "customer_key",
        "ordered_at",
        "channel",
        "discount_code",
        net_sales=money(table.net),
        shipping_charged=shipping_charged,
        shipping_cost=money(shipping_cost),
        cost_of_goods=money(cost_of_goods),
        payment_fees=payment_fees,
        refunds=money(table.refunds.fill_null(zero_money())),
    )
    before = table.net_sales + table.shipping_charged - table.shipping_cost - table.cost_of_goods - table.payment_fees
    table = table.mutate(margin_before_refunds=money(before))
    return table.mutate(contribution_margin=money(table.margin_before_refunds - table.refunds))


def first_purchase_groups(orders: ir.Table, order_lines: ir.Table, *, zone: Zone) -> ir.Table:
    """Every known customer's first purchase (by time, then order id) and the groups it puts them in:
    ``customer_key, first_day, cohort`` ('YYYY-MM', store-local), ``channel, first-product`` (the product of the
    first order's first line, by line number), ``first-discount-code``. Unknown values are ``(unknown)``, an order
    without a code ``(no code)``."""
    known = orders.filter(orders.customer_key.notnull()).select(
        "order_id", "customer_key", "ordered_at", "channel", "discount_code"
    )
    number = ibis.row_number().over(group_by=known.customer_key, order_by=[known.ordered_at, known.order_id])
    first = with_local_day(known.mutate(order_number=number), "ordered_at", zone)
    first = first.filter(first.order_number == 0)
    line_order = ibis.row_number().over(group_by=order_lines.order_id, order_by=order_lines.line_no)
    opening = order_lines.mutate(line_order=line_order)
    opening = opening.filter(opening.line_order == 0).select("order_id", first_product=opening.product_id)
    first = first.left_join(opening, "order_id")
    return first.select(
        "customer_key",
        first_day=first.local_day,
        cohort=first.local_day.strftime("%Y-%m"),
        channel=first.channel.cast("string").nullif("").fill_null(UNKNOWN_GROUP),
        **{
            "first-product": first.first_product.cast("string").nullif("").fill_null(UNKNOWN_GROUP),
            "first-discount-code": first.discount_code.cast("string").nullif("").fill_null(NO_CODE),
        },
    )


def customer_margin_events(margins: ir.Table, refunds: ir.Table, *, zone: Zone) -> ir.Table:
    """What each known customer's orders and refunds brought, event by event: ``customer_key, local_day, orders,
    net_sales, shipping_charged, shipping_cost, cost_of_goods, payment_fees, refunds, contribution_margin`` — an
    order on its day (before refunds), a dated refund on the day it was given (as a cost)."""
    known = margins.filter(margins.customer_key.notnull())
    bought = with_local_day(known, "ordered_at", zone)
    sales = bought.select(
        "customer_key",
        "local_day",
        orders=ibis.literal(1).cast("int64"),
        net_sales=bought.net_sales,
        shipping_charged=bought.shipping_charged,
        shipping_cost=bought.shipping_cost,
        cost_of_goods=bought.cost_of_goods,
        payment_fees=bought.payment_fees,
        refunds=zero_money(),
        contribution_margin=bought.margin_before_refunds,
    )
    dated = refunds.filter(refunds.customer_key.notnull(), refunds.refunded_at.notnull())
    dated = with_local_day(dated.select("customer_key", "refunded_at", "amount"), "refunded_at", zone)
    returned = dated.select(
        "customer_key",
        "local_day",
        orders=ibis.literal(0).cast("int64"),
        net_sales=zero_money(),
        shipping_charged=zero_money(),
        shipping_cost=zero_money(),
        cost_of_goods=zero_money(),
        payment_fees=zero_money(),
        refunds=money(dated.amount),
        contribution_margin=money(-dated.amount),
    )
    return ibis.union(sales, returned, distinct=False)


def _month_ordinal(day: ir.DateValue) -> ir.IntegerValue:
    return (day.year() * 12 + day.month()).cast("int64")


def _sums(table: ir.Table) -> dict[str, ir.Value]:
    return {name: money(table[name].sum()) for name in MARGIN_COLUMNS}


def customer_profit(
    customers: ir.Table, events: ir.Table, *, by: str, data_end: ir.DateValue
) -> tuple[ir.Table, ir.Table, ir.Table]:
    """From :func:`first_purchase_groups` and :func:`customer_margin_events`, grouped by ``by`` (one of
    :data:`CUSTOMER_GROUPINGS`), with events before a customer's first day left out:

    * per group: ``group, customers, orders`` and the sums of :data:`MARGIN_COLUMNS`;
    * per group and month since the first order (calendar months, 0 = the month of the first order):
      ``group, month, contribution_margin``;
    * per group and months observed (from the first order's month to the month of ``data_end``):
      ``group, months_observed, customers``.
    """
    if by not in CUSTOMER_GROUPINGS:
        raise ValueError(f"by must be one of {CUSTOMER_GROUPINGS}, not {by!r}")
    people = customers.select("customer_key", "first_day", group=customers[by])
    joined = events.inner_join(people, "customer_key")
    joined = joined.filter(joined.local_day >= joined.first_day)
    joined = joined.mutate(month=_month_ordinal(joined.local_day) - _month_ordinal(joined.first_day))
    totals = joined.group_by("group").aggregate(orders=joined.orders.sum().cast("int64"), **_sums(joined))
    counts = people.group_by("group").aggregate(customers=people.count().cast("int64"))
    per_group = counts.left_join(totals, "group")
    per_group = per_group.drop(*[c for c in per_group.columns if c.endswith("_right")])
    by_month = joined.group_by(["group", "month"]).aggregate(
        contribution_margin=money(joined.contribution_margin.sum())
    )
    observed = people.mutate(months_observed=_month_ordinal(data_end) - _month_ordinal(people.first_day))
    by_observed = observed.group_by(["group", "months_observed"]).aggregate(customers=observed.count().cast("int64"))
    return per_group, by_month, by_observed


def category_profit(
    orders: ir.Table, order_lines: ir.Table, products: ir.Table, margins: ir.Table, *, with_costs: bool
) -> ir.Table:
    """Per product category: ``category, customers, orders`` and the sums of :data:`MARGIN_COLUMNS`.

    The goods' cost is the lines' own; what :func:`order_margins` knows only per order (net sales after the
    order's discount code, shipping, fees, refunds) is split over its lines pro rata to each line's value after
    its own discount (``amount − discount``), to the cent. With ``with_costs`` False the cost of goods and the
    margin are NULL.
    """
    catalogue = products.select("product_id", "category", "cost")
    lines = order_lines.left_join(catalogue, "product_id")
    lines = lines.mutate(
        line_value=(lines.amount.fill_null(lines.quantity * lines.unit_price) - lines.discount.fill_null(0)).cast(
            MONEY
        ),
        category=lines.category.cast("string").nullif("").fill_null(UNKNOWN_GROUP),
    )
    totals = lines.group_by("order_id").aggregate(order_value=lines.line_value.sum())
    lines = lines.inner_join(totals, "order_id").inner_join(
        margins.select(
            "order_id", "customer_key", "net_sales", "shipping_charged", "shipping_cost", "payment_fees", "refunds"
        ),
        "order_id",
    )
    lines = lines.drop(*[c for c in lines.columns if c.endswith("_right")])

    def share(column: str) -> ir.DecimalValue:
        return pro_rata(lines[column], lines.line_value, lines.order_value)

    goods = money(lines.quantity * lines.cost) if with_costs else ibis.null(MONEY)
    split = lines.select(
        "category",
        "order_id",
        "customer_key",
        net_sales=share("net_sales"),
        shipping_charged=share("shipping_charged"),
        shipping_cost=share("shipping_cost"),
        cost_of_goods=goods,
        payment_fees=share("payment_fees"),
        refunds=share("refunds"),
    )
    split = split.mutate(
        contribution_margin=money(
            split.net_sales
            + split.shipping_charged
            - split.shipping_cost
            - split.cost_of_goods
            - split.payment_fees
            - split.refunds
        )
    )
    return split.group_by("category").aggregate(
        customers=split.customer_key.nunique().cast("int64"),
        orders=split.order_id.nunique().cast("int64"),
        **_sums(split),
    )


def with_margin_rates(table: ir.Table) -> ir.Table:
    """``margin_rate`` (contribution margin ÷ net sales) and ``contribution_margin_per_customer``."""
    return table.mutate(
        margin_rate=ratio(table.contribution_margin, table.net_sales),
        contribution_margin_per_customer=ratio(table.contribution_margin, table.customers),
    )


def profit_curve(
    margin_by_month: Mapping[int, float], customers_by_observed: Mapping[int, int]
) -> list[dict[str, float | int]]:
    """The profit LTV curve of one group: for each month ``k`` since the first order, the customers observed for
    at least ``k`` months and the cumulative contribution margin per customer.

    Customers acquired recently cannot have bought in their later months yet, so month ``k``'s margin is divided by
    the customers observed that long (not by all of them) and the curve adds these per-customer amounts up.
    """
    longest = max(customers_by_observed, default=-1)
    at_least = [0] * (longest + 2)
    for months, count in customers_by_observed.items():
        at_least[max(months, 0)] += count
    for months in range(longest - 1, -1, -1):
        at_least[months] += at_least[months + 1]
    curve: list[dict[str, float | int]] = []
    cumulative = 0.0
    for month in range(longest + 1):
        if at_least[month] == 0:
            break
        cumulative += margin_by_month.get(month, 0.0) / at_least[month]
        curve.append(
            {"month": month, "customers_observed": at_least[month], "cumulative_margin_per_customer": cumulative}
        )
    return curve


def group_curves(
    by_month: Sequence[Mapping[str, object]], by_observed: Sequence[Mapping[str, object]]
) -> dict[object, list[dict[str, float | int]]]:
    """:func:`profit_curve` for every group of :func:`customer_profit`'s monthly rows."""
    months: dict[object, dict[int, float]] = {}
    for row in by_month:
        margin = row["contribution_margin"]  # NULL where a cost is unknown: the caller shows no curve values then
        months.setdefault(row["group"], {})[int(str(row["month"]))] = 0.0 if margin is None else float(str(margin))
    observed: dict[object, dict[int, int]] = {}
    for row in by_observed:
        observed.setdefault(row["group"], {})[int(str(row["months_observed"]))] = int(str(row["customers"]))
    return {group: profit_curve(months.get(group, {}), counts) for group, counts in observed.items()}
