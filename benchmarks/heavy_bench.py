"""The heavy analyses — funnel, behaviour, stage, CLV predictions — against a baseline computing the same answer.

    python benchmarks/heavy_bench.py [--lines 1000000] [--repeat 3] [--cold] [--only funnel,stage]

A demo store of ``--lines`` order lines, web events included (``shoplens demo --lines N``: about 17 events per
order line), is built once into ``benchmarks/data/heavy-<lines>/`` (store time zone Asia/Hong_Kong, UTC+8 all
year). Every analysis is asked as the command line, the API and the dashboard ask it: a query through
``QueryRunner`` over the store's warehouse, opened read-only, with the memory and disk result caches off. The
baseline opens the same warehouse read-only with DuckDB and computes the same answer by hand:

* funnel, behaviour, stage: hand-written DuckDB SQL with the definitions of ``shoplens.metrics`` (purchases only,
  store-local days); for the stage, the two small steps over the 24 monthly cohort rows (retention stability and
  the new-customer trend) and the verdict are shoplens' own pure functions applied to the SQL's rows;
* CLV predictions (``clv predict``, BG/NBD + Gamma-Gamma): the customer summary in SQL and the predictions
  (expected purchases, P(alive), expected spend, discounted CLV) written out in numpy/scipy from the same fitted
  parameters. The fits are made once before timing and reused by both sides (``models_bench.py`` times fits).

Both answers are compared (same rows in the same order, equal on every column both give: money exactly, floats to
6 decimals as the runner rounds them). Without ``--cold`` the best of ``--repeat`` runs in this process is
reported; with ``--cold`` every run is a fresh Python process (empty DuckDB buffers, no result cache, nothing
imported before the timer other than the libraries), the two sides take turns ``--repeat`` times, and each side's
median is reported with its peak memory. The operating system's file cache is warm in both modes (after a large
build it may not be: the first baseline run then pays the disk). Ratio = shoplens / baseline (target ≤ 1.3).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "benchmarks" / "data"
ZONE = "Asia/Hong_Kong"
FLOAT_DIGITS = 6  # what the runner rounds floats to (shoplens.queries._context.FLOAT_DIGITS)
WINDOW_DAYS = 90  # BehaviourQuery defaults
MIN_CUSTOMERS = 20
TOP = 10

Parts = dict[str, list[dict[str, Any]]]

# --- the purchases, as shoplens.metrics._facts defines them -----------------------------------------------------
NOT_PURCHASED = "('cancelled', 'canceled', 'voided', 'expired', 'failed', 'trash', 'checkout-draft', 'test')"
PURCHASES = f"""
not_bought AS (SELECT order_id FROM orders WHERE lower(trim(status)) IN {NOT_PURCHASED}),
po AS (SELECT *, CAST(ordered_at + INTERVAL 8 HOUR AS DATE) AS day, ordered_at + INTERVAL 8 HOUR AS local_at
       FROM orders WHERE coalesce(lower(trim(status)) NOT IN {NOT_PURCHASED}, true)),
pl AS (SELECT * FROM order_lines ANTI JOIN not_bought USING (order_id)),
pr AS (SELECT * FROM refunds ANTI JOIN not_bought USING (order_id))"""
NUMBERED = """
numbered AS (
  SELECT *, row_number() OVER (PARTITION BY customer_key ORDER BY ordered_at, order_id) - 1 AS n
  FROM po WHERE customer_key IS NOT NULL)"""

FUNNEL_SQL = """
WITH s AS (
  SELECT session_id, max(customer_key) AS customer_key,
         min("at") FILTER (WHERE type = 'view') AS v, min("at") FILTER (WHERE type = 'cart') AS c,
         min("at") FILTER (WHERE type = 'checkout') AS k, min("at") FILTER (WHERE type = 'order') AS o
  FROM events WHERE type IN ('view', 'cart', 'checkout', 'order') GROUP BY session_id),
r1 AS (SELECT *, v IS NOT NULL AS rv FROM s),
r2 AS (SELECT *, rv AND c IS NOT NULL AND c >= v AS rc FROM r1),
r3 AS (SELECT *, rc AND k IS NOT NULL AND k >= c AS rk FROM r2),
r AS (SELECT *, rk AND o IS NOT NULL AND o >= k AS ro FROM r3),
a AS (
  SELECT count(*) FILTER (WHERE rv) AS s0, count(*) FILTER (WHERE rc) AS s1,
         count(*) FILTER (WHERE rk) AS s2, count(*) FILTER (WHERE ro) AS s3,
         count(DISTINCT customer_key) FILTER (WHERE rv) + count(*) FILTER (WHERE rv AND customer_key IS NULL) AS p0,
         count(DISTINCT customer_key) FILTER (WHERE rc) + count(*) FILTER (WHERE rc AND customer_key IS NULL) AS p1,
         count(DISTINCT customer_key) FILTER (WHERE rk) + count(*) FILTER (WHERE rk AND customer_key IS NULL) AS p2,
         count(DISTINCT customer_key) FILTER (WHERE ro) + count(*) FILTER (WHERE ro AND customer_key IS NULL) AS p3,
         median((epoch(c) - epoch(v)) / 60.0) FILTER (WHERE rc) AS m1,
         median((epoch(k) - epoch(c)) / 60.0) FILTER (WHERE rk) AS m2,
         median((epoch(o) - epoch(k)) / 60.0) FILTER (WHERE ro) AS m3
  FROM r),
