"""The analytics API and the dashboard on a demo store: the runners' numbers, ETags, pagination, no PII."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient
from tests.conftest import show_vault_in_clear
from tests.web.conftest import Store, table_values

from shoplens.config import Settings
from shoplens.queries import BackendSource, KpiQuery, KpiResult, QueryRunner, RfmQuery, RfmResult
from shoplens.reports import NumberStyle
from shoplens.warehouse import Warehouse

ANALYTICS = ["kpis", "funnel", "products", "basket", "rfm", "cohorts", "lifecycle", "stage", "recommendations"]


def _runner_result(store: Store, query: KpiQuery | RfmQuery) -> KpiResult | RfmResult:
    settings = Settings(home=store.home)
    with Warehouse(settings.warehouse_path, read_only=True) as warehouse:
        runner = QueryRunner(
            BackendSource(warehouse.backend, data_version=warehouse.data_version), store_timezone="UTC", cache_dir=None
        )
        return runner.run(query)  # type: ignore[return-value]


@pytest.mark.parametrize("kind", ANALYTICS)
def test_every_analysis_answers_with_its_typed_query(as_role: Callable[[str], TestClient], kind: str) -> None:
    answer = as_role("analyst").get(f"/api/v1/{kind}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["data_version"] >= 1
    assert "query" in body


def test_kpis_are_the_runners_numbers(as_role: Callable[[str], TestClient], demo_store: Store) -> None:
    answer = as_role("analyst").get("/api/v1/kpis", params={"grain": "month", "start": "2025-03-01"})
    expected = _runner_result(demo_store, KpiQuery(grain="month", start="2025-03-01"))  # type: ignore[arg-type]
    api_rows = answer.json()["rows"]
    assert [r["period"] for r in api_rows] == [str(r["period"]) for r in expected.rows]  # type: ignore[union-attr]
    assert [Decimal(r["revenue"]) for r in api_rows] == [r["revenue"] for r in expected.rows]  # type: ignore[union-attr]
    assert api_rows[0]["period"] == "2025-03-01"


def test_results_carry_an_etag_and_answer_304_when_unchanged(as_role: Callable[[str], TestClient]) -> None:
    client = as_role("owner")
    first = client.get("/api/v1/rfm")
    tag = first.headers["etag"]
    again = client.get("/api/v1/rfm", headers={"If-None-Match": tag})
    assert (again.status_code, again.content) == (304, b"")
    other_query = client.get("/api/v1/rfm", params={"as_of": "2025-06-30"}, headers={"If-None-Match": tag})
    assert other_query.status_code == 200
    assert other_query.headers["etag"] != tag


def test_bad_queries_get_the_one_error_shape(as_role: Callable[[str], TestClient]) -> None:
    client = as_role("analyst")
    unknown = client.get("/api/v1/kpis", params={"grain": "year"})
    assert unknown.status_code == 422
    assert set(unknown.json()) == {"error"}
    assert unknown.json()["error"]["code"] == "invalid_request"
    reversed_range = client.get("/api/v1/kpis", params={"start": "2025-05-01", "end": "2025-01-01"})
    assert reversed_range.status_code == 422
    # the API names its parameters; the command line names the same fields as options (--from, --to)
    assert reversed_range.json()["error"] == {
        "code": "invalid_request",
        "message": "start 2025-05-01 is after end 2025-01-01",
    }


def test_customers_are_pseudonymous_paginated_and_add_up(
    as_role: Callable[[str], TestClient], demo_store: Store
) -> None:
    client = as_role("marketer")
    rfm = client.get("/api/v1/rfm").json()
    first = client.get("/api/v1/customers", params={"limit": 100}).json()
    assert first["total"] == rfm["customers"], "every customer with an order, once"
    assert len(first["customers"]) == 100
    second = client.get("/api/v1/customers", params={"limit": 100, "offset": 100}).json()
    assert not {c["customer_key"] for c in first["customers"]} & {c["customer_key"] for c in second["customers"]}
    champions = next(s for s in rfm["segments"] if s["segment"] == "Champions")
    listed = client.get("/api/v1/customers", params={"segment": "Champions", "limit": 500}).json()
    assert listed["total"] == champions["customers"] == len(listed["customers"])
    assert {c["segment"] for c in listed["customers"]} == {"Champions"}
    assert set(first["customers"][0]) == {"customer_key", "segment", "lifecycle", "orders", "revenue", "recency_days"}
    # Nothing from the vault: no e-mail address anywhere in the answer.
    with duckdb.connect(str(Settings(home=demo_store.home).warehouse_path), read_only=True) as con:
        show_vault_in_clear(con, demo_store.home)
        emails = [row[0] for row in con.execute("SELECT email FROM customer_pii WHERE email IS NOT NULL").fetchall()]
    assert emails, "the demo store has e-mails in its vault"
    page = client.get("/api/v1/customers", params={"limit": 500}).text
    assert not any(email in page for email in emails)
    assert "@" not in page


def test_the_overview_shows_the_apis_numbers_and_filters_by_date(
    as_role: Callable[[str], TestClient],
) -> None:
    client = as_role("analyst")
    api_rows = client.get("/api/v1/kpis", params={"start": "2025-01-01", "end": "2025-06-30"}).json()["rows"]
    page = client.get("/", params={"start": "2025-01-01", "end": "2025-06-30"}).text
    shown = re.findall(r'<tr data-period="([^"]+)">', page)
    assert shown == [r["period"] for r in api_rows]
    assert len(shown) == 6
    revenue = re.findall(r'<td class="num" data-kpi="revenue" data-value="([^"]*)">([^<]+)</td>', page)
    assert [value for value, _ in revenue] == [r["revenue"] for r in api_rows]
    assert [text for _, text in revenue] == [NumberStyle().money(Decimal(r["revenue"])) for r in api_rows]
    assert "<svg" in page, "sparklines are drawn on the server"


def test_drilling_down_from_a_segment_lists_its_customers(as_role: Callable[[str], TestClient]) -> None:
    client = as_role("analyst")
    overview = client.get("/customers").text
    assert 'href="/customers?segment=Champions"' in overview
    drilled = client.get("/customers", params={"segment": "Champions"}).text
    keys = re.findall(r"<code>(c_[0-9a-f]+)</code>", drilled)
    api = client.get("/api/v1/customers", params={"segment": "Champions", "limit": 50}).json()
    assert keys == [c["customer_key"] for c in api["customers"]]
    assert as_role("vendor").get("/customers", params={"segment": "Champions"}).status_code == 403


def test_clv_summary_has_totals_but_no_customer_rows(as_role: Callable[[str], TestClient]) -> None:
    answer = as_role("analyst").get("/api/v1/clv", params={"horizon": 180})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "rows" not in body
    assert body["horizon_days"] == 180
    assert sum(group["customers"] for group in body["by_churn_risk"]) == body["n_customers"]
    cached = as_role("analyst").get(
        "/api/v1/clv", params={"horizon": 180}, headers={"If-None-Match": answer.headers["etag"]}
    )
    assert cached.status_code == 304
    assert as_role("vendor").get("/api/v1/clv").status_code == 403


def test_the_clv_page_shows_how_the_churn_bands_did_on_their_holdout(as_role: Callable[[str], TestClient]) -> None:
    client = as_role("analyst")
    churn = client.get("/api/v1/clv").json()["churn"]
    validation = churn["validation"]
    assert churn["chosen_on"] == "holdout"
    assert churn["window_days"] == 90
    page = client.get("/clv").text
    assert f"AUC {validation['auc']:.3f}" in page
    assert f"high from {churn['high_from']:.3f}" in page
    shown = table_values(page, "churn-validation")
    assert [row[:2] for row in shown] == [[band["band"], str(band["customers"])] for band in validation["bands"]]
    assert len(table_values(page, "churn-calibration")) == len(validation["calibration"]) == 10


def test_voice_themes_take_the_themes_query(as_role: Callable[[str], TestClient]) -> None:
    answer = as_role("marketer").get("/api/v1/voice/themes", params={"method": "keywords", "n_themes": 3})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["method"] == "keywords"
    for polarity in ("complaint", "praise"):  # up to 3 themes of each
        assert 1 <= len([t for t in body["themes"] if t["polarity"] == polarity]) <= 3
    assert as_role("marketer").get("/api/v1/voice/themes", params={"n_themes": 0}).status_code == 422


def test_every_dashboard_page_renders_the_runners_numbers(as_role: Callable[[str], TestClient]) -> None:
    client = as_role("owner")
    funnel = client.get("/api/v1/funnel").json()["steps"]
    page = client.get("/funnel").text
    assert table_values(page, "funnel-steps")[0][:2] == [funnel[0]["step"], str(funnel[0]["sessions"])]
    assert "<svg" in page
    top = client.get("/api/v1/products").json()["top_products"][0]
    assert table_values(client.get("/products").text, "top-products")[0][4] == str(top["revenue"])
    clv = client.get("/api/v1/clv").json()
    assert NumberStyle().money(clv["totals"]["clv"]) in client.get("/clv").text
    client.get("/api/v1/voice/themes")  # the voice page's questions, answered before it waits its few seconds
    client.get("/api/v1/voice/needs")
    assert 'id="voice-themes"' in client.get("/voice").text
    vendor = as_role("vendor")
    assert (vendor.get("/funnel").status_code, vendor.get("/products").status_code) == (200, 200)
    assert (vendor.get("/voice").status_code, vendor.get("/clv").status_code) == (403, 403)


def test_the_customers_page_shows_the_stage_with_its_evidence(as_role: Callable[[str], TestClient]) -> None:
    client = as_role("analyst")
    stage = client.get("/api/v1/stage").json()
    page = client.get("/customers").text
    assert f'<strong id="stage">{stage["stage"]}</strong>' in page
    assert f'<strong id="stage-window">{stage["window"]}</strong>' in page
    for name, value in stage["evidence"].items():
        assert f'data-evidence="{name.replace("_", " ")}">' in page
        if name.endswith("_share") and value is not None:  # shares as percentages, at most one decimal
            shown = f"{value * 100:.1f}".removesuffix(".0")
            assert f'data-evidence="{name.replace("_", " ")}">{shown}%</td>' in page
    for need in stage["next_stage_needs"]:
        assert f"<li>{html.escape(need)}</li>" in page
    assert stage["next_stage_needs"], "a 500-customer demo store is not mature: it has needs to show"


def test_the_voice_page_shows_the_hidden_needs_of_the_needs_api(as_role: Callable[[str], TestClient]) -> None:
    client = as_role("marketer")
    needs = client.get("/api/v1/voice/needs")  # the page asks the default questions, as the API does here
    assert needs.status_code == 200, needs.text
    assert client.get("/api/v1/voice/themes").status_code == 200
    body = needs.json()
    page = client.get("/voice").text
    shown = [row[0] for row in table_values(page, "needs-complaints")]
    assert shown, "the demo store's reviews hold complaints"
    assert shown == [t["name"] for t in body["complaint_themes"]]
    silent = [row[:2] for row in table_values(page, "needs-silent")]
    signals = body["silent_dissatisfaction"]["signals"].items()
    assert silent == [[name.replace("_", " "), str(signal["customers"])] for name, signal in signals]
    assert as_role("vendor").get("/api/v1/voice/needs").status_code == 403


def test_the_behaviour_page_and_api_agree(as_role: Callable[[str], TestClient]) -> None:
    client = as_role("analyst")
    behaviour = client.get("/api/v1/behaviour", params={"window_days": 90})
    assert behaviour.status_code == 200, behaviour.text
    body = behaviour.json()
    page = client.get("/behaviour").text
    gaps = body["inter_purchase"]
    assert f"Half of the repeat orders come within {gaps['median_days']} days" in page
    shown = [row[:2] for row in table_values(page, "gaps")]
    assert shown == [[b["bucket"], str(b["repeat_orders"])] for b in body["inter_purchase_distribution"]]
    assert as_role("vendor").get("/behaviour").status_code == 403


def test_the_overview_splits_its_table_by_channel(as_role: Callable[[str], TestClient]) -> None:
    client = as_role("analyst")
    rows = client.get("/api/v1/kpis", params={"by": "channel", "grain": "quarter"}).json()["rows"]
    page = client.get("/", params={"by": "channel", "grain": "quarter"}).text
    shown = re.findall(r'<td data-group="channel">([^<]+)</td>', page)
    assert shown == [row["channel"] if row["channel"] is not None else "–" for row in rows]
    refused = client.get("/", params={"by": "postcode"})
    assert "The table can be split by channel, device, country, segment, not by &#39;postcode&#39;." in refused.text


def test_forecast_fit_and_sentiment_answer_as_the_command_line_does(
    as_role: Callable[[str], TestClient], demo_store: Store, cli: Callable[..., Any]
) -> None:
    analyst = as_role("analyst")
    forecast = analyst.get("/api/v1/forecast", params={"metric": "orders", "horizon": 14, "backtest_weeks": 0})
    assert forecast.status_code == 200, forecast.text
    expected = cli(
        "forecast", "--metric", "orders", "--horizon", "14", "--backtest-weeks", "0", "--json", home_dir=demo_store.home
    ).json()
    assert [(r["period"], r["forecast"]) for r in forecast.json()["rows"]] == [
        (r["period"], r["forecast"]) for r in expected["rows"]
    ]
    assert len(expected["rows"]) == 14

    fitted = analyst.post("/api/v1/clv/fit", params={"model": "bgnbd", "time_unit": "W"})
    assert fitted.status_code == 200, fitted.text
    by_cli = cli("clv", "fit", "--model", "bgnbd", "--time-unit", "W", "--json", home_dir=demo_store.home).json()
    assert fitted.json()["params"] == pytest.approx(by_cli["params"], rel=1e-9)
    assert fitted.json()["log_likelihood"] == pytest.approx(by_cli["log_likelihood"], rel=1e-9)
    assert as_role("marketer").post("/api/v1/clv/fit").status_code == 403

    texts = ["Arrived broken and nobody answers my emails.", "Lovely quality, fits perfectly!"]
    scored = as_role("marketer").post("/api/v1/voice/sentiment", json={"texts": texts, "method": "vader"})
    assert scored.status_code == 200, scored.text
    for text, result in zip(texts, scored.json()["results"], strict=True):
        one = cli("voice", "sentiment", "--text", text, "--method", "vader", "--json", home_dir=demo_store.home).json()
        assert (result["label"], result["score"]) == (one["label"], one["score"])
    wrong = as_role("marketer").post("/api/v1/voice/sentiment", json={"texts": texts, "method": "guess"})
    assert wrong.status_code == 422
    assert set(wrong.json()) == {"error"}
    assert as_role("marketer").post("/api/v1/voice/sentiment", json={"texts": ["x"] * 1001}).status_code == 422


def test_partial_periods_are_marked_and_compared_with_the_same_days(as_role: Callable[[str], TestClient]) -> None:
    client = as_role("analyst")
    window = {"start": "2025-01-10", "end": "2025-03-20"}
    rows = client.get("/api/v1/kpis", params=window).json()["rows"]
    days = [(r["period"], r["covers_from"], r["through"], r["days_with_data"], r["partial"]) for r in rows]
    assert days == [
        ("2025-01-01", "2025-01-10", "2025-01-31", 22, True),
        ("2025-02-01", "2025-02-01", "2025-02-28", 28, False),
        ("2025-03-01", "2025-03-01", "2025-03-20", 20, True),
    ]
    march = rows[2]
    assert (march["comparison"], march["compared_from"], march["compared_through"]) == (
        "same_days",
        "2025-02-01",
        "2025-02-20",
    )
    (same_days,) = client.get("/api/v1/kpis", params={"start": "2025-02-01", "end": "2025-02-20"}).json()["rows"]
    assert (march["previous_revenue"], march["previous_orders"], march["previous_customers"]) == (
        same_days["revenue"],
        same_days["orders"],
        same_days["customers"],
    )
    page = client.get("/", params=window).text
    assert re.findall(r'<tr data-period="([^"]+)"><td data-partial="true">', page) == ["2025-01-01", "2025-03-01"]
    assert "partial (20/31 days)" in page
    compared = re.search(r'<span id="compared-with"[^>]*>([^<]+)</span>', page)
    assert compared, "the page says what the changes compare with"
    assert compared.group(1).startswith(
        "Changes are against Feb 1, 2025 to Feb 20, 2025 (the same days of the period before)"
    )


def test_the_customers_page_lists_the_recommendations_of_the_api(as_role: Callable[[str], TestClient]) -> None:
    client = as_role("analyst")
    advice = client.get("/api/v1/recommendations").json()
    page = client.get("/customers").text
    assert advice["recommendations"], "a demo store has overdue regulars and one-time buyers"
    shown = re.findall(r'<td class="num" data-expected-value>([^<]*)</td>', page)
    assert shown == [NumberStyle().money(Decimal(str(r["expected_value"]))) for r in advice["recommendations"]]
    links = [
        (href, html.unescape(text))
        for href, text in re.findall(r'<tr data-rule="[^"]+"><td><a href="([^"]+)">([^<]+)</a>', page)
    ]
    assert links == [(r["link"], r["title"]) for r in advice["recommendations"]]
    assert as_role("vendor").get("/api/v1/recommendations").status_code == 403


def test_service_support_figures_equal_pandas(as_role: Callable[[str], TestClient], demo_store: Store) -> None:
    with duckdb.connect(str(demo_store.home / "warehouse.duckdb"), read_only=True) as con:
        tickets = con.sql("SELECT channel, created_at, first_response_at, solved_at FROM tickets").df()
        [zero_days] = con.sql("SELECT count(*) FROM inventory WHERE on_hand = 0").fetchall()
    hours = (tickets["first_response_at"] - tickets["created_at"]).dt.total_seconds() / 3600
    answer = as_role("analyst").get("/api/v1/service", params={"top": 3}).json()
    every = {r["channel"]: r for r in answer["support"]}["all"]
    assert every["tickets"] == len(tickets)
    assert every["answered"] == int(tickets["first_response_at"].notna().sum())
    assert every["answered_within_24h_share"] == pytest.approx(float((hours <= 24).mean()), abs=1e-6)
    assert every["median_response_hours"] == pytest.approx(float(hours.median()), abs=1e-4)
    assert every["open"] == int(tickets["solved_at"].isna().sum())
    assert zero_days is not None
    assert answer["stock_out_totals"]["stockout_days"] == zero_days[0]
    assert len(answer["stock_outs"]) == 3
    assert as_role("vendor").get("/api/v1/service").status_code == 403


def test_guard_is_for_owners_and_analysts(as_role: Callable[[str], TestClient]) -> None:
    answer = as_role("analyst").get("/api/v1/guard", params={"approval_limit": 1000})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert isinstance(body["flags"], list)
    assert all(set(f) == {"kind", "subject", "evidence", "score"} for f in body["flags"])
    assert "orders just under an approval limit: give the limit (--approval-limit)" not in body["not_checked"]
    assert (
        as_role("marketer").get("/api/v1/guard").status_code,
        as_role("vendor").get("/api/v1/guard").status_code,
    ) == (403, 403)


def _cells(page: str, table_id: str) -> list[list[str]]:
    """A page table's rows as the API's values (the cells' data-value)."""
    return table_values(page, table_id)


def test_the_acquisition_and_service_pages_show_the_answers(
    as_role: Callable[[str], TestClient], demo_store: Store
) -> None:
    from tests.conftest import run_cli

    client = as_role("marketer")
    channels = run_cli(demo_store.home, "acquisition", "--json").json()["channels"]
    shown = _cells(client.get("/acquisition").text, "acquisition-channels")
    assert [(row[0], row[1]) for row in shown] == [(c["channel"], str(c["new_customers"])) for c in channels]
    service = client.get("/api/v1/service").json()
    support = _cells(client.get("/service").text, "support")
    assert [(row[0], row[1]) for row in support] == [(r["channel"], str(r["tickets"])) for r in service["support"]]
    page = client.get("/service").text
    countries = _cells(page, "delivery-country")
    expected = [(r["country"], str(r["delivered"]), str(r["late"])) for r in service["delivery"]["country"]]
    assert [(html.unescape(row[0]), row[1], row[2]) for row in countries] == expected
    late = service["after_late_delivery"]
    assert f"After a late delivery the 90-day repeat rate differs by {late['estimate']:+.3f}" in html.unescape(page)
    outs = service["stock_out_totals"]
    interval = f"{outs['lost_units']:.1f} (95 % interval {outs['lost_units_low']:.1f} to {outs['lost_units_high']:.1f})"
    assert f"estimated lost units {interval}" in html.unescape(page)
    assert as_role("vendor").get("/service").status_code == 403


def test_the_profit_route_and_the_acquisition_page_show_the_same_margins(
    as_role: Callable[[str], TestClient], demo_store: Store
) -> None:
    from tests.conftest import run_cli

    client = as_role("marketer")
    answer = client.get("/api/v1/profit", params={"by": "channel"})
    assert answer.status_code == 200
    document = answer.json()
    assert document["costs_known"] is True  # the demo catalogue has a cost for every product
    cli_document = run_cli(demo_store.home, "profit", "--by", "channel", "--json").json()
    assert [(g["channel"], Decimal(str(g["contribution_margin"]))) for g in document["groups"]] == [
        (g["channel"], Decimal(str(g["contribution_margin"]))) for g in cli_document["groups"]
    ]
    page = client.get("/acquisition").text
    shown = _cells(page, "profit-channels")
    columns = ["customers", "orders", "net_sales", "cost_of_goods", "payment_fees", "refunds", "contribution_margin"]
    assert [row[0] for row in shown] == [g["channel"] for g in document["groups"]]
    assert [[Decimal(cell.replace(",", "")) for cell in row[1 : len(columns) + 1]] for row in shown] == [
        [Decimal(str(g[name])) for name in columns] for g in document["groups"]
    ]
    curve = _cells(page, "profit-curve")
    twelve = {row[0]: float(row[3]) for row in curve if row[1] == "12"}
    expected = {
        g["channel"]: point["cumulative_margin_per_customer"]
        for g in document["groups"]
        for point in g["curve"]
        if point["month"] == 12
    }
    assert twelve == pytest.approx(expected, abs=5e-4)  # the page rounds to three decimals
    assert client.get("/api/v1/profit", params={"by": "weather"}).status_code == 422
    assert as_role("vendor").get("/api/v1/profit").status_code == 403


def test_the_guards_page_shows_the_flags_of_the_api_to_owners_and_analysts(
    as_role: Callable[[str], TestClient],
) -> None:
    client = as_role("analyst")
    thresholds = {"min_refunds": 1, "refund_factor": 1.5, "stack_discount_share": 0.2}
    flags = client.get("/api/v1/guard", params=thresholds).json()["flags"]
    assert flags, "thresholds this low flag some refunds in any demo store"
    page = client.get("/guard", params=thresholds)
    assert page.status_code == 200
    shown = [(html.unescape(row[0]), html.unescape(row[1])) for row in _cells(page.text, "guard-flags")]
    expected = sorted(flags, key=lambda f: (f["kind"], -f["score"]))
    assert shown == [(f["kind"].replace("_", " "), f["subject"]) for f in expected]
    assert 'href="/guard"' in page.text, "the menu links the page for an analyst"
    marketer = as_role("marketer")
    assert 'href="/guard"' not in marketer.get("/service").text, "a marketer's menu has no guards"
    assert (marketer.get("/guard").status_code, as_role("vendor").get("/guard").status_code) == (403, 403)


def test_the_customer_page_shows_the_profile_and_suggestions_of_the_api(
    as_role: Callable[[str], TestClient], demo_store: Store
) -> None:
    client = as_role("marketer")
    segment = max(client.get("/api/v1/rfm").json()["segments"], key=lambda s: s["customers"])["segment"]
    listing = client.get("/customers", params={"segment": segment}).text
    keys = re.findall(r'<a href="/customers/(c_[0-9a-f]+)"><code>', listing)
    assert keys, "the segment's customer list links each customer's page"
    shown = None
    for key in keys:  # the first customer whose profile may be shown (a refused consent has none)
        profile = client.get(f"/api/v1/customers/{key}/preferences")
        if profile.status_code == 200:
            shown = key
            break
    assert shown is not None
    page = client.get(f"/customers/{shown}")
    assert page.status_code == 200
    preferences = profile.json()["profile"]
    measures = {html.unescape(row[0]): html.unescape(row[1]) for row in _cells(page.text, "preferences")}
    assert measures["price band"] == preferences["price_band"]
    assert measures["orders"] == str(preferences["orders"])
    top = _cells(page.text, "top-products")
    assert len(top) == len(preferences["top_products"]) > 0
    pairs = zip(top, preferences["top_products"], strict=True)
    assert all(str(p["product_id"]) in map(html.unescape, row) for row, p in pairs)
    suggestions = client.get(f"/api/v1/customers/{shown}/suggestions").json()["suggestions"]
    listed = [html.unescape(row[1]) for row in _cells(page.text, "suggestions")]
    assert listed == [str(s["product_id"]) for s in suggestions]
    assert as_role("vendor").get(f"/customers/{shown}").status_code == 403
    unknown = client.get("/customers/c_" + "0" * 20)
    assert "no customer with this key has orders in the store" in unknown.text


def test_the_segment_shifts_page_shows_the_shifts_of_the_api(as_role: Callable[[str], TestClient]) -> None:
    client = as_role("marketer")
    every = client.get("/api/v1/preferences/shifts").json()
    assert every["segments"], "the demo store's segments bought in both windows"
    page = client.get("/segment-shifts").text
    assert "What each segment buys now against six months ago" in page
    for segment in every["segments"]:
        slug = "shifts-" + segment["segment"].lower().replace(" ", "-").replace("'", "")
        shown = [[html.unescape(cell) for cell in row] for row in _cells(page, slug)]
        expected = [
            [
                item["category"],
                str(round(item["share_now"], 3)),
                str(round(item["share_before"], 3)),
                str(round(item["change"], 3)),
            ]
            for item in segment["items"]
        ]
        assert [row[:4] for row in shown] == expected
        assert f"{segment['customers_now']} customers buying now, {segment['customers_before']} before" in page
    # the selector: one segment, by product, as GET /api/v1/preferences/shifts?segment=...&by=product
    chosen = every["segments"][0]["segment"]
    params = {"segment": chosen, "by": "product"}
    one = client.get("/api/v1/preferences/shifts", params=params).json()
    page = client.get("/segment-shifts", params=params).text
    assert f'<option value="{html.escape(chosen)}" selected>' in page
    [segment] = one["segments"]
    slug = "shifts-" + chosen.lower().replace(" ", "-").replace("'", "")
    assert [html.unescape(row[0]) for row in _cells(page, slug)] == [item["product"] for item in segment["items"]]
    assert page.count("<table id=") == 1
    assert client.get("/segment-shifts", params={"segment": ""}).text.count("<table id=") == len(every["segments"])
    assert "segment must be one of" in client.get("/segment-shifts", params={"segment": "Nobody"}).text
    assert as_role("vendor").get("/segment-shifts").status_code == 403


def test_the_overview_shows_the_latest_month_against_its_target(
    as_role: Callable[[str], TestClient], demo_store: Store
) -> None:
    from tests.conftest import run_cli

    client = as_role("vendor")  # store-level figures: a vendor sees them too
    latest = client.get("/api/v1/kpis", params={"grain": "month"}).json()["rows"][-1]
    month = str(latest["period"])[:7]
    assert (
        run_cli(demo_store.home, "targets", "set", "--kpi", "orders", "--period", month, "--value", "1").exit_code == 0
    )
    try:
        paced = run_cli(demo_store.home, "targets", "pacing", "--period", month, "--json").json()["targets"]
        page = client.get("/", params={"grain": "month"}).text
    finally:
        run_cli(demo_store.home, "targets", "delete", "--kpi", "orders", "--period", month)
    [row] = _cells(page, "against-target")
    assert row[:4] == ["orders", "all", "1.0", f"{round(paced[0]['actual'], 2)}"]
    assert row[5] == "yes"  # one order is met by any month of the demo
