"""Product suggestions from co-purchases: "customers who bought this also bought", and what each customer may buy
next, with the offline evaluation that says whether they beat plain popularity.

* **Co-purchase** is within a customer, over their whole history (not within one order): two products are bought
  together by a customer who bought both, in any orders. Guests are left out (a guest order cannot be linked to
  another).
* **Similarity** of products A and B: ``customers`` = customers who bought both; ``cosine`` = customers ÷
  √(buyers of A × buyers of B); ``lift`` = customers × all buyers ÷ (buyers of A × buyers of B) (above 1: A makes
  B more likely than it is anyway). A pair needs ``min_customers`` customers (minimum support); "also bought" is
  ranked by cosine, which unlike lift does not favour products that almost nobody bought.
* **Next products for a customer** (item-kNN): each product B the customer has not bought scores
  Σ weight(A) × cosine(A, B) over the products A they bought, using only each A's ``neighbours`` most similar
  products; weight(A) = ½^(days since they last bought A ÷ ``half_life_days``), or 1 without a half-life. The top
  ``limit`` are suggested; when fewer score, the list is filled with the most popular products they have not
  bought. Products already bought are never suggested: a repeat purchase is a reorder reminder, not a suggestion,
  and the offline evaluation measures products new to the customer.
* **Popularity** (the baseline): the products bought by the most customers, less those the customer bought.
* **Evaluation** on a time split: products a customer bought in the test window that they had not bought before
  are the relevant ones; customers with history before the cut-off and at least one relevant product are
  evaluated. ``hit_rate`` = share of them with at least one relevant product among their suggestions; ``recall`` =
  mean over them of relevant products suggested ÷ relevant products.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis
import ibis.expr.types as ir

from shoplens.errors import InputError
from shoplens.metrics._facts import ratio, with_local_day
from shoplens.metrics._time import Zone

DEFAULT_LIMIT = 10


@dataclass(frozen=True)
class KnnSettings:
    """How item-kNN suggestions are made: pair support, neighbours kept per product, recency half-life (days)."""

    min_customers: int = 2
    # chosen on UCI Online Retail's validation window (June to August 2011), never on its test window
    neighbours: int = 10
    half_life_days: int | None = 90

    def describe(self) -> dict[str, int | None]:
        return {
            "min_customers": self.min_customers,
            "neighbours": self.neighbours,
            "half_life_days": self.half_life_days,
        }


def bought_products(orders: ir.Table, order_lines: ir.Table, *, zone: Zone) -> ir.Table:
    """Per known customer and product they bought: ``customer_key, product_id, orders, first_day, last_day``
    (store-local days of their first and last purchase of it). ``orders`` and ``order_lines`` are purchases."""
    known = orders.filter(orders.customer_key.notnull()).select("order_id", "customer_key", "ordered_at")
    known = with_local_day(known, "ordered_at", zone)
    lines = order_lines.filter(order_lines.product_id.notnull(), order_lines.quantity > 0)
    joined = lines.select("order_id", "product_id").inner_join(known, "order_id")
    return joined.group_by(["customer_key", "product_id"]).aggregate(
        orders=joined.order_id.nunique().cast("int64"),
        first_day=joined.local_day.min(),
        last_day=joined.local_day.max(),
    )


def purchases_between(
    orders: ir.Table, order_lines: ir.Table, *, zone: Zone, start: date | None, end: date | None
) -> ir.Table:
    """:func:`bought_products` over the purchases with a store-local day in [start, end) (either bound open)."""
    local = with_local_day(orders, "ordered_at", zone)
    if start is not None:
        local = local.filter(local.local_day >= ibis.date(start))
    if end is not None:
        local = local.filter(local.local_day < ibis.date(end))
    chosen = local.select("order_id", "customer_key", "ordered_at")
    return bought_products(chosen, order_lines.semi_join(chosen, "order_id"), zone=zone)


def product_buyers(bought: ir.Table) -> ir.Table:
    """``product_id, buyers`` (distinct customers) from :func:`bought_products`."""
    return bought.group_by("product_id").aggregate(buyers=bought.customer_key.nunique().cast("int64"))


def item_similarity(bought: ir.Table, *, min_customers: int = 2, of: str | None = None) -> ir.Table:
    """Every ordered pair bought by at least ``min_customers`` customers (only the pairs of product ``of`` when
    given): ``product_id, also_bought, customers, buyers, also_buyers, cosine, lift, share`` (``share`` =
    customers ÷ buyers of ``product_id``, the confidence of the rule product → also_bought)."""
    if isinstance(min_customers, bool) or min_customers < 1:
        raise InputError(f"min_customers must be at least 1, not {min_customers}")
    pairs_of = bought.select("customer_key", "product_id")
    right = pairs_of.select(customer_key="customer_key", second="product_id")
    if of is not None:
        left = pairs_of.filter(pairs_of.product_id == of).select(customer_key="customer_key", first="product_id")
        pairs = left.inner_join(right, [left.customer_key == right.customer_key, left.first != right.second])
        both_ways = pairs.group_by(product_id="first", also_bought="second").aggregate(
            customers=pairs.count().cast("int64")
        )
        both_ways = both_ways.filter(both_ways.customers >= min_customers)
    else:
        left = pairs_of.select(customer_key="customer_key", first="product_id")
        pairs = left.inner_join(right, [left.customer_key == right.customer_key, left.first < right.second])
        counted = pairs.group_by(["first", "second"]).aggregate(customers=pairs.count().cast("int64"))
        counted = counted.filter(counted.customers >= min_customers)
        both_ways = ibis.union(
            counted.select(product_id="first", also_bought="second", customers="customers"),
            counted.select(product_id="second", also_bought="first", customers="customers"),
            distinct=False,
        )
    buyers = product_buyers(bought)
    total = bought.aggregate(all_buyers=bought.customer_key.nunique().cast("int64"))
    joined = both_ways.inner_join(buyers, "product_id").inner_join(
        buyers.select(also_bought="product_id", also_buyers="buyers"), "also_bought"
    )
    joined = joined.cross_join(total)
    return joined.select(
        "product_id",
        "also_bought",
        "customers",
        "buyers",
        "also_buyers",
        cosine=joined.customers.cast("float64") / (joined.buyers * joined.also_buyers).cast("float64").sqrt(),
        # written symmetrically so A → B and B → A get bit-identical lifts on every engine
        lift=ratio(joined.customers * joined.all_buyers, joined.buyers * joined.also_buyers),
        share=ratio(joined.customers, joined.buyers),
    )


def nearest(similarity: ir.Table, neighbours: int) -> ir.Table:
    """The ``neighbours`` most similar products of each product (by cosine, then pair customers, then id)."""
    window = ibis.window(
        group_by="product_id",
        order_by=[ibis.desc("cosine"), ibis.desc("customers"), ibis.asc("also_bought")],
    )
    ranked = similarity.mutate(neighbour_rank=ibis.row_number().over(window))
    return ranked.filter(ranked.neighbour_rank < neighbours).drop("neighbour_rank")


def popular_products(bought: ir.Table) -> ir.Table:
    """``product_id, buyers, popularity_rank`` (1 = bought by the most customers; ties by product id)."""
    buyers = product_buyers(bought)
    window = ibis.window(order_by=[ibis.desc("buyers"), ibis.asc("product_id")])
    return buyers.mutate(popularity_rank=(ibis.row_number().over(window) + 1).cast("int64"))


def popularity_suggestions(bought: ir.Table, customers: ir.Table, *, limit: int = DEFAULT_LIMIT) -> ir.Table:
    """For each ``customer_key`` of ``customers``: the ``limit`` most popular products of ``bought`` they did not
    buy: ``customer_key, product_id, score (= buyers), rank``."""
    owned = bought.group_by("customer_key").aggregate(owned=bought.count().cast("int64"))
    who = customers.select("customer_key").distinct().left_join(owned, "customer_key").drop("customer_key_right")
    who = who.mutate(owned=who.owned.fill_null(0))
    popular = popular_products(bought)
    # at most `owned` of the first limit + owned products are theirs, so these hold the limit the customer lacks
    candidates = who.inner_join(popular, popular.popularity_rank <= who.owned + limit)
    candidates = candidates.select("customer_key", "product_id", "buyers", "popularity_rank")
    fresh = candidates.anti_join(
        bought.select("customer_key", "product_id"),
        [candidates.customer_key == bought.customer_key, candidates.product_id == bought.product_id],
    )
    window = ibis.window(group_by="customer_key", order_by=[ibis.asc("popularity_rank")])
    ranked = fresh.mutate(rank=(ibis.row_number().over(window) + 1).cast("int64"))
    ranked = ranked.filter(ranked.rank <= limit)
    return ranked.select("customer_key", "product_id", score=ranked.buyers.cast("float64"), rank="rank")


def knn_suggestions(
    bought: ir.Table,
    customers: ir.Table,
    *,
    as_of: date,
    settings: KnnSettings = KnnSettings(),
    limit: int = DEFAULT_LIMIT,
) -> ir.Table:
    """Item-kNN suggestions (see the module docstring) for each ``customer_key`` of ``customers``, filled with
    popularity: ``customer_key, product_id, score, rank, method`` (``item-knn`` or ``popular``); popular fills
    rank after every item-kNN product and their score is the product's buyers."""
    similar = nearest(item_similarity(bought, min_customers=settings.min_customers), settings.neighbours)
    theirs = bought.semi_join(customers.select("customer_key").distinct(), "customer_key")
    if settings.half_life_days is None:
        weighted = theirs.mutate(weight=ibis.literal(1.0))
    else:
        age = ibis.date(as_of).delta(theirs.last_day, unit="day").cast("float64")
        weighted = theirs.mutate(weight=ibis.literal(0.5) ** (age / float(settings.half_life_days)))
    reach = weighted.select("customer_key", "product_id", "weight").inner_join(
        similar.select("product_id", "also_bought", "cosine"), "product_id"
    )
    scored = reach.group_by(["customer_key", "also_bought"]).aggregate(score=(reach.weight * reach.cosine).sum())
    scored = scored.select("customer_key", product_id="also_bought", score="score")
    fresh = scored.anti_join(
        bought.select("customer_key", "product_id"),
        [scored.customer_key == bought.customer_key, scored.product_id == bought.product_id],
    )
    window = ibis.window(group_by="customer_key", order_by=[ibis.desc("score"), ibis.asc("product_id")])
    ranked = fresh.mutate(rank=(ibis.row_number().over(window) + 1).cast("int64"))
    ranked = ranked.filter(ranked.rank <= limit).mutate(method=ibis.literal("item-knn"))
    # fill from popularity: the customer's popular products not suggested already, after the kNN ones
    popular = popularity_suggestions(bought, customers, limit=limit)
    filler = popular.anti_join(
        ranked, [popular.customer_key == ranked.customer_key, popular.product_id == ranked.product_id]
    )
    found = ranked.group_by("customer_key").aggregate(found=ranked.count().cast("int64"))
    filler = filler.left_join(found, "customer_key").drop("customer_key_right")
    window = ibis.window(group_by="customer_key", order_by=[ibis.asc("rank")])
    filler = filler.mutate(fill_order=ibis.row_number().over(window))
    filler = filler.mutate(
        rank=(filler.found.fill_null(0) + filler.fill_order + 1).cast("int64"), method=ibis.literal("popular")
    )
    filler = filler.filter(filler.rank <= limit).select("customer_key", "product_id", "score", "rank", "method")
    return ibis.union(ranked.select("customer_key", "product_id", "score", "rank", "method"), filler, distinct=False)