steps AS (
  SELECT 'view' AS step, 0 AS step_index, s0 AS sessions, p0 AS people, NULL::DOUBLE AS median_minutes FROM a
  UNION ALL SELECT 'cart', 1, s1, p1, m1 FROM a
  UNION ALL SELECT 'checkout', 2, s2, p2, m2 FROM a
  UNION ALL SELECT 'order', 3, s3, p3, m3 FROM a)
SELECT step, step_index, sessions, people,
       sessions::DOUBLE / nullif(lag(sessions) OVER w, 0) AS conversion,
       sessions::DOUBLE / nullif(first_value(sessions) OVER w, 0) AS conversion_from_start,
       1.0 - sessions::DOUBLE / nullif(lag(sessions) OVER w, 0) AS drop_off, median_minutes
FROM steps WHERE (SELECT s0 FROM a) > 0 WINDOW w AS (ORDER BY step_index) ORDER BY step_index
"""


def _buckets(column: str, buckets: list[tuple[str, int, int | None]]) -> tuple[str, str]:
    """(CASE giving the bucket's label, CASE giving its position) for ``column``."""
    label = " ".join(
        f"WHEN {column} BETWEEN {low} AND {high} THEN '{name}'"
        if high is not None
        else f"WHEN {column} >= {low} THEN '{name}'"
        for name, low, high in buckets
    )
    position = " ".join(f"WHEN bucket = '{name}' THEN {i}" for i, (name, _, _) in enumerate(buckets))
    return f"CASE {label} END", f"CASE {position} END"


GAP_LABEL, GAP_POSITION = _buckets(
    "gap_days",
    [
        ("same day", 0, 0),
        ("1-7 days", 1, 7),
        ("8-30 days", 8, 30),
        ("31-60 days", 31, 60),
        ("61-90 days", 61, 90),
        ("91-180 days", 91, 180),
        ("181-365 days", 181, 365),
        ("over a year", 366, None),
    ],
)
BASKET_LABEL, BASKET_POSITION = _buckets(
    "products",
    [("1", 1, 1), ("2", 2, 2), ("3", 3, 3), ("4-5", 4, 5), ("6-10", 6, 10), ("11-20", 11, 20), ("over 20", 21, None)],
)
GAPS = """
gaps AS (SELECT customer_key, n,
                date_diff('day', lag(day) OVER (PARTITION BY customer_key ORDER BY n), day) AS gap_days
         FROM numbered),
repeat_gaps AS (SELECT * FROM gaps WHERE n >= 1)"""
FIRST_ORDERS = f"""
last AS (SELECT max(day) AS d FROM po),
second AS (SELECT customer_key, day AS second_day FROM numbered WHERE n = 1),
counts AS (SELECT customer_key, count(*) AS orders FROM numbered GROUP BY 1),
first AS (
  SELECT f.customer_key, f.order_id, f.channel, f.device,
         coalesce(f.discount, 0) > 0 OR f.discount_code IS NOT NULL AS discounted, c.orders,
         CASE WHEN date_diff('day', f.day, last.d) >= {WINDOW_DAYS} THEN
           s.second_day IS NOT NULL AND date_diff('day', f.day, s.second_day) <= {WINDOW_DAYS} END AS repeated
  FROM numbered f LEFT JOIN second s USING (customer_key) LEFT JOIN counts c USING (customer_key), last
  WHERE f.n = 0)"""
BEHAVIOUR_PREFIX = f"WITH {PURCHASES}, {NUMBERED}"


def _acquisition(by: str) -> str:
    return f"""{BEHAVIOUR_PREFIX}, {FIRST_ORDERS},
per_customer AS (SELECT customer_key, count(*) AS orders, sum(net) AS net_sales FROM numbered GROUP BY 1),
returned AS (SELECT customer_key, sum(amount) AS refunded FROM pr WHERE customer_key IS NOT NULL GROUP BY 1),
j AS (SELECT f.{by} AS grp, f.repeated, p.orders, p.net_sales, r.refunded
      FROM first f JOIN per_customer p USING (customer_key) LEFT JOIN returned r USING (customer_key)),
g AS (SELECT grp, count(*) AS customers, count(*) FILTER (WHERE coalesce(repeated, false)) AS repeaters,
             count(repeated) AS eligible, sum(orders) AS orders,
             CAST(sum(net_sales) - coalesce(sum(refunded), 0) AS DECIMAL(38, 2)) AS revenue
      FROM j GROUP BY grp)
SELECT grp AS {by}, customers, repeaters::DOUBLE / nullif(eligible, 0) AS repeat_rate,
       orders::DOUBLE / nullif(customers, 0) AS orders_per_customer,
       revenue::DOUBLE / nullif(customers, 0) AS revenue_per_customer
FROM g ORDER BY customers DESC, grp ASC NULLS FIRST"""


def _first_products(order: str) -> str:
    return f"""{BEHAVIOUR_PREFIX}, {FIRST_ORDERS},
eligible AS (SELECT * FROM first WHERE repeated IS NOT NULL),
base AS (SELECT count(*) FILTER (WHERE repeated)::DOUBLE / nullif(count(*), 0) AS rate FROM eligible),
lines AS (SELECT DISTINCT order_id, product_id FROM pl),
per AS (SELECT l.product_id, count(DISTINCT e.customer_key) AS customers,
               count(DISTINCT e.customer_key) FILTER (WHERE e.repeated) AS repeaters
        FROM eligible e JOIN lines l USING (order_id) GROUP BY 1
        HAVING count(DISTINCT e.customer_key) >= {MIN_CUSTOMERS})
SELECT product_id, customers, repeaters::DOUBLE / nullif(customers, 0) AS repeat_rate,
       (repeaters::DOUBLE / nullif(customers, 0)) / nullif(base.rate, 0) AS lift
FROM per, base ORDER BY {order} LIMIT {TOP}"""


BEHAVIOUR_SQL: dict[str, str] = {
    "inter_purchase": f"""{BEHAVIOUR_PREFIX}, {GAPS}
SELECT count(*) AS repeat_orders, count(DISTINCT customer_key) AS customers, avg(gap_days::DOUBLE) AS mean_days,
       quantile_cont(gap_days::DOUBLE, 0.5) AS median_days, quantile_cont(gap_days::DOUBLE, 0.25) AS p25_days,
       quantile_cont(gap_days::DOUBLE, 0.75) AS p75_days, quantile_cont(gap_days::DOUBLE, 0.9) AS p90_days
FROM repeat_gaps""",
    "inter_purchase_distribution": f"""{BEHAVIOUR_PREFIX}, {GAPS},
b AS (SELECT {GAP_LABEL} AS bucket, count(*) AS repeat_orders FROM repeat_gaps GROUP BY 1)
SELECT bucket, repeat_orders, repeat_orders::DOUBLE / nullif(sum(repeat_orders) OVER (), 0) AS share
FROM b ORDER BY {GAP_POSITION}""",
    "weekday_hour": f"""WITH {PURCHASES},
w AS (SELECT isodow(local_at) - 1 AS weekday, hour(local_at) AS hour, count(*) AS orders,
             CAST(sum(net) AS DECIMAL(38, 2)) AS net_sales FROM po GROUP BY 1, 2)
SELECT weekday, hour, orders, net_sales, orders::DOUBLE / nullif(sum(orders) OVER (), 0) AS share
FROM w ORDER BY weekday, hour""",
    "basket_sizes": f"""WITH {PURCHASES},
sized AS (SELECT o.net, u.products FROM po o
          JOIN (SELECT order_id, count(DISTINCT product_id) AS products FROM pl GROUP BY 1) u USING (order_id)),
b AS (SELECT {BASKET_LABEL} AS bucket, count(*) AS orders, CAST(sum(net) AS DECIMAL(38, 2)) AS net_sales
      FROM sized GROUP BY 1)
SELECT bucket AS products, orders, orders::DOUBLE / nullif(sum(orders) OVER (), 0) AS share,
       net_sales::DOUBLE / nullif(orders, 0) AS aov
FROM b ORDER BY {BASKET_POSITION}""",
    "discounts": f"""{BEHAVIOUR_PREFIX}, {FIRST_ORDERS},
o AS (SELECT count(*) AS orders,
             count(*) FILTER (WHERE coalesce(discount, 0) > 0 OR discount_code IS NOT NULL) AS discounted_orders
      FROM po),
c AS (SELECT count(*) FILTER (WHERE discounted) AS discount_acquired,
             count(*) FILTER (WHERE discounted AND coalesce(repeated, false)) AS dr,
             count(*) FILTER (WHERE discounted AND repeated IS NOT NULL) AS de,
             count(*) FILTER (WHERE NOT discounted) AS full_price_acquired,
             count(*) FILTER (WHERE NOT discounted AND coalesce(repeated, false)) AS fr,
             count(*) FILTER (WHERE NOT discounted AND repeated IS NOT NULL) AS fe
      FROM first)
SELECT orders, discounted_orders, discounted_orders::DOUBLE / nullif(orders, 0) AS discounted_share,
       discount_acquired, dr::DOUBLE / nullif(de, 0) AS discount_acquired_repeat_rate,
       full_price_acquired, fr::DOUBLE / nullif(fe, 0) AS full_price_repeat_rate
FROM o, c""",
    "channels": _acquisition("channel"),
    "devices": _acquisition("device"),
    "first_products_most_repeat": _first_products("repeat_rate DESC, customers DESC, product_id"),
    "first_products_least_repeat": _first_products("repeat_rate, customers DESC, product_id"),
}

STAGE_EVIDENCE_SQL = f"""WITH {PURCHASES},
numbered AS (SELECT *, CASE WHEN customer_key IS NOT NULL THEN
                 row_number() OVER (PARTITION BY customer_key ORDER BY ordered_at, order_id) - 1 END AS n FROM po),
last AS (SELECT max(day) AS d FROM po),
aged AS (SELECT n, customer_key, net, day, date_diff('day', day, last.d) AS age FROM numbered, last),
sales AS (
  SELECT min(day) AS first_day, max(day) AS last_day, count(*) AS orders, count(DISTINCT customer_key) AS customers,
         count(*) FILTER (WHERE n = 0 AND age < 182) AS new_recent,
         count(*) FILTER (WHERE n = 0 AND age >= 182 AND age < 364) AS new_before,
         coalesce(sum(net) FILTER (WHERE age < 182), 0) AS net_recent,
         coalesce(sum(net) FILTER (WHERE age >= 182 AND age < 364), 0) AS net_before,
         coalesce(sum(net) FILTER (WHERE age < 365), 0) AS net_last_year,
         coalesce(sum(net) FILTER (WHERE age < 365 AND n >= 1), 0) AS repeat_net_last_year
  FROM aged),
given AS (
  SELECT coalesce(sum(amount) FILTER (WHERE a >= 0 AND a < 182), 0) AS refunds_recent,
         coalesce(sum(amount) FILTER (WHERE a >= 182 AND a < 364), 0) AS refunds_before
  FROM (SELECT amount, date_diff('day', CAST(refunded_at + INTERVAL 8 HOUR AS DATE), last.d) AS a
        FROM pr, last WHERE refunded_at IS NOT NULL)),
b AS (SELECT *, date_diff('day', first_day, last_day) AS trading_days, net_recent - refunds_recent AS rr,
             net_before - refunds_before AS rb FROM sales, given)
SELECT first_day, last_day, trading_days, customers, orders, new_recent AS new_customers_last_half_year,
       new_before AS new_customers_previous_half_year,
       CASE WHEN trading_days >= 363 THEN new_recent::DOUBLE / nullif(new_before, 0) - 1.0 END AS new_customer_growth,
       CAST(rr AS DECIMAL(38, 2)) AS revenue_last_half_year, CAST(rb AS DECIMAL(38, 2)) AS revenue_previous_half_year,
       CASE WHEN trading_days >= 363 THEN rr::DOUBLE / nullif(rb::DOUBLE, 0) - 1.0 END AS revenue_growth,
       repeat_net_last_year::DOUBLE / nullif(net_last_year::DOUBLE, 0) AS repeat_revenue_share
FROM b"""

STAGE_COHORTS_SQL = f"""WITH {PURCHASES}, {NUMBERED},
o AS (SELECT customer_key, net, n, CAST(date_trunc('month', local_at) AS DATE) AS period FROM numbered),
first AS (SELECT customer_key, period AS cohort FROM o WHERE n = 0),
activity AS (
  SELECT customer_key, period, sum(net) AS revenue, 1 AS active FROM o GROUP BY 1, 2
  UNION ALL
  SELECT customer_key, CAST(date_trunc('month', refunded_at + INTERVAL 8 HOUR) AS DATE), -sum(amount), 0
  FROM pr WHERE customer_key IS NOT NULL AND refunded_at IS NOT NULL GROUP BY 1, 2),
per AS (
  SELECT a.customer_key, a.period, f.cohort, sum(a.revenue) AS revenue, max(a.active) AS active
  FROM activity a JOIN first f USING (customer_key) GROUP BY 1, 2, 3 HAVING a.period >= f.cohort),
cells AS (SELECT cohort, period, sum(active) AS customers FROM per GROUP BY 1, 2),
sizes AS (SELECT cohort, count(*) AS cohort_customers FROM first GROUP BY 1),
spine AS (SELECT s.cohort, p.period, s.cohort_customers FROM sizes s, (SELECT DISTINCT period FROM o) p
          WHERE p.period >= s.cohort)
SELECT s.cohort, (year(s.period) * 12 + month(s.period)) - (year(s.cohort) * 12 + month(s.cohort)) AS period_index,
       s.cohort_customers, coalesce(c.customers, 0)::DOUBLE / s.cohort_customers AS retention
FROM spine s LEFT JOIN cells c USING (cohort, period) ORDER BY 1, 2"""

WINDOW_EVIDENCE_SQL = f"""WITH {PURCHASES},
start AS (SELECT min(day) AS d, date_diff('day', min(day), max(day)) AS window_days FROM po),
known AS (SELECT customer_key, day, net, date_diff('day', start.d, day) AS i FROM po, start
          WHERE customer_key IS NOT NULL),
per AS (
  SELECT customer_key, fi, count(DISTINCT day) FILTER (WHERE i < 28) AS opening_days,
         sum(net) FILTER (WHERE i < 28) AS opening_net, count(*) FILTER (WHERE i - fi BETWEEN 1 AND 28) AS returns
  FROM (SELECT *, min(i) OVER (PARTITION BY customer_key) AS fi FROM known) GROUP BY customer_key, fi),
g AS (
  SELECT count(*) FILTER (WHERE fi < 28) AS opening_customers,
         count(*) FILTER (WHERE fi >= 28 AND fi < 84) AS following_customers,
         count(*) FILTER (WHERE fi >= 56 AND fi < 84) AS later_customers,
         sum(opening_net) FILTER (WHERE fi < 28) AS opening_net,
         coalesce(sum(opening_net) FILTER (WHERE fi < 28 AND opening_days >= 2), 0) AS opening_repeat_net,
         count(*) FILTER (WHERE fi < 28 AND returns > 0) AS opening_returned,
         count(*) FILTER (WHERE fi >= 56 AND fi < 84 AND returns > 0) AS later_returned
  FROM per),
r AS (SELECT *, opening_returned::DOUBLE / nullif(opening_customers, 0) AS orate,
             later_returned::DOUBLE / nullif(later_customers, 0) AS lrate, window_days >= 112 AS long_enough
      FROM g, start)
SELECT opening_customers, later_customers,
       CASE WHEN long_enough THEN opening_repeat_net::DOUBLE / nullif(opening_net::DOUBLE, 0) END
         AS opening_repeat_revenue_share,
       CASE WHEN long_enough THEN orate END AS opening_return_rate,
       CASE WHEN long_enough THEN lrate END AS later_return_rate,
       CASE WHEN long_enough THEN orate / nullif(lrate, 0) END AS opening_return_ratio,
       CASE WHEN long_enough THEN opening_customers::DOUBLE / nullif(following_customers, 0) * 2 END
         AS opening_new_customer_ratio
FROM r"""


# --- running both sides -----------------------------------------------------------------------------------------


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, FLOAT_DIGITS)
    return value


