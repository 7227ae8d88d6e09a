"""Pricing rules: the margin floor, precedence on overlapping rules, the replay with a known elasticity, the
price list, the command line's JSON and its one-line errors."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pricing_store import PRODUCTS, TRUE_ELASTICITY, weekly_demand, write_store_csv
from tests.conftest import run_cli

from shoplens.actions import (
    dated_by_calendar,
    fit_elasticity,
    parse_rules,
    replay_window,
    rule_prices,
    winning_rule,
)
from shoplens.errors import InputError
from shoplens.warehouse import Warehouse, load_table_file

SECRET = b"pricing-tests-secret-0123456789abcdef"
# A catalogue whose margins are easy to work out by hand.
PRODUCTS_CSV = """\
product_id,name,category,cost,price
A-1,Green tea,Tea,6.00,10.00
A-2,Black tea,Tea,7.50,10.00
B-1,Teapot,Kitchen,30.00,100.00
C-1,Cup,Kitchen,,50.00
"""


def rule(name: str, scope: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": name, "scope": scope, "min_margin_percent": 0, **fields}


@pytest.fixture
def catalogue_home(tmp_path: Path) -> Path:
    """A warehouse holding only the catalogue above."""
    home = tmp_path / "home"
    home.mkdir()
    products = tmp_path / "products.csv"
    products.write_text(PRODUCTS_CSV)
    with Warehouse(home / "warehouse.duckdb") as warehouse:
        assert load_table_file(warehouse, "products", products, SECRET) == 4
    return home


def write_rules(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


TEA_SALE = """\
rules:
  - name: tea-20
    scope: {category: Tea}
    discount_percent: 20
    min_margin_percent: 20
