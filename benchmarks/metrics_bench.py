"""Each metric's time against a hand-written DuckDB SQL query computing the same thing, in the same run.

    python benchmarks/metrics_bench.py [--lines 10000000] [--repeat 3]

A demo store of ``--lines`` order lines (no web events) is generated and imported once with the generic
profile into ``benchmarks/data/metrics-<lines>/``; then every metric runs as shoplens runs it (the Ibis
expression compiled and executed on DuckDB, results fetched as Arrow) and as one hand-written SQL query with
the same definitions (store time zone Asia/Hong_Kong, UTC+8 all year). Both answers are compared (same rows
in the same order, equal on every column both return). The best of ``--repeat`` runs is reported, with the
ratio shoplens / hand-written SQL (target ≤ 1.3).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import ibis
import yaml

from shoplens.ingest.demo import generate_demo_store
from shoplens.metrics import (
    abc_classes,
    association_rules,
    cohorts,
    gap_summary,
    lifecycle,
    lifecycle_summary,
    product_performance,
    purchase_gaps,
    rfm_scores,
    rfm_segments,
    sales_kpis,
)
from shoplens.metrics._time import StoreZone
from shoplens.warehouse import Warehouse, import_files

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "benchmarks" / "data"
ZONE = "Asia/Hong_Kong"
LOCAL = "(ordered_at + INTERVAL 8 HOUR)"
MIN_SUPPORT = 0.001

KPIS_SQL = f"""
WITH numbered AS (
  SELECT *, CASE WHEN customer_key IS NOT NULL THEN
           row_number() OVER (PARTITION BY customer_key ORDER BY ordered_at, order_id) - 1 END AS n,
         CAST(date_trunc('month', {LOCAL}) AS DATE) AS period
  FROM orders),
units AS (SELECT order_id, sum(quantity) AS units FROM order_lines GROUP BY order_id),
sales AS (
  SELECT period, count(*) AS orders, count(DISTINCT customer_key) AS customers,
         count(DISTINCT customer_key) FILTER (WHERE n = 0) AS new_customers,
         count(DISTINCT customer_key) FILTER (WHERE n >= 1) AS repeat_customers,
         sum(u.units) AS units, sum(gross) AS gross_sales, sum(discount) AS discounts, sum(net) AS net_sales,
         coalesce(sum(net) FILTER (WHERE n >= 1), 0) AS repeat_net_sales
  FROM numbered LEFT JOIN units u USING (order_id) GROUP BY period),
given AS (
  SELECT CAST(date_trunc('month', refunded_at + INTERVAL 8 HOUR) AS DATE) AS period, sum(amount) AS refunds
  FROM refunds WHERE refunded_at IS NOT NULL GROUP BY 1),
k AS (
  SELECT period, coalesce(orders, 0) AS orders, coalesce(customers, 0) AS customers,
         coalesce(new_customers, 0) AS new_customers, coalesce(repeat_customers, 0) AS repeat_customers,
         coalesce(units, 0) AS units, coalesce(net_sales, 0) AS net_sales, coalesce(refunds, 0) AS refunds,
         coalesce(repeat_net_sales, 0) AS repeat_net_sales
  FROM sales FULL JOIN given USING (period))
SELECT period, orders, net_sales - refunds AS revenue, net_sales, refunds, customers, new_customers,
       customers - new_customers AS returning_customers, units,
       net_sales::DOUBLE / nullif(orders, 0) AS aov, units::DOUBLE / nullif(orders, 0) AS units_per_order,
       refunds::DOUBLE / nullif(net_sales, 0) AS refund_rate,
       repeat_customers::DOUBLE / nullif(customers, 0) AS repeat_rate,
       repeat_net_sales::DOUBLE / nullif(net_sales, 0) AS repeat_revenue_share,
       CASE WHEN lag(period) OVER w = period - INTERVAL 1 MONTH THEN
         (net_sales - refunds - lag(net_sales - refunds) OVER w)::DOUBLE
         / nullif(abs(lag(net_sales - refunds) OVER w), 0) END AS revenue_change