def _sql_rows(con: Any, sql: str) -> list[dict[str, Any]]:
    found = con.sql(sql)
    names = found.columns
    return [{name: _clean(value) for name, value in zip(names, row, strict=True)} for row in found.fetchall()]


def _runner(home: Path) -> Any:
    from shoplens.config import Settings
    from shoplens.queries import QueryRunner
    from shoplens.queries._store import StoreSource

    settings = Settings(home=home)
    # no memory store, no disk cache: every run computes
    return QueryRunner(StoreSource(settings), store_timezone=settings.timezone, models_dir=home / "models")


def _connect(home: Path) -> Any:
    import duckdb

    return duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)


def ours_funnel(home: Path) -> Parts:
    from shoplens.queries import FunnelQuery, FunnelResult

    return {"steps": _runner(home).run(FunnelQuery(), FunnelResult).steps}


def base_funnel(home: Path) -> Parts:
    with contextlib.closing(_connect(home)) as con:
        return {"steps": _sql_rows(con, FUNNEL_SQL)}


def ours_behaviour(home: Path) -> Parts:
    from shoplens.queries import BehaviourQuery, BehaviourResult

    found = _runner(home).run(BehaviourQuery(), BehaviourResult)
    return {name: value if isinstance(value, list) else [value] for name, value in found if name in BEHAVIOUR_SQL}