"""


def test_a_rule_below_the_margin_floor_is_refused_with_rule_product_and_margin(
    cli: Callable[..., Any], catalogue_home: Path, tmp_path: Path
) -> None:
    rules = write_rules(tmp_path / "rules.yaml", TEA_SALE)
    # 20% off 10.00 is 8.00. A-1: (8.00 - 6.00) / 8.00 = 25% >= 20%, kept. A-2: (8.00 - 7.50) / 8.00 = 6.25% < 20%.
    text = cli("pricing", "check", str(rules), home_dir=catalogue_home)
    assert text.exit_code == 1
    assert text.stderr.strip() == (
        "refused: rule 'tea-20' would sell product A-2 at a margin of 6.25% (price 10.00 -> 8.00, cost 7.50), "
        "below its floor of 20%"
    )
    result = cli("pricing", "check", str(rules), "--json", home_dir=catalogue_home)
    assert result.exit_code == 1
    document = result.json()
    assert document["ok"] is False
    assert [(v["rule"], v["product_id"], v["margin"]) for v in document["violations"]] == [("tea-20", "A-2", 6.25)]
    assert document["checked"] == 2  # A-1 and A-2: the rule reaches only the tea
    assert document["reaching_nothing"] == []


def test_a_rule_whose_category_is_not_in_the_catalogue_is_named(
    cli: Callable[..., Any], catalogue_home: Path, tmp_path: Path
) -> None:
    rules = write_rules(
        tmp_path / "rules.yaml",
        "rules: [{name: typo, scope: {category: Tee}, discount_percent: 5, min_margin_percent: 0}]",
    )
    result = cli("pricing", "check", str(rules), home_dir=catalogue_home)
    assert result.exit_code == 0
    assert "rule 'typo' reaches no product in the catalogue (check its product_id or category)" in result.stdout
    document = cli("pricing", "check", str(rules), "--json", home_dir=catalogue_home).json()
    assert (document["ok"], document["checked"], document["reaching_nothing"]) == (True, 0, ["typo"])


def test_the_floor_is_inclusive_and_a_product_without_cost_is_not_guessed(
    cli: Callable[..., Any], catalogue_home: Path, tmp_path: Path
) -> None:
    # 25% off: A-1 10.00 * 0.75 = 7.50, (7.50 - 6.00) / 7.50 = 20% exactly, at the floor: allowed.
    # A-2 7.50 -> margin 0%; B-1 75.00 -> (75 - 30) / 75 = 60%; C-1 has no cost.
    rules = write_rules(
        tmp_path / "rules.yaml",
        "rules: [{name: quarter-off, scope: {all: true}, discount_percent: 25, min_margin_percent: 20}]",
    )
    document = cli("pricing", "check", str(rules), "--json", home_dir=catalogue_home).json()
    assert [(v["product_id"], v["margin"]) for v in document["violations"]] == [("A-2", 0.0)]
    assert document["unchecked"] == [{"rule": "quarter-off", "product_id": "C-1", "reason": "no cost"}]
    assert document["checked"] == 3


def test_a_product_that_cannot_be_checked_refuses_the_rules_until_accepted(
    cli: Callable[..., Any], catalogue_home: Path, tmp_path: Path
) -> None:
    # 5% off the kitchen: B-1 (95 - 30) / 95 = 68% is fine, C-1 has no cost.
    rules = write_rules(
        tmp_path / "rules.yaml",
        "rules: [{name: kitchen, scope: {category: Kitchen}, discount_percent: 5, min_margin_percent: 20}]",
    )
    refused = cli("pricing", "check", str(rules), home_dir=catalogue_home)
    assert refused.exit_code == 1
    assert refused.stderr.strip() == (
        "refused: 1 product(s) the rules reach have no cost or price, so their margin cannot be checked "
        "(add the costs, or pass --accept-unchecked)"
    )
    accepted = cli("pricing", "check", str(rules), "--accept-unchecked", "--json", home_dir=catalogue_home)
    assert accepted.exit_code == 0
    assert accepted.json()["ok"] is True
    assert [item["product_id"] for item in accepted.json()["unchecked"]] == ["C-1"]


def test_a_rule_another_always_outranks_is_not_held_against_the_floor(
    cli: Callable[..., Any], catalogue_home: Path, tmp_path: Path
) -> None:
    # Half off everything would sell the tea at 5.00, below its cost; the tea rule (priority 1, 10% off, floor
    # 20%) wins every tea line: A-1 (9.00 - 6.00) / 9.00 = 33.3% kept, A-2 (9.00 - 7.50) / 9.00 = 16.67% refused.
    # The half-off rule only prices the teapot: (50 - 30) / 50 = 40% >= 30%.
    always = """\
rules:
  - {name: half-off, scope: {all: true}, discount_percent: 50, min_margin_percent: 30}
  - {name: tea, scope: {category: Tea}, discount_percent: 10, min_margin_percent: 20, priority: 1}
