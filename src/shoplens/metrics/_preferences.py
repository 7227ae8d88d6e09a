"""Customer preference profiles from sufficient statistics that add up exactly across imports.

A profile (preferred products and categories, price band, discount sensitivity, channel, device, shopping day and
hour, typical order size, domestic or international, business buyer or consumer) is derived from a handful of
*statistics tables* (:data:`STATISTICS`). Each is a table of counts and sums keyed by customer and one value, so the
statistics of two disjoint sets of orders merge by adding the measures of equal keys (:func:`merge_statistics`):
the statistics of every order so far plus those of the new orders equal the statistics of all the orders. Medians
are not mergeable as numbers, so they are kept as counts per distinct value (units per order, net per order,
unit price and quantity per line); a median read from those counts is the exact median of the values.

Definitions (all exact, from the counts):

- *median* of a customer's values: the mean of the two middle values (the middle one for an odd count); the
  median net per order keeps the half cent that mean can have;
- the store's *price quartiles*: nearest rank over every purchase line's unit price, guests' lines included
  (the value at rank ceil(q x lines)); a customer's *price band* compares their median unit price with them:
  below Q1 ``budget``, below Q2 ``mid``, below Q3 ``premium``, else ``luxury``;
- *discount sensitivity*: the share of a customer's orders with a discount or a discount code;
- *channel*, *device*, *weekday*, *hour*: the most frequent among the customer's orders (store-local time;
  ties go to the first value in alphabetical or numeric order);
- *business buyer* (:data:`BUSINESS_RULE`): median quantity per line at least four times the store's and median
  units per order at least twice the store's (both over every purchase, guests included) — wholesale buying as in
  UCI Online Retail, where a shop buying for resale orders dozens of each item;
- *international*: the customer's country differs from the store's home country (the most common customer
  country); customers without a country are neither domestic nor international.

Products' names and categories are read when the profile is read, so a product moved to another category counts
in its new one, for old orders too.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from shoplens.metrics._facts import money, ratio, with_local_day
from shoplens.metrics._time import Zone

UNKNOWN = "(unknown)"
NO_CATEGORY = "(no category)"
TOP = 3
PRICE_BANDS = ("budget", "mid", "premium", "luxury")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HABITS = ("channel", "device", "weekday", "hour")
BUSINESS_QUANTITY_FACTOR = 4
BUSINESS_UNITS_FACTOR = 2
BUSINESS_RULE = (
    f"business buyer: median quantity per line at least {BUSINESS_QUANTITY_FACTOR} x the store's median quantity "
    f"per line, and median units per order at least {BUSINESS_UNITS_FACTOR} x the store's median units per order"
)


@dataclass(frozen=True)
class Statistic:
    """One statistics table: its key columns and its additive measures (with their Arrow types)."""

    keys: tuple[tuple[str, pa.DataType], ...]
    measures: tuple[tuple[str, pa.DataType], ...]

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([*self.keys, *self.measures])

    @property
    def key_names(self) -> list[str]:
        return [name for name, _ in self.keys]


_KEY = ("customer_key", pa.string())
_MONEY = pa.decimal128(18, 2)
_PRICE = pa.decimal128(18, 4)
STATISTICS: dict[str, Statistic] = {
    # spend and units per customer and product (a NULL product: lines without one)
    "products": Statistic((_KEY, ("product_id", pa.string())), (("spend", _MONEY), ("units", pa.int64()))),
    # lines per unit price and per quantity (customer_key NULL: guests' lines, for the store's levels)
    "prices": Statistic((_KEY, ("unit_price", _PRICE)), (("lines", pa.int64()),)),
    "quantities": Statistic((_KEY, ("quantity", pa.int64())), (("lines", pa.int64()),)),
    # orders per units and net (NULL customer: guests' orders)
    "sizes": Statistic((_KEY, ("units", pa.int64()), ("net", _MONEY)), (("orders", pa.int64()),)),
    # orders per channel, device, store-local weekday (0 = Monday) and hour
    "habits": Statistic((_KEY, ("habit", pa.string()), ("value", pa.string())), (("orders", pa.int64()),)),
    "totals": Statistic((_KEY,), (("orders", pa.int64()), ("discounted_orders", pa.int64()), ("spend", _MONEY))),
}
# The orders the statistics hold, to find the new ones and to notice orders that changed or went away.
LEDGER_SCHEMA = pa.schema([("order_id", pa.string()), ("customer_key", pa.string()), ("net", _MONEY)])


def order_ledger(orders: ir.Table) -> ir.Table:
    """``order_id, customer_key, net`` of the purchases the statistics are computed from."""
    return orders.select("order_id", "customer_key", net=money(orders.net.fill_null(0)))


def preference_statistics(orders: ir.Table, lines: ir.Table, *, zone: Zone = "UTC") -> dict[str, ir.Table]:
    """The statistics tables (:data:`STATISTICS`) of the purchases ``orders`` and their ``lines``."""
    lines = lines.semi_join(orders.select("order_id"), "order_id")
    bought = lines.select("order_id", "product_id", "quantity", "unit_price", "amount").left_join(
        orders.select("order_id", "customer_key"), "order_id"
    )
    bought = bought.select("customer_key", "product_id", "quantity", "unit_price", "amount")
    known = bought.filter(bought.customer_key.notnull())
    products = known.group_by(["customer_key", "product_id"]).aggregate(
        spend=money(known.amount.fill_null(0).sum()), units=known.quantity.sum().cast("int64")
    )
    prices = bought.group_by(["customer_key", "unit_price"]).aggregate(lines=bought.count().cast("int64"))
    quantities = bought.group_by(["customer_key", bought.quantity.cast("int64").name("quantity")]).aggregate(
        lines=bought.count().cast("int64")
    )
    units = lines.group_by("order_id").aggregate(units=lines.quantity.sum().cast("int64"))
    sized = orders.select("order_id", "customer_key", net=money(orders.net.fill_null(0))).left_join(units, "order_id")
    sized = sized.select("customer_key", "net", units=sized.units.fill_null(0))
    sizes = sized.group_by(["customer_key", "units", "net"]).aggregate(orders=sized.count().cast("int64"))
    customer_orders = orders.filter(orders.customer_key.notnull())
    local = with_local_day(customer_orders, "ordered_at", zone)
    local = local.select(
        "customer_key",
        channel=local.channel.fill_null(UNKNOWN),
        device=local.device.fill_null(UNKNOWN),
        weekday=local.local_at.day_of_week.index().cast("string"),
        hour=local.local_at.hour().cast("int64").cast("string").lpad(2, "0"),
        discounted=(local.discount.fill_null(0) > 0) | local.discount_code.notnull(),
        net=local.net.fill_null(0),
    )
    habits = ibis.union(
        *[
            local.group_by(["customer_key", local[habit].name("value")]).aggregate(
                habit=ibis.literal(habit), orders=local.count().cast("int64")
            )
            for habit in HABITS
        ],
        distinct=False,
    )
    totals = local.group_by("customer_key").aggregate(
        orders=local.count().cast("int64"),
        discounted_orders=local.count(where=local.discounted).cast("int64"),
        spend=money(local.net.sum()),
    )
    found = {
        "products": products,
        "prices": prices,
        "quantities": quantities,
        "sizes": sizes,
        "habits": habits,
        "totals": totals,
    }
    return {name: found[name].select(*STATISTICS[name].schema.names) for name in STATISTICS}


def conform(name: str, table: pa.Table) -> pa.Table:
    """``table`` with the columns and types of the statistics table ``name``, in their order."""
    schema = STATISTICS[name].schema
    return pa.table([table[field.name].cast(field.type) for field in schema], schema=schema)


def merge_statistics(name: str, old: pa.Table, new: pa.Table) -> pa.Table:
    """The statistics ``name`` of two disjoint sets of orders, from each's: measures of equal keys added.

    Only the rows of customers in ``new`` (guests' rows included) are regrouped; the others are kept as they are,
    so a month's update touches a month's customers. Row order is not part of the statistics (see
    :func:`canonical`).
    """
    spec = STATISTICS[name]
    old, new = conform(name, old), conform(name, new)
    touched = pc.is_in(old["customer_key"], value_set=pc.unique(new["customer_key"]), skip_nulls=False)
    both = pa.concat_tables([old.filter(touched), new])
    measures = [measure for measure, _ in spec.measures]
    summed = both.group_by(spec.key_names, use_threads=False).aggregate([(m, "sum") for m in measures])
    summed = summed.rename_columns([c.removesuffix("_sum") for c in summed.column_names])
    return pa.concat_tables([old.filter(pc.invert(touched)), conform(name, summed)])


def canonical(name: str, table: pa.Table) -> pa.Table:
    """``table`` conformed to the statistics ``name`` and sorted by its keys: equal statistics, equal tables."""
    spec = STATISTICS[name]
    table = conform(name, table)
    order = [(key, "ascending") for key in spec.key_names]
    return table.take(pc.sort_indices(table, sort_keys=order))


# --- from the statistics to the profiles ---------------------------------------------------------------------------


def _weighted_positions(table: ir.Table, by: list[str], value: str, weight: str) -> ir.Table:
    """Rows sorted by ``value`` within ``by`` with ``upto`` (weight so far, this row included) and ``total``."""
    grouped = table.group_by([*by, value]).aggregate(weight=table[weight].sum())
    running = ibis.cumulative_window(group_by=[grouped[k] for k in by], order_by=grouped[value])
    everything = ibis.window(group_by=[grouped[k] for k in by])
    return grouped.mutate(upto=grouped.weight.sum().over(running), total=grouped.weight.sum().over(everything))


def weighted_median(table: ir.Table, by: list[str], value: str, weight: str, name: str) -> ir.Table:
    """The median of ``value`` (each counted ``weight`` times) per ``by``: mean of the two middle values."""
    positions = _weighted_positions(table, by, value, weight)
    positions = positions.select(*by, value, "weight", "upto", "total")
    low = (positions.total + 1) // 2
    high = positions.total // 2 + 1
    column = positions[value]
    between = positions.upto - positions.weight
    found = positions.group_by(by).aggregate(
        low=column.max(where=(between < low) & (low <= positions.upto)),
        high=column.max(where=(between < high) & (high <= positions.upto)),
    )
    # times a decimal half, not divided by 2: decimals stay exact (a median net of 10.005 is 10.005)
    return found.select(*by, **{name: (found.low + found.high) * ibis.literal(Decimal("0.5"), type="decimal(2, 1)")})


def nearest_rank(table: ir.Table, value: str, weight: str, quarters: int) -> ir.Scalar:
    """The ``quarters``/4 quantile of ``value`` over the whole table by nearest rank (each row ``weight`` times)."""
    grouped = table.group_by(value).aggregate(weight=table[weight].sum())
    grouped = grouped.mutate(
        upto=grouped.weight.sum().over(ibis.cumulative_window(order_by=grouped[value])),
        total=grouped.weight.sum().over(),
    )
    rank = (grouped.total * quarters + 3) // 4
    return grouped[value].max(where=(grouped.upto - grouped.weight < rank) & (rank <= grouped.upto))


def store_levels(prices: ir.Table, quantities: ir.Table, sizes: ir.Table) -> ir.Table:
    """One row: the store's price quartiles ``price_q1..q3``, median ``quantity_per_line`` and ``units_per_order``
    (every purchase, guests included)."""
    quantity = weighted_median(quantities.mutate(all=ibis.literal(1)), ["all"], "quantity", "lines", "median")
    units = weighted_median(sizes.mutate(all=ibis.literal(1)), ["all"], "units", "orders", "median")
    both = quantity.select("all", quantity_per_line=quantity["median"]).inner_join(
        units.select("all", units_per_order=units["median"]), "all"
    )
    return both.select(
        price_q1=nearest_rank(prices, "unit_price", "lines", 1).as_scalar(),
        price_q2=nearest_rank(prices, "unit_price", "lines", 2).as_scalar(),
        price_q3=nearest_rank(prices, "unit_price", "lines", 3).as_scalar(),
        quantity_per_line=both.quantity_per_line.cast("float64"),
        units_per_order=both.units_per_order.cast("float64"),
    )


def _most_frequent(habits: ir.Table, habit: str) -> ir.Table:
    these = habits.filter(habits.habit == habit)
    rank = ibis.row_number().over(group_by=these.customer_key, order_by=[ibis.desc(these.orders), these.value])
    return these.mutate(rank=rank).filter(lambda t: t["rank"] == 0).select("customer_key", **{habit: "value"})


def customer_traits(
    statistics: dict[str, ir.Table], customers: ir.Table, levels: ir.Table, *, home_country: str | None
) -> ir.Table:
    """One row per customer with orders: ``customer_key, country, orders, spend, discounted_orders,
    discount_share, channel, device, weekday, hour, median_units, median_net, median_unit_price,
    median_quantity, price_band, international, business_buyer``."""
    totals = statistics["totals"]
    habits = statistics["habits"]
    known = {
        name: statistics[name].filter(statistics[name].customer_key.notnull())
        for name in ("prices", "quantities", "sizes")
    }
    traits = totals.select(
        "customer_key",
        "orders",
        "spend",
        "discounted_orders",
        discount_share=ratio(totals.discounted_orders, totals.orders),
    )
    for habit in HABITS:
        traits = traits.left_join(_most_frequent(habits, habit), "customer_key").drop("customer_key_right")
    medians = [
        weighted_median(known["sizes"], ["customer_key"], "units", "orders", "median_units"),
        weighted_median(known["sizes"], ["customer_key"], "net", "orders", "median_net"),
        weighted_median(known["prices"], ["customer_key"], "unit_price", "lines", "median_unit_price"),
        weighted_median(known["quantities"], ["customer_key"], "quantity", "lines", "median_quantity"),
    ]
    for median in medians:
        traits = traits.left_join(median, "customer_key").drop("customer_key_right")
    traits = traits.cross_join(levels)
    price = traits.median_unit_price
    band = ibis.cases(
        (price.isnull(), ibis.null("string")),
        (price < traits.price_q1, PRICE_BANDS[0]),
        (price < traits.price_q2, PRICE_BANDS[1]),
        (price < traits.price_q3, PRICE_BANDS[2]),
        else_=PRICE_BANDS[3],
    )
    business = (traits.median_quantity.cast("float64") >= BUSINESS_QUANTITY_FACTOR * traits.quantity_per_line) & (
        traits.median_units.cast("float64") >= BUSINESS_UNITS_FACTOR * traits.units_per_order
    )
    traits = traits.mutate(price_band=band, business_buyer=business.fill_null(False))
    traits = traits.left_join(customers.select("customer_key", "country"), "customer_key").drop("customer_key_right")
    home = ibis.literal(home_country, type="string")
    international = ibis.ifelse(traits.country.isnull() | home.isnull(), ibis.null("boolean"), traits.country != home)
    return traits.select(
        "customer_key",
        "country",
        "orders",
        "spend",
        "discounted_orders",
        "discount_share",
        "channel",
        "device",
        weekday=traits.weekday.cast("int64"),
        hour=traits.hour.cast("int64"),
        median_units=traits.median_units.cast("float64"),
        median_net=traits.median_net.cast("decimal(18, 3)"),
        median_unit_price=traits.median_unit_price.cast("float64"),
        median_quantity=traits.median_quantity.cast("float64"),
        price_band=traits.price_band,
        business_buyer=traits.business_buyer,
        international=international,
    )


def top_products(products_spend: ir.Table, products: ir.Table, *, top: int = TOP) -> ir.Table:
    """A customer's ``top`` products by spend: ``customer_key, rank (1..), product_id, name, spend, share``."""
    total = products_spend.group_by("customer_key").aggregate(total=products_spend.spend.sum())
    named = products_spend.filter(products_spend.product_id.notnull())
    named = named.left_join(products.select("product_id", "name"), "product_id").drop("product_id_right")
    return _ranked(named, total, "product_id", top, extra=["name"])


def top_categories(products_spend: ir.Table, products: ir.Table, *, top: int = TOP) -> ir.Table:
    """A customer's ``top`` categories by spend (products without one in ``(no category)``):
    ``customer_key, rank, category, spend, share``."""
    total = products_spend.group_by("customer_key").aggregate(total=products_spend.spend.sum())
    placed = products_spend.left_join(products.select("product_id", "category"), "product_id")
    placed = placed.mutate(category=placed.category.fill_null(NO_CATEGORY))
    per = placed.group_by(["customer_key", "category"]).aggregate(spend=placed.spend.sum())
    return _ranked(per, total, "category", top, extra=[])


def _ranked(per: ir.Table, total: ir.Table, item: str, top: int, *, extra: list[str]) -> ir.Table:
    rank = ibis.row_number().over(group_by=per.customer_key, order_by=[ibis.desc(per.spend), per[item]])
    ranked = per.mutate(rank=(rank + 1).cast("int64")).filter(lambda t: t["rank"] <= top)
    ranked = ranked.inner_join(total, "customer_key")
    return ranked.select(
        "customer_key", "rank", item, *extra, spend=money(ranked.spend), share=ratio(ranked.spend, ranked.total)
    ).order_by(["customer_key", "rank"])


def home_country(customers: ir.Table) -> ir.Scalar:
    """The store's home country: the most common country among its customers (ties: alphabetical)."""
    placed = customers.filter(customers.country.notnull())
    counts = placed.group_by("country").aggregate(customers=placed.count())
    return counts.order_by([ibis.desc("customers"), "country"]).limit(1).country.as_scalar()