def base_behaviour(home: Path) -> Parts:
    with contextlib.closing(_connect(home)) as con:
        return {name: _sql_rows(con, sql) for name, sql in BEHAVIOUR_SQL.items()}


def ours_stage(home: Path) -> Parts:
    from shoplens.queries import StageQuery, StageResult

    found = _runner(home).run(StageQuery(), StageResult)
    return {"verdict": [{"stage": found.stage, "window": found.window}], "evidence": [found.evidence]}


def base_stage(home: Path) -> Parts:
    from shoplens.metrics import (
        classify_window,
        decide_stage,
        new_customer_trend,
        retention_stability,
        round_evidence,
    )

    with contextlib.closing(_connect(home)) as con:
        evidence = _sql_rows(con, STAGE_EVIDENCE_SQL)[0]
        cohort_rows = _sql_rows(con, STAGE_COHORTS_SQL)
        window = _sql_rows(con, WINDOW_EVIDENCE_SQL)[0]
    evidence |= retention_stability(cohort_rows) | new_customer_trend(cohort_rows) | window
    kind, _ = classify_window(evidence)
    verdict = decide_stage({**evidence, "window": kind})
    rounded = {name: round_evidence(value) for name, value in evidence.items()}
    return {"verdict": [{"stage": verdict.stage, "window": kind}], "evidence": [rounded]}