FROM k WINDOW w AS (ORDER BY period) ORDER BY period
"""

RFM_SQL = f"""
WITH per AS (
  SELECT customer_key, max(CAST({LOCAL} AS DATE)) AS last_day, count(*) AS frequency, sum(net) AS net_sales
  FROM orders WHERE customer_key IS NOT NULL GROUP BY customer_key),
given AS (SELECT customer_key, sum(amount) AS refunds FROM refunds WHERE customer_key IS NOT NULL GROUP BY 1),
m AS (
  SELECT p.customer_key, date_diff('day', p.last_day, (SELECT max(CAST({LOCAL} AS DATE)) FROM orders)) AS recency,
         p.frequency, p.net_sales - coalesce(g.refunds, 0) AS monetary
  FROM per p LEFT JOIN given g USING (customer_key)),
s AS (
  SELECT *, (rank() OVER (ORDER BY recency DESC) - 1) * 5 // count(*) OVER () + 1 AS r,
            (rank() OVER (ORDER BY frequency) - 1) * 5 // count(*) OVER () + 1 AS f,
            (rank() OVER (ORDER BY monetary) - 1) * 5 // count(*) OVER () + 1 AS m
  FROM m),
c AS (SELECT *, r * 10 + (f + m) // 2 AS cell FROM s)
SELECT CASE
  WHEN cell IN (54, 55) THEN 'Champions' WHEN cell IN (34, 35, 44, 45) THEN 'Loyal'
  WHEN cell IN (42, 43, 52, 53) THEN 'Potential loyalists' WHEN cell = 51 THEN 'New' WHEN cell = 41 THEN 'Promising'
  WHEN cell = 33 THEN 'Need attention' WHEN cell IN (31, 32) THEN 'About to sleep'
  WHEN cell IN (13, 14, 23, 24) THEN 'At risk' WHEN cell IN (15, 25) THEN 'Can''t lose them'
  WHEN cell IN (12, 21, 22) THEN 'Hibernating' WHEN cell = 11 THEN 'Lost' END AS segment,
  count(*) AS customers, sum(monetary) AS revenue, avg(recency) AS mean_recency_days,
  avg(frequency) AS mean_frequency, avg(monetary::DOUBLE) AS mean_monetary
FROM c GROUP BY segment ORDER BY segment
"""

COHORTS_SQL = f"""
WITH o AS (
  SELECT customer_key, net, CAST(date_trunc('month', {LOCAL}) AS DATE) AS period,
         row_number() OVER (PARTITION BY customer_key ORDER BY ordered_at, order_id) AS n
  FROM orders WHERE customer_key IS NOT NULL),
first AS (SELECT customer_key, period AS cohort FROM o WHERE n = 1),
activity AS (
  SELECT customer_key, period, sum(net) AS revenue, 1 AS active FROM o GROUP BY 1, 2
  UNION ALL
  SELECT customer_key, CAST(date_trunc('month', refunded_at + INTERVAL 8 HOUR) AS DATE), -sum(amount), 0
  FROM refunds WHERE customer_key IS NOT NULL AND refunded_at IS NOT NULL GROUP BY 1, 2),
per AS (
  SELECT a.customer_key, a.period, f.cohort, sum(a.revenue) AS revenue, max(a.active) AS active
  FROM activity a JOIN first f USING (customer_key) GROUP BY 1, 2, 3 HAVING a.period >= f.cohort),
cells AS (SELECT cohort, period, sum(active) AS customers, sum(revenue) AS revenue FROM per GROUP BY 1, 2),
sizes AS (SELECT cohort, count(*) AS cohort_customers FROM first GROUP BY 1),
spine AS (SELECT s.cohort, p.period, s.cohort_customers FROM sizes s, (SELECT DISTINCT period FROM o) p
          WHERE p.period >= s.cohort),
t AS (
  SELECT s.cohort, s.period, s.cohort_customers, coalesce(c.customers, 0) AS customers,
         coalesce(c.revenue, 0) AS revenue,
         (year(s.period) * 12 + month(s.period)) - (year(s.cohort) * 12 + month(s.cohort)) AS period_index
  FROM spine s LEFT JOIN cells c USING (cohort, period))
SELECT cohort, period_index, cohort_customers, customers, customers::DOUBLE / cohort_customers AS retention, revenue,
       revenue::DOUBLE / nullif(first_value(revenue) OVER w, 0) AS revenue_retention,
       sum(revenue) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)::DOUBLE / cohort_customers
         AS cumulative_revenue_per_customer