def new_products(history: ir.Table, later: ir.Table) -> ir.Table:
    """Products of ``later`` (:func:`bought_products` of the test window) new to customers with ``history``:
    ``customer_key, product_id`` for customers who bought before and bought something new."""
    theirs = later.semi_join(history.select("customer_key").distinct(), "customer_key")
    fresh = theirs.anti_join(
        history.select("customer_key", "product_id"),
        [theirs.customer_key == history.customer_key, theirs.product_id == history.product_id],
    )
    return fresh.select("customer_key", "product_id").distinct()


def suggestion_scores(suggested: ir.Table, relevant: ir.Table) -> ir.Table:
    """One row: ``customers, hit_rate, recall, relevant_products, hits`` of ``suggested`` (customer_key,
    product_id) against ``relevant`` (:func:`new_products`), over the customers of ``relevant``."""
    picked = suggested.select("customer_key", "product_id")
    hits = relevant.semi_join(
        picked, [relevant.customer_key == picked.customer_key, relevant.product_id == picked.product_id]
    )
    per_hit = hits.group_by("customer_key").aggregate(hits=hits.count().cast("int64"))
    per_customer = relevant.group_by("customer_key").aggregate(relevant=relevant.count().cast("int64"))
    joined = per_customer.left_join(per_hit, "customer_key").drop("customer_key_right")
    joined = joined.mutate(hits=joined.hits.fill_null(0))
    return joined.aggregate(
        customers=joined.count().cast("int64"),
        # a filtered count, not a boolean cast to a number (PostgreSQL cannot cast a boolean to double)
        hit_rate=ratio(joined.count(where=joined.hits > 0), joined.count()),
        recall=(joined.hits.cast("float64") / joined.relevant.cast("float64")).mean(),
        relevant_products=joined.relevant.sum().cast("int64"),
        hits=joined.hits.sum().cast("int64"),
    )