CLV_LIMIT = 100  # the rows shown (the dashboard's and a typical command line's)
CLV_SUMMARY_SQL = f"""WITH {PURCHASES},
days AS (SELECT customer_key, day, sum(net) AS amount FROM po WHERE customer_key IS NOT NULL GROUP BY 1, 2),
flagged AS (SELECT *, day = min(day) OVER (PARTITION BY customer_key) AS is_first FROM days),
per AS (SELECT customer_key, min(day) AS first, max(day) AS last, count(*) AS n,
               sum(amount) FILTER (WHERE NOT is_first) AS repeat_amount FROM flagged GROUP BY 1)
SELECT customer_key, (n - 1)::DOUBLE AS frequency, date_diff('day', first, last)::DOUBLE AS recency,
       date_diff('day', first, (SELECT max(day) FROM days))::DOUBLE AS "T",
       CASE WHEN n > 1 THEN coalesce(repeat_amount::DOUBLE, 0.0) / (n - 1) ELSE 0.0 END AS monetary_value,
       (SELECT max(day) FROM days) AS as_of
FROM per ORDER BY customer_key"""


def ours_clv(home: Path) -> Parts:
    from shoplens.queries import ClvPredictQuery, ClvPredictResult

    # The flat margin asked for, as the baseline uses it: unasked, CLV takes the store's contribution margin rate
    # when every product's cost is known (as in the demo store), which the baseline does not compute.
    found = _runner(home).run(ClvPredictQuery(limit=CLV_LIMIT, margin=0.3), ClvPredictResult)
    assert found.models["transaction"]["reused_saved_fit"], "the fits are made before timing"
    return _clv_parts(found.model_dump(mode="json"))