FROM t WINDOW w AS (PARTITION BY cohort ORDER BY period_index) ORDER BY cohort, period_index
"""

BASKET_SQL = f"""
WITH b AS (SELECT DISTINCT order_id, product_id FROM order_lines WHERE product_id IS NOT NULL),
total AS (SELECT count(DISTINCT order_id) AS n FROM b),
single AS (SELECT product_id, count(*) AS k FROM b GROUP BY 1 HAVING count(*) >= {MIN_SUPPORT} * (SELECT n FROM total)),
f AS (SELECT b.* FROM b SEMI JOIN single USING (product_id)),
pairs AS (
  SELECT x.product_id AS a, y.product_id AS c, count(*) AS orders
  FROM f x JOIN f y ON x.order_id = y.order_id AND x.product_id < y.product_id
  GROUP BY 1, 2 HAVING count(*) >= {MIN_SUPPORT} * (SELECT n FROM total)),
both_ways AS (SELECT a, c, orders FROM pairs UNION ALL SELECT c, a, orders FROM pairs)
SELECT w.a AS antecedent, w.c AS consequent, w.orders, w.orders::DOUBLE / t.n AS support,
       w.orders::DOUBLE / sa.k AS confidence, (w.orders * t.n)::DOUBLE / (sa.k * sc.k) AS lift
FROM both_ways w JOIN single sa ON sa.product_id = w.a JOIN single sc ON sc.product_id = w.c, total t
ORDER BY lift DESC, orders DESC, antecedent, consequent LIMIT 50
"""

PRODUCTS_SQL = """
WITH lines AS (
  SELECT l.product_id, l.quantity, l.order_id, o.customer_key,
         CASE WHEN o.gross = o.net THEN l.amount
              ELSE CAST((CAST(round(o.net * 100) AS BIGINT) * CAST(round(l.amount * 100) AS BIGINT) * 2
                         + CAST(round(o.gross * 100) AS BIGINT)) // nullif(CAST(round(o.gross * 100) AS BIGINT) * 2, 0)
                        AS DECIMAL(38, 2)) * 0.01 END AS sales
  FROM order_lines l JOIN orders o USING (order_id)),
sold AS (SELECT product_id, sum(quantity) AS units, count(DISTINCT order_id) AS orders,
                count(DISTINCT customer_key) AS customers, sum(sales) AS sales FROM lines GROUP BY 1),
