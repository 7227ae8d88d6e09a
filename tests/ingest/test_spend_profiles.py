"""Google Ads and Meta Ads spend files into marketing_spend: totals against the files, micros, the channel rule,
report totals and bad rows quarantined, re-imports, ads summed to campaigns."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from tests.conftest import fetch

from shoplens.config import Settings
from shoplens.ingest import CsvDialect
from shoplens.warehouse import connect, read_header

ADS = Path(__file__).parent / "data" / "ads"
GOOGLE_REPORT = ADS / "google_ads_campaign_report.csv"
GOOGLE_STATS = ADS / "google_ads_campaign_stats.csv"
GOOGLE_CAMPAIGNS = ADS / "google_ads_campaign_history.csv"
META_REPORT = ADS / "meta_ads_manager_export.csv"
META_ADS = ADS / "facebook_ads_basic_ad.csv"
META_AD_HISTORY = ADS / "facebook_ads_ad_history.csv"
# The documented channel rule, by Google Ads campaign type.
CHANNEL_OF_TYPE = {
    "Search": "paid_search",
    "Shopping": "shopping",
    "Performance Max": "shopping",
    "Display": "display",
    "Video": "video",
    "App": "paid_search",
}


def _number(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def _google_report_rows(path: Path) -> list[dict[str, str]]:
    """The report's day rows, read with the csv module: two title lines, then the header; totals left out."""
    with path.open(newline="", encoding="utf-8") as handle:
        lines = handle.readlines()[2:]
    return [row for row in csv.DictReader(lines) if not row["Day"].startswith("Total")]


def _import(cli: Callable[..., Any], path: Path, profile: str) -> dict[str, Any]:
    result = cli("import", str(path), "--profile", profile, "--json")
    assert result.exit_code == 0, result.stderr
    summary: dict[str, Any] = result.json()
    assert summary["rows_read"] == summary["rows_loaded"] + summary["rows_quarantined"] + summary["rows_duplicate"]
    return summary


def _assert_reimport_adds_nothing(cli: Callable[..., Any], path: Path, profile: str, home: Path) -> None:
    before = fetch(home, "SELECT count(*), sum(amount) FROM marketing_spend")
    again = _import(cli, path, profile)
    assert again["rows_loaded"] == 0
    assert again["rows_duplicate"] == again["rows_read"] - again["rows_quarantined"]
    assert fetch(home, "SELECT count(*), sum(amount) FROM marketing_spend") == before


def test_google_ads_report_totals_channels_and_total_rows(cli: Callable[..., Any], tmp_path: Path) -> None:
    home = tmp_path / "home"
    rows = _google_report_rows(GOOGLE_REPORT)
    summary = _import(cli, GOOGLE_REPORT, "google-ads")
    # The three "Total: ..." lines are quarantined as report totals, counted; every day row is loaded.
    with GOOGLE_REPORT.open(newline="") as handle:
        records = list(csv.reader(handle.readlines()[3:]))
    total_records = [i for i, r in enumerate(records, start=1) if r[0].startswith("Total:")]
    assert len(total_records) == 3
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"]) == (len(records), len(rows), 3)
    quarantine = pd.read_csv(summary["quarantine_path"])
    assert quarantine["row"].tolist() == total_records
    assert set(quarantine["reason"]) == {"a report total, not a campaign's day (the rows above add up to it)"}

    per_campaign: dict[str, Decimal] = defaultdict(Decimal)
    per_day: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        per_campaign[row["Campaign"]] += _number(row["Cost"])
        per_day[row["Day"]] += _number(row["Cost"])
    stored = fetch(home, "SELECT campaign, sum(amount) FROM marketing_spend GROUP BY campaign")
    assert dict(stored) == per_campaign
    stored_days = fetch(home, "SELECT strftime(date, '%Y-%m-%d'), sum(amount) FROM marketing_spend GROUP BY date")
    assert dict(stored_days) == per_day
    impressions = sum(int(_number(r["Impr."])) for r in rows)
    clicks = sum(int(_number(r["Clicks"])) for r in rows)
    assert fetch(home, "SELECT sum(impressions), sum(clicks) FROM marketing_spend") == [(impressions, clicks)]
    # The report's own total line agrees with the loaded rows.
    account_total = next(r for r in records if r[0] == "Total: Account")
    assert sum(per_day.values()) == _number(account_total[5])

    channels = dict(fetch(home, "SELECT DISTINCT campaign, channel FROM marketing_spend"))
    assert channels == {r["Campaign"]: CHANNEL_OF_TYPE[r["Campaign type"]] for r in rows}
    assert fetch(home, "SELECT DISTINCT platform, currency FROM marketing_spend") == [("google_ads", "USD")]
    _assert_reimport_adds_nothing(cli, GOOGLE_REPORT, "google-ads", home)