def _clv_parts(document: dict[str, Any]) -> Parts:
    clean = {"as_of": document["as_of"], "n_customers": document["n_customers"], **document["totals"]}
    return {
        "totals": [{k: _clean(v) for k, v in clean.items()}],
        "by_churn_risk": [{k: _clean(v) for k, v in row.items()} for row in document["by_churn_risk"]],
        "by_value_tier": [{k: _clean(v) for k, v in row.items()} for row in document["by_value_tier"]],
        "rows": [{k: _clean(v) for k, v in row.items()} for row in document["rows"]],
    }


def base_clv(home: Path) -> Parts:
    """BG/NBD (Fader, Hardie & Lee 2005, eq. 10 and P(alive)) and Gamma-Gamma written out from the saved parameters."""
    import numpy as np
    import pandas as pd
    from scipy import special

    transaction = json.loads((home / "models" / "bgnbd.json").read_text())
    spend = json.loads((home / "models" / "gamma-gamma.json").read_text())
    r, alpha, a, b = (transaction["params"][k] for k in ("r", "alpha", "a", "b"))
    p, q, gamma = (spend["params"][k] for k in ("p", "q", "gamma"))
    bands = transaction["churn_bands"]
    with contextlib.closing(_connect(home)) as con:
        summary = con.sql(CLV_SUMMARY_SQL).df()
    x, t_x, age, m_x = (summary[c].to_numpy() for c in ("frequency", "recency", "T", "monetary_value"))

    def p_alive() -> Any:
        odds = np.where(x > 0, a / (b + np.maximum(x, 1.0) - 1.0) * ((alpha + age) / (alpha + t_x)) ** (r + x), 0.0)
        return 1.0 / (1.0 + odds)

    def expected(t: float) -> Any:  # E[Y(t) | x, t_x, T], with Euler's transformation of the 2F1 (stays bounded)
        z = t / (alpha + age + t)
        term = ((alpha + age) / (alpha + age + t)) ** (a - 1.0) * special.hyp2f1(
            a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z
        )
        return (a + b + x - 1.0) / (a - 1.0) * (1.0 - term) * alive

    horizon_days, margin, yearly = 365, 0.3, 0.1  # ClvPredictQuery defaults, in days
    periods = max(1, round(horizon_days / (365.25 / 12)))
    per_period = (1.0 + yearly) ** (horizon_days / periods / 365.25) - 1.0
    alive = p_alive()
    silent = ((alpha + age) / (alpha + age + bands["window_days"])) ** (r + x)
    no_purchase = 1.0 - alive + alive * silent
    with np.errstate(divide="ignore", invalid="ignore"):
        spend_each = np.where(p * x + q - 1.0 > 0, (p * gamma + p * x * m_x) / (p * x + q - 1.0), np.nan)
    purchases = expected(float(horizon_days))
    discounted, so_far = np.zeros_like(x), np.zeros_like(x)
    for k in range(1, periods + 1):
        cumulative = expected(k * horizon_days / periods)
        discounted += (cumulative - so_far) / (1.0 + per_period) ** k
        so_far = cumulative
    with np.errstate(divide="ignore"):
        wait = horizon_days / purchases
    frame = pd.DataFrame(
        {
            "customer_key": summary["customer_key"],
            "frequency": x,
            "recency": t_x,
            "T": age,
            "expected_purchases": purchases,
            "p_alive": alive,
            "p_no_purchase": no_purchase,
            "churn_risk": np.where(
                no_purchase >= bands["high_from"],
                "high",
                np.where(no_purchase >= bands["medium_from"], "medium", "low"),
            ),
            "expected_average_spend": spend_each,
            "clv": margin * spend_each * discounted,
            "wait": np.where(wait <= horizon_days, wait, np.nan),
        }
    )
    ranked = frame["clv"].rank(method="first", ascending=False).to_numpy() / len(frame)
    frame["value_tier"] = np.where(ranked <= 0.2 + 1e-12, "high", np.where(ranked <= 0.5 + 1e-12, "medium", "low"))
    as_of = pd.Timestamp(summary["as_of"].iloc[0]).date()
    total_clv = float(frame["clv"].sum())

    def groups(column: str, names: tuple[str, ...]) -> list[dict[str, Any]]:
        found = []
        for name in names:
            group = frame[frame[column] == name]
            found.append(
                {
                    column: name,
                    "customers": len(group),
                    "expected_purchases": _clean(float(group["expected_purchases"].sum())),
                    "mean_p_alive": _clean(float(group["p_alive"].mean())) if len(group) else None,
                    "mean_p_no_purchase": _clean(float(group["p_no_purchase"].mean())) if len(group) else None,
                    "clv": _clean(float(group["clv"].sum())),
                    "clv_share": _clean(float(group["clv"].sum()) / total_clv) if total_clv > 0 else None,
                }
            )
        return found

    top = frame.sort_values(["clv", "customer_key"], ascending=[False, True]).head(CLV_LIMIT)
    rows: list[dict[str, Any]] = []
    for row in top.to_dict("records"):
        wait_days = row.pop("wait")
        next_day = as_of + timedelta(days=round(wait_days)) if np.isfinite(wait_days) else None
        rows.append(
            {str(k): _clean(v) for k, v in row.items()}
            | {"expected_next_order_date": str(next_day) if next_day is not None else None}
        )
    return {
        "totals": [
            {
                "as_of": str(as_of),
                "n_customers": len(frame),
                "expected_purchases": _clean(float(frame["expected_purchases"].sum())),
                "clv": _clean(total_clv),
            }
        ],
        "by_churn_risk": groups("churn_risk", ("low", "medium", "high")),
        "by_value_tier": groups("value_tier", ("high", "medium", "low")),
        "rows": rows,
    }


