"""Product suggestions on a hand-made split: the co-purchase similarity, the item-kNN scores and the popularity
baseline against an independent numpy computation, and hit rate@k and recall@k against pandas."""

from __future__ import annotations

import math
from datetime import date

import ibis
import numpy as np
import pandas as pd
import pytest

from shoplens.metrics import (
    KnnSettings,
    item_similarity,
    knn_suggestions,
    new_products,
    popularity_suggestions,
    purchases_between,
    suggestion_scores,
)

CUTOFF = date(2024, 3, 1)
# (customer, day, products of one order); orders before CUTOFF train, the rest test
BASKETS = [
    ("c1", "2024-01-03", "A B"),
    ("c1", "2024-02-10", "C"),
    ("c2", "2024-01-05", "A B D"),
    ("c3", "2024-01-20", "B C"),
    ("c3", "2024-02-25", "E"),
    ("c4", "2024-01-08", "A D"),
    ("c4", "2024-02-01", "F"),
    ("c5", "2024-02-14", "E F"),
    ("c6", "2024-01-11", "A B C D"),
    ("c7", "2024-02-20", "B"),
    ("c1", "2024-03-05", "D E"),
    ("c2", "2024-03-09", "A C"),  # A is a reorder, C is new
    ("c3", "2024-03-10", "A"),
    ("c4", "2024-03-12", "G"),
    ("c5", "2024-03-15", "A B"),
    ("c7", "2024-03-20", "B"),  # only a reorder: c7 has nothing new, so is not evaluated
    ("c8", "2024-03-21", "A"),  # no history before the cut-off: not evaluated
]


@pytest.fixture(scope="module")
def tables() -> tuple[ibis.Table, ibis.Table, pd.DataFrame]:
    orders, lines = [], []
    for number, (customer, day, products) in enumerate(BASKETS):
        order_id = f"o{number}"
        orders.append({"order_id": order_id, "customer_key": customer, "ordered_at": pd.Timestamp(f"{day} 12:00")})
        lines += [{"order_id": order_id, "product_id": p, "quantity": 1} for p in products.split()]
    con = ibis.duckdb.connect()
    flat = pd.DataFrame(
        [
            {"customer_key": customer, "day": date.fromisoformat(day), "product_id": p}
            for customer, day, products in BASKETS
            for p in products.split()
        ]
    )
    return con.create_table("orders", pd.DataFrame(orders)), con.create_table("order_lines", pd.DataFrame(lines)), flat


def _history(tables: tuple[ibis.Table, ibis.Table, pd.DataFrame]) -> ibis.Table:
    orders, lines, _ = tables
    return purchases_between(orders, lines, zone="UTC", start=None, end=CUTOFF)


def _numpy_model(flat: pd.DataFrame, settings: KnnSettings, as_of: date) -> dict[tuple[str, str], float]:
    """Item-kNN scores by the definition, with a customer x product matrix: cosine of co-buying customers, each
    product's nearest neighbours, recency weights, products already bought left out."""
    train = flat[flat["day"] < CUTOFF]
    customers, products = sorted(train["customer_key"].unique()), sorted(train["product_id"].unique())
    matrix = np.zeros((len(customers), len(products)))
    last = {}
    for row in train.itertuples():
        matrix[customers.index(row.customer_key), products.index(row.product_id)] = 1
        key = (row.customer_key, row.product_id)
        last[key] = max(last.get(key, row.day), row.day)
    both = matrix.T @ matrix
    buyers = matrix.sum(axis=0)
    cosine = both / np.sqrt(np.outer(buyers, buyers))
    np.fill_diagonal(cosine, 0)
    cosine[both < settings.min_customers] = 0
    kept = np.zeros_like(cosine)
    for a in range(len(products)):
        order = sorted(
            (b for b in range(len(products)) if cosine[a, b] > 0), key=lambda b: (-cosine[a, b], -both[a, b], b)
        )
        for b in order[: settings.neighbours]:
            kept[a, b] = cosine[a, b]
    scores = {}
    for i, customer in enumerate(customers):
        for b, product in enumerate(products):
            if matrix[i, b]:
                continue
            total = 0.0
            for a in np.flatnonzero(matrix[i]):
                if kept[a, b] > 0:
                    age = (as_of - last[(customer, products[a])]).days
                    weight = 1.0 if settings.half_life_days is None else 0.5 ** (age / settings.half_life_days)
                    total += weight * kept[a, b]
            if total > 0:
                scores[(customer, product)] = total
    return scores