def test_google_ads_report_without_title_lines(cli: Callable[..., Any], tmp_path: Path) -> None:
    """A report saved without the title and date-range lines reads the same."""
    plain = tmp_path / "report.csv"
    plain.write_text("".join(GOOGLE_REPORT.read_text().splitlines(keepends=True)[2:]))
    summary = _import(cli, plain, "google-ads")
    assert (summary["rows_loaded"], summary["rows_quarantined"]) == (len(_google_report_rows(GOOGLE_REPORT)), 3)


def test_google_ads_report_bad_rows_quarantined(cli: Callable[..., Any], tmp_path: Path) -> None:
    bad = tmp_path / "report.csv"
    bad.write_text(
        "Campaign report\nDecember 1, 2024 - December 2, 2024\n"
        "Day,Campaign,Campaign type,Currency code,Cost,Impr.,Clicks\n"
        "2024-12-01,Brand,Search,USD,10.00,100,5\n"
        "2024-12-01,Shopping,Shopping,USD,about ten,100,5\n"
        "2024-13-45,Brand,Search,USD,10.00,100,5\n"
        "2024-12-02,Brand,Search,USD,12.50,120,6,extra\n"
        "Total: Account,--,--,USD,10.00,100,5\n"
    )
    summary = _import(cli, bad, "google-ads")
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"]) == (5, 1, 4)
    quarantine = pd.read_csv(summary["quarantine_path"])
    assert quarantine[["row", "reason"]].values.tolist() == [
        [2, "not a number"],
        [3, "unparseable date"],
        [4, "too many fields"],
        [5, "a report total, not a campaign's day (the rows above add up to it)"],
    ]
    assert quarantine["column"].fillna("").tolist() == ["Cost", "Day", "", "Day"]
    assert fetch(tmp_path / "home", "SELECT campaign, amount FROM marketing_spend") == [("Brand", Decimal("10.00"))]


def test_google_ads_api_stats_micros_and_ids(cli: Callable[..., Any], tmp_path: Path) -> None:
    home = tmp_path / "home"
    stats = pd.read_csv(GOOGLE_STATS, dtype=str)
    summary = _import(cli, GOOGLE_STATS, "google-ads")
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"]) == (len(stats), len(stats), 0)
    assert "the file has no campaign names: the campaign is its id" in summary["warnings"]
    expected = {day: Decimal(int(m)) / 1_000_000 for day, m in zip(stats["date"], stats["cost_micros"], strict=True)}
    stored = fetch(home, "SELECT strftime(date, '%Y-%m-%d'), amount FROM marketing_spend")
    assert dict(stored) == expected
    assert fetch(home, "SELECT DISTINCT campaign, channel, platform FROM marketing_spend") == [
        (stats["id"][0], "paid_search", "google_ads")
    ]
    assert fetch(home, "SELECT sum(impressions), sum(clicks) FROM marketing_spend") == [
        (stats["impressions"].astype(int).sum(), stats["clicks"].astype(int).sum())
    ]
    _assert_reimport_adds_nothing(cli, GOOGLE_STATS, "google-ads", home)


def test_google_ads_api_joined_to_names_sums_devices(cli: Callable[..., Any], tmp_path: Path) -> None:
    """Stats joined to the campaign's latest name and type; a second device's rows add to the same day."""
    home = tmp_path / "home"
    stats = pd.read_csv(GOOGLE_STATS, dtype=str)
    history = pd.read_csv(GOOGLE_CAMPAIGNS, dtype=str).sort_values("updated_at").drop_duplicates("id", keep="last")
    joined = stats.merge(history[["id", "name", "advertising_channel_type"]], on="id")
    joined = joined.rename(columns={"name": "campaign_name", "id": "campaign_id"})
    desktop = joined.assign(device="DESKTOP", cost_micros="1250000", impressions="10", clicks="1")
    both = pd.concat([joined, desktop])
    path = tmp_path / "stats_with_names.csv"
    both.to_csv(path, index=False)
    summary = _import(cli, path, "google-ads")
    assert (summary["rows_loaded"], summary["rows_duplicate"]) == (len(both), 0)
    assert f"{len(both)} marketing_spend rows with the same date, channel, campaign were summed into" in " ".join(
        summary["warnings"]
    )
    per_day = both.assign(cost=both["cost_micros"].map(lambda m: Decimal(int(m)) / 1_000_000)).groupby("date")["cost"]
    stored = fetch(home, "SELECT strftime(date, '%Y-%m-%d'), campaign, channel, amount FROM marketing_spend")
    assert {r[0]: r[3] for r in stored} == per_day.sum().to_dict()
    assert {(r[1], r[2]) for r in stored} == {(history["name"].iloc[0], "paid_search")}
    assert len(stored) == stats["date"].nunique()
    _assert_reimport_adds_nothing(cli, path, "google-ads", home)