@dataclass(frozen=True)
class Analysis:
    ours: Callable[[Path], Parts]
    base: Callable[[Path], Parts]
    baseline: str


ANALYSES: dict[str, Analysis] = {
    "funnel": Analysis(ours_funnel, base_funnel, "DuckDB SQL"),
    "behaviour": Analysis(ours_behaviour, base_behaviour, "DuckDB SQL (9 queries)"),
    "stage": Analysis(ours_stage, base_stage, "DuckDB SQL (3 queries)"),
    "clv predict": Analysis(ours_clv, base_clv, "SQL summary + numpy/scipy"),
}


def same_answer(ours: Parts, base: Parts) -> list[str]:
    """What differs (empty: the same answer): every part, same rows in order, equal on every shared column."""
    problems = []
    for part, theirs in base.items():
        mine = ours.get(part)
        if mine is None or len(mine) != len(theirs):
            problems.append(f"{part}: {len(mine or [])} rows, baseline {len(theirs)}")
            continue
        for index, (a, b) in enumerate(zip(mine, theirs, strict=True)):
            for name in b.keys() & a.keys():
                if not _equal(a[name], b[name]):
                    problems.append(f"{part} row {index} {name}: {a[name]!r} != {b[name]!r}")
    return problems


def _equal(mine: Any, theirs: Any) -> bool:
    if mine is None or theirs is None:
        return mine is theirs
    if isinstance(mine, float) or isinstance(theirs, float):
        return math.isclose(float(mine), float(theirs), rel_tol=1e-9, abs_tol=1.5 * 10**-FLOAT_DIGITS)
    if isinstance(mine, Decimal) or isinstance(theirs, Decimal):
        return Decimal(str(mine)) == Decimal(str(theirs))
    if isinstance(mine, date) or isinstance(theirs, date):
        return str(mine) == str(theirs)
    return bool(mine == theirs)


def timed(run: Callable[[Path], Parts], home: Path) -> tuple[float, Parts]:
    started = time.perf_counter()
    parts = run(home)
    return time.perf_counter() - started, parts


def peak_memory() -> int:
    """This process's peak resident memory in bytes, libraries included: the high-water mark of its own memory
    (``getrusage``'s ``ru_maxrss`` would report the parent's peak, which a child started from it inherits)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def cold(name: str, side: str, home: Path) -> tuple[float, Parts, int]:
    """One run of one side in a fresh process: its time, its answer and the process's peak memory (bytes)."""
    with tempfile.NamedTemporaryFile(suffix=".pickle") as out:
        subprocess.run(
            [sys.executable, __file__, "--home", str(home), "--child", name, "--side", side, "--out", out.name],
            check=True,
            env=os.environ | {"PYTHONPATH": str(REPO / "src")},
        )
        seconds, parts, peak = pickle.loads(Path(out.name).read_bytes())
    return seconds, parts, peak