totals AS (SELECT order_id, sum(amount) AS order_amount FROM order_lines GROUP BY 1),
refund_parts AS (
  SELECT product_id, amount FROM refunds WHERE product_id IS NOT NULL
  UNION ALL
  SELECT l.product_id, CAST((CAST(round(r.amount * 100) AS BIGINT) * CAST(round(l.amount * 100) AS BIGINT) * 2
                       + CAST(round(t.order_amount * 100) AS BIGINT))
                      // nullif(CAST(round(t.order_amount * 100) AS BIGINT) * 2, 0) AS DECIMAL(38, 2)) * 0.01
  FROM refunds r JOIN order_lines l USING (order_id) JOIN totals t USING (order_id) WHERE r.product_id IS NULL),
given AS (SELECT product_id, sum(amount) AS refunds FROM refund_parts GROUP BY 1),
perf AS (
  SELECT coalesce(s.product_id, g.product_id) AS product_id, coalesce(s.units, 0) AS units,
         coalesce(s.orders, 0) AS orders, coalesce(s.customers, 0) AS customers, coalesce(s.sales, 0) AS sales,
         coalesce(g.refunds, 0) AS refunds, coalesce(s.sales, 0) - coalesce(g.refunds, 0) AS revenue
  FROM sold s FULL JOIN given g USING (product_id))
SELECT perf.product_id, p.name, coalesce(p.category, '(none)') AS category, coalesce(p.supplier, '(none)') AS supplier,
       units, orders, customers, sales, refunds, revenue, refunds::DOUBLE / nullif(sales, 0) AS return_rate,
       row_number() OVER w AS rank,
       sum(revenue) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)::DOUBLE / sum(revenue) OVER () AS share,
       CASE WHEN (sum(revenue) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - revenue)::DOUBLE
                 / sum(revenue) OVER () < 0.8 THEN 'A'
            WHEN (sum(revenue) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - revenue)::DOUBLE
                 / sum(revenue) OVER () < 0.95 THEN 'B' ELSE 'C' END AS abc_class
FROM perf LEFT JOIN products p USING (product_id)
WHERE perf.product_id IS NOT NULL WINDOW w AS (ORDER BY revenue DESC, perf.product_id) ORDER BY rank
"""

LIFECYCLE_SQL = f"""
WITH o AS (
  SELECT customer_key, CAST({LOCAL} AS DATE) AS day, net,
         row_number() OVER (PARTITION BY customer_key ORDER BY ordered_at DESC, order_id DESC) AS recent
  FROM orders WHERE customer_key IS NOT NULL),
ref AS (SELECT max(CAST({LOCAL} AS DATE)) AS d FROM orders),
per AS (SELECT customer_key, min(day) AS first_day, max(day) AS last_day, max(day) FILTER (WHERE recent = 2) AS prev,
               sum(net) AS net FROM o GROUP BY 1),
given AS (SELECT customer_key, sum(amount) AS refunded FROM refunds WHERE customer_key IS NOT NULL GROUP BY 1),
s AS (
  SELECT CASE WHEN date_diff('day', first_day, ref.d) <= 90 THEN 'new'
              WHEN date_diff('day', last_day, ref.d) <= 90 AND date_diff('day', prev, last_day) > 180 THEN 'reactivated'
              WHEN date_diff('day', last_day, ref.d) <= 90 THEN 'active'
              WHEN date_diff('day', last_day, ref.d) <= 180 THEN 'at risk' ELSE 'lapsed' END AS state,
         net - coalesce(refunded, 0) AS revenue
  FROM per LEFT JOIN given USING (customer_key), ref)
SELECT state, count(*) AS customers, sum(revenue) AS revenue FROM s GROUP BY 1 ORDER BY 1
"""

GAPS_SQL = f"""
WITH o AS (
  SELECT customer_key, CAST({LOCAL} AS DATE) AS day,
         row_number() OVER (PARTITION BY customer_key ORDER BY ordered_at, order_id) AS n
  FROM orders WHERE customer_key IS NOT NULL),
g AS (SELECT customer_key, n, date_diff('day', lag(day) OVER (PARTITION BY customer_key ORDER BY n), day) AS gap
      FROM o)
SELECT count(*) AS repeat_orders, count(DISTINCT customer_key) AS customers, avg(gap::DOUBLE) AS mean_days,
       quantile_cont(gap::DOUBLE, 0.5) AS median_days, quantile_cont(gap::DOUBLE, 0.25) AS p25_days,
       quantile_cont(gap::DOUBLE, 0.75) AS p75_days, quantile_cont(gap::DOUBLE, 0.9) AS p90_days