def test_google_ads_api_bad_micros_quarantined(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = tmp_path / "stats.csv"
    path.write_text(
        "date,campaign_id,cost_micros,impressions,clicks\n"
        "2024-12-01,111,1234567,10,1\n"
        "2024-12-02,111,n/a,10,1\n"
        "12/40/2024,111,1000000,10,1\n"
    )
    summary = _import(cli, path, "google-ads")
    quarantine = pd.read_csv(summary["quarantine_path"])
    assert quarantine[["row", "column", "reason"]].values.tolist() == [
        [2, "amount", "not a number"],
        [3, "date", "unparseable date"],
    ]
    # 1,234,567 micros = 1.234567, kept to the cent.
    assert fetch(tmp_path / "home", "SELECT amount FROM marketing_spend") == [(Decimal("1.23"),)]


def test_meta_ads_report_sums_ads_to_campaign_days(cli: Callable[..., Any], tmp_path: Path) -> None:
    home = tmp_path / "home"
    with META_REPORT.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    expected: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [Decimal(0), 0])
    for row in rows:
        key = (row["Day"], row["Campaign name"])
        expected[key][0] += Decimal(row["Amount spent (EUR)"])
        expected[key][1] += int(row["Impressions"])
    summary = _import(cli, META_REPORT, "meta-ads")
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"]) == (len(rows), len(rows), 0)
    assert (
        f"{len(rows)} marketing_spend rows with the same date, channel, campaign were summed into {len(expected)}"
        in (summary["warnings"])
    )
    stored = fetch(
        home, "SELECT strftime(date, '%Y-%m-%d'), campaign, amount, impressions, channel, currency FROM marketing_spend"
    )
    assert {(r[0], r[1]): [r[2], r[3]] for r in stored} == expected
    assert {(r[4], r[5]) for r in stored} == {("paid_social", "EUR")}
    # "Link clicks" left empty on every row of a campaign's day stays unknown, not zero.
    clicks = dict(
        fetch(home, "SELECT strftime(date, '%Y-%m-%d'), clicks FROM marketing_spend WHERE campaign = 'Brand awareness'")
    )
    assert clicks == {"2024-12-01": None, "2024-12-02": 3}
    _assert_reimport_adds_nothing(cli, META_REPORT, "meta-ads", home)