"""
    document = cli("pricing", "check", str(write_rules(tmp_path / "a.yaml", always)), "--json", home_dir=catalogue_home)
    assert [(v["rule"], v["product_id"], v["margin"]) for v in document.json()["violations"]] == [("tea", "A-2", 16.67)]
    assert document.json()["outranked"] == 2  # half-off never prices A-1 or A-2
    # When the tea rule ends, half-off prices the tea again: now both teas are below half-off's floor.
    dated = always.replace("priority: 1}", "priority: 1, ends: 2026-01-31}")
    document = cli("pricing", "check", str(write_rules(tmp_path / "b.yaml", dated)), "--json", home_dir=catalogue_home)
    refused = [(v["rule"], v["product_id"]) for v in document.json()["violations"]]
    assert refused == [("half-off", "A-1"), ("half-off", "A-2"), ("tea", "A-2")]


def test_precedence_priority_then_specificity_then_name() -> None:
    rules = parse_rules(
        {
            "rules": [
                rule("everything", {"all": True}, discount_percent=5),
                rule("tea", {"category": "Tea"}, discount_percent=10),
                rule("green-tea", {"product_id": "A-1"}, discount_percent=15),
                rule("champions", {"segment": "Champions"}, discount_percent=12),
                rule("app", {"channel": "app"}, discount_percent=8, priority=2),
                rule("bulk", {"all": True}, discount_percent=20, priority=1, min_quantity=10),
                rule("b-kitchen", {"category": "Kitchen"}, discount_percent=3),
                rule("a-kitchen", {"category": "Kitchen"}, discount_percent=4),
                rule("january", {"product_id": "A-2"}, discount_percent=30, starts="2026-01-01", ends="2026-01-31"),
            ]
        }
    )

    def wins(**line: Any) -> str | None:
        found = winning_rule(rules, **line)
        return None if found is None else found.name

    assert wins(product_id="A-1", category="Tea") == "green-tea"  # product beats category beats all
    assert wins(product_id="A-2", category="Tea", day=date(2026, 2, 1)) == "tea"
    assert wins(product_id="A-2", category="Tea", day=date(2026, 1, 15)) == "january"  # in its window
    assert wins(product_id="X", category="Toys", segment="Champions") == "champions"  # segment beats all
    assert wins(product_id="A-1", category="Tea", channel="app") == "app"  # priority beats specificity
    assert wins(product_id="A-1", category="Tea", quantity=10) == "bulk"  # the volume break, priority 1
    assert wins(product_id="A-1", category="Tea", quantity=9) == "green-tea"
    assert wins(product_id="B-1", category="Kitchen") == "a-kitchen"  # same priority and scope: by name
    assert wins(product_id="X", category="Toys") == "everything"


def test_an_event_rule_takes_the_dates_of_the_calendar_s_current_or_next_occurrence() -> None:
    # Black Friday is in the calendar on 28-29 Nov 2025 and 27-28 Nov 2026 (two runs of consecutive days). On
    # 1 Dec 2025 the next one is the 2026 run; on 1 Dec 2026 there is none to come, so the latest (2026) again.
    calendar = [
        (date(2025, 11, 28), "Black Friday"),
        (date(2025, 11, 29), "black  friday"),
        (date(2026, 11, 27), "Black Friday"),
        (date(2026, 11, 28), "Black Friday"),
        (date(2026, 12, 25), "Christmas"),
    ]
    rules = parse_rules({"rules": [rule("bf", {"all": True}, discount_percent=25, event="BLACK FRIDAY")]})
    [dated] = dated_by_calendar(rules, calendar, today=date(2025, 11, 29)).rules
    assert (dated.starts, dated.ends) == (date(2025, 11, 28), date(2025, 11, 29))  # on now
    [later] = dated_by_calendar(rules, calendar, today=date(2025, 12, 1)).rules
    assert (later.starts, later.ends) == (date(2026, 11, 27), date(2026, 11, 28))
    unknown = parse_rules({"rules": [rule("x", {"all": True}, discount_percent=5, event="Singles Day")]})
    with pytest.raises(InputError, match=r"^rule 'x': event 'Singles Day' is not in the events calendar"):
        dated_by_calendar(unknown, calendar, today=date(2025, 12, 1))
    with pytest.raises(InputError, match="give either event or starts/ends"):
        parse_rules({"rules": [rule("y", {"all": True}, discount_percent=5, event="Christmas", starts="2026-12-01")]})


def test_the_replay_window_is_whole_months_back_from_the_last_day() -> None:
    assert replay_window(date(2025, 12, 31), 3) == (date(2025, 10, 1), date(2025, 12, 31))
    assert replay_window(date(2025, 5, 31), 3) == (date(2025, 3, 1), date(2025, 5, 31))  # Feb has no 31st
    assert replay_window(date(2024, 3, 15), 1) == (date(2024, 2, 16), date(2024, 3, 15))


def test_the_elasticity_interval_covers_the_truth_about_95_in_100_times() -> None:
    # 200 stores drawn with units ~ Poisson(30 * (price / regular) ** -1.5): a 95% interval should cover -1.5
    # in about 190 (a binomial(200, 0.95) lies in 181-198 with probability > 0.99).
    covered, estimates = 0, []
    for seed in range(200):
        weekly = [
            {"product_id": product, "week": week, "units": units, "price": price}
            for week, product, price, units in weekly_demand(np.random.default_rng(seed))
            if units
        ]
        fit = fit_elasticity(weekly)
        assert fit.source == "estimated"
        covered += fit.low <= TRUE_ELASTICITY <= fit.high
        estimates.append(fit.elasticity)
    assert 181 <= covered <= 198
    assert abs(float(np.mean(estimates)) - TRUE_ELASTICITY) < 0.02  # no small-count bias (Poisson, not log OLS)


def test_with_many_products_the_clustered_interval_covers_the_truth_too() -> None:
    # 25 products (enough to cluster the standard error by product), 100 stores: a binomial(100, 0.95) lies in
    # 88-100 with probability > 0.99.
    products = {f"P{n}": ("Any", 10.0 + 4 * n, 5.0) for n in range(25)}
    covered = 0
    for seed in range(100):
        rows = weekly_demand(np.random.default_rng(seed), products=products)
        fit = fit_elasticity([{"product_id": p, "week": w, "units": u, "price": x} for w, p, x, u in rows if u])
        assert "clustered by product" in fit.note
        covered += fit.low <= TRUE_ELASTICITY <= fit.high
    assert covered >= 88


def test_prices_that_never_move_give_the_stated_assumption() -> None:
    weekly = [{"product_id": "A", "week": week, "units": 10 + week % 3, "price": 9.9} for week in range(30)]
    fit = fit_elasticity(weekly)
    assert (fit.source, fit.elasticity, fit.low, fit.high) == ("assumed", -2.0, -3.5, -1.0)
    assert "only 0 product-weeks with a moved price" in fit.note


@pytest.fixture
def hand_store(warehouse_engine: str, tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    """The hand-made store (seed 0) imported through the generic profile on each engine, and its orders file."""
    directory = tmp_path / "hand"
    directory.mkdir()
    orders, mapping = write_store_csv(directory, seed=0)
    home = directory / "home"
    result = run_cli(home, "import", str(orders), "--profile", "generic", "--mapping", str(mapping), "--json")
    assert result.exit_code == 0, result.stderr
    return home, pd.read_csv(orders, parse_dates=["at"])


STORE_RULES = """\
rules:
  - {name: tea-week, scope: {category: Tea}, discount_percent: 10, min_margin_percent: 20}
  - {name: store-wide, scope: {all: true}, discount_percent: 5, min_margin_percent: 30}
  - {name: pot-bulk, scope: {product_id: POT-1}, discount_amount: 10, min_margin_percent: 10, min_quantity: 30}
  - {name: app-week, scope: {channel: app}, discount_percent: 3, min_margin_percent: 10, priority: 1,
     ends: 2025-11-15}