FROM g WHERE n > 1
"""


def build_store(lines: int) -> Path:
    folder = DATA / f"metrics-{lines}"
    warehouse = folder / "warehouse.duckdb"
    if warehouse.exists():
        return warehouse
    started = time.perf_counter()
    files = generate_demo_store(folder / "export", max_order_lines=lines, with_events=False, seed=1)
    print(f"generated {files.order_lines:,} lines in {time.perf_counter() - started:.1f} s", flush=True)
    mapping = yaml.safe_load(files.mapping_path.read_text())
    started = time.perf_counter()
    with Warehouse(warehouse) as store:
        import_files(
            store,
            [files.orders_path],
            profile_name="generic",
            secret=b"b" * 40,
            quarantine_dir=folder / "q",
            mapping=mapping,
        )
    print(f"imported in {time.perf_counter() - started:.1f} s", flush=True)
    return warehouse


def same_answer(ours: Any, base: Any) -> bool:
    """Same rows in the same order, equal on every column both have (money exactly, floats to 1e-9)."""
    shared = [name for name in base.column_names if name in ours.column_names]
    if ours.num_rows != base.num_rows or not shared:
        return False
    for name in shared:
        for mine, theirs in zip(ours.column(name).to_pylist(), base.column(name).to_pylist(), strict=True):
            if isinstance(mine, float) or isinstance(theirs, float):
                if mine is None or theirs is None:
                    if mine is not theirs:
                        return False
                elif not math.isclose(float(mine), float(theirs), rel_tol=1e-9, abs_tol=1e-9):
                    return False
            elif mine != theirs:
                return False
    return True


def best_of(repeat: int, run: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=10_000_000, help="order lines in the generated store")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    warehouse = build_store(args.lines)
    con = duckdb.connect(str(warehouse), read_only=True)
    backend = ibis.duckdb.from_connection(con.cursor())
    table = backend.table
    orders, lines, refunds = table("orders"), table("order_lines"), table("refunds")
    counts = con.sql("SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM order_lines)").fetchall()[0]
    assert counts is not None
    print(f"store: {counts[0]:,} orders, {counts[1]:,} order lines", flush=True)
    years = con.sql("SELECT year(min(ordered_at)), year(max(ordered_at)) FROM orders").fetchall()[0]
    assert years is not None
    zone = StoreZone(ZONE, years[0] - 1, years[1] + 1)  # what the runner passes for this store

    metrics: list[tuple[str, Callable[[], Any], str]] = [
        (
            "kpis (month)",
            lambda: sales_kpis(orders, lines, refunds, table("customers"), grain="month", zone=zone),
            KPIS_SQL,
        ),
        ("rfm segments", lambda: rfm_segments(rfm_scores(orders, refunds, zone=zone)).order_by("segment"), RFM_SQL),
        ("cohorts (month)", lambda: cohorts(orders, refunds, grain="month", zone=zone), COHORTS_SQL),
        ("basket rules", lambda: association_rules(lines, min_support=MIN_SUPPORT, limit=50), BASKET_SQL),
        (
            "products (ABC)",
            lambda: abc_classes(product_performance(lines, orders, refunds, table("products"))),
            PRODUCTS_SQL,
        ),
        (
            "lifecycle",
            lambda: lifecycle_summary(lifecycle(orders, refunds, zone=zone)).order_by("state"),
            LIFECYCLE_SQL,
        ),
        ("inter-purchase gaps", lambda: gap_summary(purchase_gaps(orders, zone=zone)), GAPS_SQL),
    ]
    rows = ["| metric | hand-written SQL | shoplens (Ibis) | ratio | same answer |", "|---|---:|---:|---:|:---:|"]
    for name, expression, sql in metrics:
        ours, ours_result = best_of(args.repeat, lambda e=expression: backend.to_pyarrow(e()))
        base, base_result = best_of(args.repeat, lambda s=sql: con.sql(s).to_arrow_table())
        same = same_answer(ours_result, base_result)
        rows.append(f"| {name} | {base:.3f} s | {ours:.3f} s | {ours / base:.2f}x | {'yes' if same else 'NO'} |")
        print(rows[-1], flush=True)
    print(f"\n{counts[1]:,} order lines, best of {args.repeat}\n")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