def test_meta_ads_report_over_several_days_quarantined(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = tmp_path / "meta.csv"
    path.write_text(
        "Reporting starts,Reporting ends,Campaign name,Amount spent (USD),Impressions,Clicks (all)\n"
        "2024-12-01,2024-12-01,Winter sale,20.00,1000,30\n"
        "2024-12-01,2024-12-07,Winter sale,140.00,7000,210\n"
        "2024-12-02,2024-12-02,Winter sale,twenty,1000,30\n"
    )
    summary = _import(cli, path, "meta-ads")
    quarantine = pd.read_csv(summary["quarantine_path"])
    assert quarantine[["row", "column", "reason"]].values.tolist() == [
        [
            2,
            "Reporting ends",
            "spend over several days (Reporting starts to Reporting ends): export with the breakdown by day",
        ],
        [3, "Amount spent (USD)", "not a number"],
    ]
    assert fetch(tmp_path / "home", "SELECT date::VARCHAR, amount, clicks, currency FROM marketing_spend") == [
        ("2024-12-01", Decimal("20.00"), 30, "USD")
    ]


def test_meta_ads_basic_ad_rows_are_per_ad(cli: Callable[..., Any], tmp_path: Path) -> None:
    home = tmp_path / "home"
    ads = pd.read_csv(META_ADS, dtype=str)
    summary = _import(cli, META_ADS, "meta-ads")
    assert (summary["rows_loaded"], summary["rows_quarantined"]) == (len(ads), 0)
    assert "the file does not link ads to campaigns: each ad's id stands for its campaign" in summary["warnings"]
    stored = fetch(home, "SELECT strftime(date, '%Y-%m-%d'), campaign, amount, clicks FROM marketing_spend")
    expected = {
        (d, a): (Decimal(s).quantize(Decimal("0.01")), int(c))
        for d, a, s, c in zip(ads["date"], ads["ad_id"], ads["spend"], ads["inline_link_clicks"], strict=True)
    }
    assert {(r[0], r[1]): (r[2], r[3]) for r in stored} == expected
    _assert_reimport_adds_nothing(cli, META_ADS, "meta-ads", home)


def test_meta_ads_basic_ad_linked_to_campaigns(cli: Callable[..., Any], tmp_path: Path) -> None:
    """With the ad history's campaign_id joined in, ads are summed to their campaign's day."""
    home = tmp_path / "home"
    ads = pd.read_csv(META_ADS, dtype=str)
    links = pd.read_csv(META_AD_HISTORY, dtype=str).drop_duplicates("id")[["id", "campaign_id"]]
    joined = ads.merge(links, left_on="ad_id", right_on="id").drop(columns="id")
    # A second ad of the first campaign on the same day, so that two ads make one row.
    extra = joined.iloc[[0]].assign(ad_id="999", spend="10.00", impressions="100", inline_link_clicks="2")
    both = pd.concat([joined, extra])
    path = tmp_path / "basic_ad_with_campaigns.csv"
    both.to_csv(path, index=False)
    summary = _import(cli, path, "meta-ads")
    assert summary["rows_loaded"] == len(both)
    expected = both.assign(cost=both["spend"].map(Decimal)).groupby(["date", "campaign_id"])["cost"].sum().to_dict()
    stored = fetch(home, "SELECT strftime(date, '%Y-%m-%d'), campaign, amount FROM marketing_spend")
    assert {(r[0], r[1]): r[2] for r in stored} == expected
    assert len(stored) == len(both) - 1
    _assert_reimport_adds_nothing(cli, path, "meta-ads", home)


def test_ads_files_of_another_shape_are_refused(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("when,what,cost\n2024-12-01,x,1\n")
    result = cli("import", str(path), "--profile", "google-ads", "--json")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {path}: not a google-ads export, missing column(s): date, cost_micros"
    )


def test_summed_spend_on_every_engine(cli: Callable[..., Any], tmp_path: Path, warehouse_engine: str) -> None:
    """Ads summed to campaign days and re-imported: the same rows in a DuckDB and a PostgreSQL warehouse."""
    home = tmp_path / "home"
    with META_REPORT.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        expected[(row["Day"], row["Campaign name"])] += Decimal(row["Amount spent (EUR)"])
    first = _import(cli, META_REPORT, "meta-ads")
    again = _import(cli, META_REPORT, "meta-ads")
    assert (first["rows_loaded"], again["rows_loaded"], again["rows_duplicate"]) == (len(rows), 0, len(rows))
    with connect(Settings(home=home), read_only=True) as warehouse:
        spend = warehouse.backend.to_pandas(warehouse.backend.table("marketing_spend"))
    stored = {
        (pd.Timestamp(d).strftime("%Y-%m-%d"), c): Decimal(str(a))
        for d, c, a in zip(spend["date"], spend["campaign"], spend["amount"], strict=True)
    }
    assert stored == expected


def test_ads_files_are_told_from_their_header(cli: Callable[..., Any], tmp_path: Path) -> None:
    """Without --profile: the report download's header is found below its title lines."""
    for path, profile in [
        (GOOGLE_REPORT, "google-ads"),
        (GOOGLE_STATS, "google-ads"),
        (META_REPORT, "meta-ads"),
        (META_ADS, "meta-ads"),
    ]:
        summary = cli("import", str(path), "--json", home_dir=tmp_path / profile / path.stem).json()
        assert summary["profile"] == profile


def test_a_header_is_looked_for_below_title_lines_only_when_asked(tmp_path: Path) -> None:
    report = tmp_path / "report.csv"
    report.write_text("Campaign report\nDecember 1, 2024 - December 3, 2024\nDay,Campaign,Cost\n2024-12-01,A,1\n")
    assert read_header(report, CsvDialect(header_with=("Day", "Campaign", "Cost"))) == ["Day", "Campaign", "Cost"]
    assert read_header(report, CsvDialect()) == ["Campaign report"]
    # A file without that header keeps its first line, even when a later line is not valid UTF-8.
    latin = tmp_path / "latin.csv"
    latin.write_bytes("Invoice,Description\n1,Caf\xe9 chair\n".encode("latin-1"))
    assert read_header(latin, CsvDialect(header_with=("Day", "Campaign", "Cost"))) == ["Invoice", "Description"]


def test_spend_in_another_currency_is_kept_and_said(cli: Callable[..., Any], tmp_path: Path) -> None:
    """The Meta export is in EUR; the store reports in USD: the amounts stay EUR and the import says so."""
    export = Path(__file__).parent / "data" / "ads" / "meta_ads_manager_export.csv"
    summary = cli("import", str(export), "--json").json()
    assert summary["currencies"] == ["EUR"]
    assert summary["warnings"][-1] == "amounts in EUR are kept as given, not converted to the store's USD"
    assert cli("config", "set", "currency", "EUR").exit_code == 0
    again = cli("import", str(export), "--json").json()
    assert not any("not converted" in warning for warning in again["warnings"])