def build_store(lines: int) -> Path:
    home = DATA / f"heavy-{lines}"
    if (home / "warehouse.duckdb").exists():
        return home
    from shoplens.cli import main

    started = time.perf_counter()
    print(f"building a demo store of {lines:,} order lines in {home} …", flush=True)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            main(["--home", str(home), "demo", "--lines", str(lines), "--end-date", "2026-11-30", "--no-serve"])
    except SystemExit as done:
        if done.code:
            raise
    try:  # the demo store is a Hong Kong shop: count its days there (the SQL adds 8 hours)
        with contextlib.redirect_stdout(io.StringIO()):
            main(["--home", str(home), "config", "set", "timezone", ZONE])
    except SystemExit as done:
        if done.code:
            raise
    print(f"built in {time.perf_counter() - started:.0f} s", flush=True)
    return home


def describe(home: Path) -> str:
    with contextlib.closing(_connect(home)) as con:
        counts = con.sql(
            "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM order_lines), "
            "(SELECT count(DISTINCT customer_key) FROM orders), (SELECT count(*) FROM events)"
        ).fetchall()[0]
    return f"{counts[0]:,} orders, {counts[1]:,} order lines, {counts[2]:,} customers, {counts[3]:,} web events"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000, help="order lines in the generated store")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--cold", action="store_true", help="each run in a fresh process, the sides taking turns (median of --repeat)"
    )
    parser.add_argument("--only", help="comma-separated analyses (default: all)")
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--side", choices=("ours", "base"), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # one cold run, in this fresh process: the libraries are imported before the timer starts
        import duckdb  # noqa: F401
        import ibis
        import scipy.special  # noqa: F401

        import shoplens.queries  # noqa: F401

        assert ibis.duckdb is not None  # loads Ibis' DuckDB backend (1-3 s on this machine)
        analysis = ANALYSES[args.child]
        seconds, parts = timed(analysis.ours if args.side == "ours" else analysis.base, args.home)
        peak = peak_memory()
        Path(args.out).write_bytes(pickle.dumps((seconds, parts, peak)))
        return
    home = build_store(args.lines)
    prepare(home)
    names = args.only.split(",") if args.only else list(ANALYSES)
    print(f"store: {describe(home)}; load average {os.getloadavg()[0]:.1f}", flush=True)
    mode = (
        f"cold: median of {args.repeat} runs each, each in a fresh process"
        if args.cold
        else f"best of {args.repeat} in one process"
    )
    rows = [
        "| analysis | baseline | baseline s | shoplens s | ratio | same answer |"
        + (" peak memory baseline / shoplens |" if args.cold else ""),
        "|---|---|---:|---:|---:|:---:|" + ("---:|" if args.cold else ""),
    ]
    for name in names:
        analysis = ANALYSES[name]
        peaks = ""
        if args.cold:
            # The sides take turns, each run a fresh process; the median of each side's runs is reported (a single
            # cold run moved by ±30 % from one to the next on the quiet machine).
            pairs = [(cold(name, "base", home), cold(name, "ours", home)) for _ in range(args.repeat)]
            base, base_parts, base_peak = sorted((pair[0] for pair in pairs), key=lambda run: run[0])[len(pairs) // 2]
            ours, our_parts, our_peak = sorted((pair[1] for pair in pairs), key=lambda run: run[0])[len(pairs) // 2]
            peaks = f" {base_peak / 1024**3:.2f} / {our_peak / 1024**3:.2f} GB |"
        else:
            base_runs = [timed(analysis.base, home) for _ in range(args.repeat)]
            our_runs = [timed(analysis.ours, home) for _ in range(args.repeat)]
            base, base_parts = min(base_runs, key=lambda run: run[0])
            ours, our_parts = min(our_runs, key=lambda run: run[0])
        problems = same_answer(our_parts, base_parts)
        rows.append(
            f"| {name} | {analysis.baseline} | {base:.3f} | {ours:.3f} | {ours / base:.2f}x | "
            f"{'yes' if not problems else 'NO'} |{peaks}"
        )
        print(rows[-1], flush=True)
        for problem in problems[:10]:
            print(f"    {problem}", flush=True)
    print(f"\n{describe(home)}; {mode}; load average {os.getloadavg()[0]:.1f} at the end\n")
    print("\n".join(rows))


def prepare(home: Path) -> None:
    """What both sides reuse and neither times: the BG/NBD and Gamma-Gamma fits for the current data."""
    from shoplens.queries import ClvPredictQuery

    _runner(home).run(ClvPredictQuery(limit=1))  # fits and saves them unless saved fits are current


if __name__ == "__main__":
    main()