def test_similarity_is_cosine_and_lift_of_co_buying_customers(
    tables: tuple[ibis.Table, ibis.Table, pd.DataFrame],
) -> None:
    found = item_similarity(_history(tables), min_customers=2).execute()
    pair = found[(found.product_id == "A") & (found.also_bought == "B")].iloc[0]
    # A: c1 c2 c4 c6; B: c1 c2 c3 c6 c7; both: c1 c2 c6; 7 customers in all
    assert pair["customers"] == 3
    assert pair["cosine"] == pytest.approx(3 / math.sqrt(4 * 5))
    assert pair["lift"] == pytest.approx(3 * 7 / (4 * 5))
    assert pair["share"] == pytest.approx(3 / 4)
    assert found["customers"].min() == 2, "pairs with one customer behind them are left out"
    # the pairs of one product alone are the same rows
    one = item_similarity(_history(tables), min_customers=2, of="A").execute()
    columns = list(found.columns)
    expected = found[found.product_id == "A"].sort_values("also_bought").reset_index(drop=True)
    pd.testing.assert_frame_equal(one[columns].sort_values("also_bought").reset_index(drop=True), expected)


@pytest.mark.parametrize(
    "settings",
    [
        KnnSettings(min_customers=1, neighbours=50, half_life_days=None),
        KnnSettings(min_customers=1, neighbours=2, half_life_days=30),
    ],
    ids=["all-neighbours", "two-neighbours-recency"],
)
def test_knn_scores_match_an_independent_numpy_computation(
    tables: tuple[ibis.Table, ibis.Table, pd.DataFrame], settings: KnnSettings
) -> None:
    history = _history(tables)
    who = history.select("customer_key").distinct()
    as_of = date(2024, 2, 29)
    found = knn_suggestions(history, who, as_of=as_of, settings=settings, limit=100).execute()
    knn = found[found.method == "item-knn"]
    expected = _numpy_model(tables[2], settings, as_of)
    assert {(r.customer_key, r.product_id): r.score for r in knn.itertuples()} == pytest.approx(expected)
    # the rest of the list is filled with popular products the customer neither bought nor was suggested
    train = tables[2][tables[2]["day"] < CUTOFF]
    owned = train.groupby("customer_key")["product_id"].apply(set)
    for customer, rows in found.groupby("customer_key"):
        assert not set(rows.product_id) & owned[customer], "nothing already bought is suggested"
        assert sorted(rows["rank"]) == list(range(1, len(rows) + 1))
        assert len(rows) == train["product_id"].nunique() - len(owned[customer])


def test_popularity_is_the_most_bought_products_not_yet_bought(
    tables: tuple[ibis.Table, ibis.Table, pd.DataFrame],
) -> None:
    history = _history(tables)
    found = popularity_suggestions(history, history.select("customer_key").distinct(), limit=2).execute()
    train = tables[2][tables[2]["day"] < CUTOFF]
    buyers = train.groupby("product_id")["customer_key"].nunique()
    ranking = sorted(buyers.index, key=lambda p: (-buyers[p], p))
    for customer, rows in found.groupby("customer_key"):
        owned = set(train.loc[train.customer_key == customer, "product_id"])
        assert list(rows.sort_values("rank").product_id) == [p for p in ranking if p not in owned][:2], customer


@pytest.mark.parametrize("method", ["item-knn", "popularity"])
def test_hit_rate_and_recall_match_pandas(tables: tuple[ibis.Table, ibis.Table, pd.DataFrame], method: str) -> None:
    orders, lines, flat = tables
    history = _history(tables)
    later = purchases_between(orders, lines, zone="UTC", start=CUTOFF, end=None)
    relevant = new_products(history, later)
    who = relevant.select("customer_key").distinct()
    if method == "item-knn":
        settings = KnnSettings(min_customers=1, neighbours=3, half_life_days=None)
        suggested = knn_suggestions(history, who, as_of=date(2024, 2, 29), settings=settings, limit=3)
    else:
        suggested = popularity_suggestions(history, who, limit=3)
    found = suggestion_scores(suggested, relevant).execute().iloc[0]

    # pandas, from the raw baskets: products bought after the cut-off that the customer had not bought before
    train, test = flat[flat["day"] < CUTOFF], flat[flat["day"] >= CUTOFF]
    owned = train.groupby("customer_key")["product_id"].apply(set)
    new = {
        customer: set(rows.product_id) - owned[customer]
        for customer, rows in test.groupby("customer_key")
        if customer in owned.index and set(rows.product_id) - owned[customer]
    }
    assert sorted(new) == ["c1", "c2", "c3", "c4", "c5"]
    picks = suggested.execute().groupby("customer_key")["product_id"].apply(set)
    hits = {customer: len(products & picks.get(customer, set())) for customer, products in new.items()}
    hit_rate = np.mean([hits[c] > 0 for c in new])
    recall = np.mean([hits[c] / len(new[c]) for c in new])
    print(f"{method}: hit rate@3 {hit_rate:.3f}, recall@3 {recall:.3f} over {len(new)} customers")
    assert found["customers"] == len(new)
    assert found["hit_rate"] == pytest.approx(hit_rate)
    assert found["recall"] == pytest.approx(recall)
    assert found["relevant_products"] == sum(len(p) for p in new.values())
    assert found["hits"] == sum(hits.values())