"""


def test_the_replay_recovers_the_known_elasticity(
    cli: Callable[..., Any], hand_store: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    home, orders = hand_store
    rules = write_rules(tmp_path / "rules.yaml", STORE_RULES)
    result = cli("pricing", "simulate", str(rules), "--json", home_dir=home)
    assert result.exit_code == 0, result.stderr
    document = result.json()
    assert document["elasticity_source"] == "estimated"
    low, high = document["interval"]["elasticity"]
    assert low <= TRUE_ELASTICITY <= high
    assert document["elasticity_fit"]["observations"] == len(orders)  # one order per product-week that sold
    assert document["elasticity_fit"]["products"] == 4
    # the last three months of orders, counted apart: 2025-10-01 to the last order, 2025-12-31
    window = orders[orders["at"] >= "2025-10-01"]
    assert (document["start"], document["end"]) == ("2025-10-01", "2025-12-31")
    assert document["lines"] == len(window)
    assert document["baseline"]["units"] == window["qty"].sum()
    assert document["baseline"]["revenue"] == pytest.approx((window["qty"] * window["price"]).sum(), abs=0.005)
    # precedence on the lines: app orders take app-week (priority 1; its end date is ignored unless --as-dated);
    # then tea lines take tea-week; pot lines of 30 units or more pot-bulk; the rest store-wide
    app = window["channel"] == "app"
    tea = ~app & (window["category"] == "Tea")
    bulk = ~app & (window["sku"] == "POT-1") & (window["qty"] >= 30)
    rest = ~app & ~tea & ~bulk
    lines = {effect["rule"]: effect["lines"] for effect in document["rules"]}
    assert lines == {"app-week": app.sum(), "tea-week": tea.sum(), "pot-bulk": bulk.sum(), "store-wide": rest.sum()}
    assert min(lines.values()) > 0
    # a discount sells more units and, with demand this elastic, more revenue; the estimate lies in its interval
    assert document["units"] > document["baseline"]["units"]
    assert document["interval"]["revenue"][0] <= document["revenue"] <= document["interval"]["revenue"][1]


def test_the_check_answers_alike_on_every_engine(
    cli: Callable[..., Any], hand_store: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    # The store's prices lie within 0.8-1.2 x the regular price and every cost is half of it. 60% off leaves
    # at most 0.4 x 1.2 = 0.48 x regular, below the cost: every product is refused. 10% off leaves at least
    # 0.72 x regular: a margin of at least (0.72 - 0.5) / 0.72 = 30.6%, above a 30% floor: none is.
    home, _ = hand_store
    deep = write_rules(tmp_path / "deep.yaml", "rules: [{name: deep, scope: {all: true}, discount_percent: 60,"
                       " min_margin_percent: 0}]")  # fmt: skip
    document = cli("pricing", "check", str(deep), "--json", home_dir=home).json()
    assert sorted(v["product_id"] for v in document["violations"]) == sorted(PRODUCTS)
    assert all(v["margin"] < 0 for v in document["violations"])
    mild = write_rules(tmp_path / "mild.yaml", "rules: [{name: mild, scope: {all: true}, discount_percent: 10,"
                       " min_margin_percent: 30}]")  # fmt: skip
    document = cli("pricing", "check", str(mild), "--json", home_dir=home).json()
    assert (document["ok"], document["checked"]) == (True, len(PRODUCTS))


def test_as_dated_a_rule_prices_only_the_days_of_its_window(
    cli: Callable[..., Any], hand_store: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    home, orders = hand_store
    rules = write_rules(tmp_path / "rules.yaml", STORE_RULES)
    document = cli("pricing", "simulate", str(rules), "--as-dated", "--json", home_dir=home).json()
    window = orders[orders["at"] >= "2025-10-01"]
    app = (window["channel"] == "app") & (window["at"] < "2025-11-16")
    lines = {effect["rule"]: effect["lines"] for effect in document["rules"]}
    assert document["dates"] == "as dated"
    assert lines["app-week"] == app.sum()
    assert lines["tea-week"] == (~app & (window["category"] == "Tea")).sum()


def test_with_unit_elasticity_revenue_stays_and_units_scale_by_the_price_ratio(
    cli: Callable[..., Any], hand_store: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    # units x (p' / p) ** -1 at p' gives p x units again: revenue unchanged, units up by p / p' (1 / 0.9 for 10%).
    home, orders = hand_store
    ten_off = "rules: [{name: ten, scope: {all: true}, discount_percent: 10, min_margin_percent: 0}]"
    rules = write_rules(tmp_path / "rules.yaml", ten_off)
    document = cli("pricing", "simulate", str(rules), "--months", "12", "--elasticity", "-1", "--json", home_dir=home)
    document = document.json()
    sale = (orders["price"] * 0.9).round(2)
    assert document["elasticity_source"] == "given"
    assert document["revenue"] == pytest.approx((orders["qty"] * orders["price"]).sum(), abs=0.05)
    assert document["units"] == pytest.approx((orders["qty"] * orders["price"] / sale).sum(), abs=0.05)
    cost = orders["cost"]
    expected_margin = (orders["qty"] * orders["price"] / sale * (sale - cost)).sum()
    assert document["margin"] == pytest.approx(expected_margin, abs=0.05)


def test_the_woocommerce_price_list(cli: Callable[..., Any], catalogue_home: Path, tmp_path: Path) -> None:
    rules = write_rules(
        tmp_path / "rules.yaml",
        """\
rules:
  - {name: tea, scope: {category: Tea}, discount_percent: 10, min_margin_percent: 10, starts: 2026-03-01,
     ends: 2026-03-31}
  - {name: pot, scope: {product_id: B-1}, discount_amount: 15.5, min_margin_percent: 10}
  - {name: champions, scope: {segment: Champions}, discount_percent: 5, min_margin_percent: 10}
""",
    )
    out = tmp_path / "prices.csv"
    # C-1 has no cost and the segment rule reaches it: accepted here, so the list is written
    result = cli(
        "pricing", "export", str(rules), "--out", str(out), "--accept-unchecked", "--json", home_dir=catalogue_home
    )
    assert result.exit_code == 0, result.stderr
    assert result.json() == {
        "path": str(out),
        "format": "woocommerce",
        "products": 3,
        "skipped_rules": [{"rule": "champions", "reason": "a segment rule (prices differ by customer)"}],
        "audit_entry": 1,
    }
    listed = cli("audit", "list", "--json", home_dir=catalogue_home).json()["entries"]
    assert [(e["action"], e["details"]["products"], e["details"]["rules"]) for e in listed] == [
        ("pricing.export", 3, 3)
    ]
    assert listed[0]["details"]["skipped_rules"] == 1
    with out.open() as handle:
        rows = list(csv.reader(handle))
    # 10.00 less 10% is 9.00; 100.00 less 15.50 is 84.50; C-1 (no rule but the segment one) is not listed.
    assert rows == [
        ["SKU", "Regular price", "Sale price", "Date sale price starts", "Date sale price ends"],
        ["A-1", "10.00", "9.00", "2026-03-01", "2026-03-31"],
        ["A-2", "10.00", "9.00", "2026-03-01", "2026-03-31"],
        ["B-1", "100.00", "84.50", "", ""],
    ]
    shopify = tmp_path / "shopify.csv"
    cli("pricing", "export", str(rules), "--out", str(shopify), "--format", "shopify", "--accept-unchecked",
        home_dir=catalogue_home)  # fmt: skip
    assert shopify.read_text().splitlines()[:2] == [
        "Handle,Variant SKU,Variant Price,Variant Compare At Price",
        "A-1,A-1,9.00,10.00",
    ]


def test_an_export_the_check_refuses_writes_nothing(
    cli: Callable[..., Any], catalogue_home: Path, tmp_path: Path
) -> None:
    out = tmp_path / "prices.csv"
    rules = write_rules(tmp_path / "rules.yaml", TEA_SALE)
    result = cli("pricing", "export", str(rules), "--out", str(out), home_dir=catalogue_home)
    assert result.exit_code == 1
    assert "refused: rule 'tea-20' would sell product A-2" in result.stderr
    assert not out.exists()


BAD_RULES = [
    ("rules: [{name: x, scope: {all: true}, discount_percent: 10}]", "rule 'x': min_margin_percent: Field required"),
    (
        "rules: [{name: x, scope: {all: true}, discount_percent: 10, discount_amount: 2, min_margin_percent: 5}]",
        "rule 'x': give exactly one of discount_percent and discount_amount",
    ),
    (
        "rules: [{name: x, scope: {all: true, category: Tea}, discount_percent: 10, min_margin_percent: 5}]",
        "rule 'x': scope: give exactly one of all: true, category, product_id, segment, channel",
    ),
    (
        "rules: [{name: x, scope: {all: true}, discount_percent: 120, min_margin_percent: 5}]",
        "rule 'x': discount_percent: Input should be less than 100",
    ),
    (
        "rules: [{name: x, scope: {segment: VIP}, discount_percent: 12, min_margin_percent: 5}]",
        "rule 'x': scope: unknown RFM segment 'VIP'",
    ),
    ("rules: [{scope: {all: true}, discount_percent: 10, min_margin_percent: 5}]", "rules[0]: name: Field required"),
    (
        "rules: [{name: x, scope: {all: true}, discount_percent: 1, min_margin_percent: 5, starts: 2026-02-01, "
        "ends: 2026-01-01}]",
        "rule 'x': ends 2026-01-01 is before starts 2026-02-01",
    ),
    (
        "rules: [{name: x, scope: {all: true}, discount_percent: 1, min_margin_percent: 5, colour: red}]",
        "rule 'x': colour: Extra inputs are not permitted",
    ),
    ("rules: : :", "not valid YAML at line 1"),
    ("- just a list", "expected a mapping with a 'rules:' list at the top"),
]


@pytest.mark.parametrize(("text", "message"), BAD_RULES)
@pytest.mark.parametrize("command", ["check", "simulate"])
def test_a_bad_rules_file_exits_2_with_one_line(
    cli: Callable[..., Any], tmp_path: Path, text: str, message: str, command: str
) -> None:
    rules = write_rules(tmp_path / "rules.yaml", text)
    result = cli("pricing", command, str(rules), "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: rules.yaml: ")
    assert message in line


@pytest.mark.parametrize("command", ["check", "simulate", "export"])
def test_every_pricing_command_teaches_in_its_help(cli: Callable[..., Any], command: str) -> None:
    result = cli("pricing", command, "--help")
    assert result.exit_code == 0
    assert "--json" in result.stdout
    assert len(result.stdout.split("\n\n")[1].strip()) > 20
    group = cli("pricing", "--help").stdout
    assert "highest priority wins" in " ".join(group.split())


def test_a_missing_warehouse_is_bad_input(cli: Callable[..., Any], tmp_path: Path) -> None:
    rules = write_rules(tmp_path / "rules.yaml", TEA_SALE)
    result = cli("pricing", "check", str(rules), "--json")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no warehouse in ")


def test_a_replay_without_orders_is_bad_input(cli: Callable[..., Any], catalogue_home: Path, tmp_path: Path) -> None:
    rules = write_rules(tmp_path / "rules.yaml", TEA_SALE)
    result = cli("pricing", "simulate", str(rules), "--json", home_dir=catalogue_home)
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: the warehouse has no purchases to replay: import orders first"


cents = st.integers(min_value=1, max_value=10**7).map(lambda n: Decimal(n) / 100)


@settings(max_examples=40, deadline=None)
@given(
    prices=st.lists(cents, min_size=1, max_size=20),
    percent=st.one_of(st.integers(1, 99).map(Decimal), st.decimals(min_value="0.01", max_value="99.99", places=2)),
    amount=cents,
)
@example(
    prices=[Decimal("5105.10")], percent=Decimal(95), amount=Decimal("1.00")
)  # 255.255 -> 255.26, not a float's 255.25
@example(prices=[Decimal("0.05"), Decimal("1.00")], percent=Decimal(50), amount=Decimal("2.00"))  # 0.025 -> 0.03; 0
def test_the_engine_rounds_sale_prices_as_decimal_arithmetic_does(
    prices: list[Decimal], percent: Decimal, amount: Decimal
) -> None:
    """The warehouse's sale price (SQL) is the exact decimal one, to the cent, half up, never below zero."""
    import ibis

    products = ibis.memtable(
        {
            "product_id": [f"P{n}" for n in range(len(prices))],
            "category": ["Any"] * len(prices),
            "cost": [Decimal("0.01")] * len(prices),
            "price": prices,
        },
        schema={"product_id": "string", "category": "string", "cost": "decimal(18,4)", "price": "decimal(18,4)"},
    )
    rules = parse_rules(
        {
            "rules": [
                rule("percent", {"all": True}, discount_percent=percent),
                rule("amount", {"all": True}, discount_amount=amount),
            ]
        }
    )
    by_name = {r.name: r for r in rules.rules}
    rows = ibis.duckdb.connect().to_pyarrow(rule_prices(products, rules)).to_pylist()
    assert len(rows) == 2 * len(prices)
    for row in rows:
        assert row["sale_price"] == by_name[row["rule"]].sale_price(row["price"])
