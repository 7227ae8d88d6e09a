"""``shoplens config show|set|unset``: store settings kept in the home, environment overrides, analyses follow them."""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shoplens.config import SETTINGS_FILE, STORE_SETTING_KEYS

DEFAULTS = {"timezone": "UTC", "currency": "USD", "store_name": "My shop", "locale": "en_US", "warehouse_url": None}
WAREHOUSE_WITH_PASSWORD = "postgresql://shop:s3cret-Pa55@db.example:5432/shop"
WAREHOUSE_MASKED = "postgresql://shop:***@db.example:5432/shop"


@pytest.fixture(autouse=True)
def _no_store_settings_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in STORE_SETTING_KEYS:
        monkeypatch.delenv(f"SHOPLENS_{key.upper()}", raising=False)
    monkeypatch.delenv("SHOPLENS_STORE_TIMEZONE", raising=False)


def _one_error_line(result: Any) -> str:
    assert result.exit_code == 2, result.stdout
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return str(lines[0])


def _shown_rows(cli: Callable[..., Any]) -> dict[str, tuple[str, str]]:
    """``config show`` as {setting: (value, from)}: columns are separated by at least two spaces."""
    result = cli("config", "show")
    assert result.exit_code == 0, result.stderr
    title, header, *lines = result.stdout.splitlines()
    assert title.startswith("store settings of ")
    assert header.split() == ["setting", "value", "from"]
    rows = [re.split(r"\s{2,}", line.strip()) for line in lines]
    return {row[0]: (row[1], row[2]) for row in rows}


def test_show_on_a_fresh_home_prints_the_defaults(cli: Callable[..., Any], tmp_path: Path) -> None:
    result = cli("config", "show", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json() == DEFAULTS
    assert not (tmp_path / "home").exists(), "showing the settings writes nothing"


@pytest.mark.parametrize(
    ("key", "given_value", "kept"),
    [
        ("timezone", "America/New_York", "America/New_York"),
        ("currency", "eur", "EUR"),
        ("store_name", "  Tea & Co ", "Tea & Co"),
        ("locale", "zh-hk", "zh_HK"),
        ("warehouse_url", "spark://local", "spark://local"),
        ("warehouse_url", "sc://spark.example:15002", "sc://spark.example:15002"),
    ],
)
def test_set_then_show(cli: Callable[..., Any], tmp_path: Path, key: str, given_value: str, kept: str) -> None:
    stored = cli("config", "set", key, given_value, "--json")
    assert stored.exit_code == 0, stored.stderr
    assert stored.json() == {"key": key, "value": kept, "overridden_by": None, "audit_entry": 1}
    entries = cli("audit", "list", "--json").json()["entries"]
    assert [(e["action"], e["details"]) for e in entries] == [("config.set", {"key": key})]  # never the value
    assert cli("config", "show", "--json").json() == {**DEFAULTS, key: kept}
    assert json.loads((tmp_path / "home" / SETTINGS_FILE).read_text()) == {key: kept}
    assert _shown_rows(cli)[key] == (kept, "settings file")


def test_settings_build_up_and_unset_returns_to_the_default(cli: Callable[..., Any]) -> None:
    for key, value in [("timezone", "Europe/London"), ("currency", "GBP"), ("store_name", "Tea & Co")]:
        assert cli("config", "set", key, value).exit_code == 0
    assert cli("config", "show", "--json").json() == {
        **DEFAULTS,
        "timezone": "Europe/London",
        "currency": "GBP",
        "store_name": "Tea & Co",
    }
    removed = cli("config", "unset", "currency", "--json")
    assert removed.json() == {"key": "currency", "removed": True, "audit_entry": 4}
    assert cli("config", "unset", "currency", "--json").json() == {
        "key": "currency",
        "removed": False,
        "audit_entry": 5,
    }
    entries = cli("audit", "list", "--json").json()["entries"]
    assert [(e["action"], e["details"]) for e in entries[:2]] == [
        ("config.unset", {"key": "currency", "removed": False}),
        ("config.unset", {"key": "currency", "removed": True}),
    ]
    assert cli("config", "show", "--json").json()["currency"] == "USD"
    assert cli("config", "unset", "currency").stdout.strip() == "currency was not set"


def test_the_environment_overrides_the_file(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("config", "set", "timezone", "Asia/Hong_Kong")
    cli("config", "set", "locale", "en_HK")
    monkeypatch.setenv("SHOPLENS_TIMEZONE", "Europe/London")
    monkeypatch.setenv("SHOPLENS_STORE_NAME", "From the environment")
    assert cli("config", "show", "--json").json() == {
        **DEFAULTS,
        "timezone": "Europe/London",
        "store_name": "From the environment",
        "locale": "en_HK",
    }
    rows = _shown_rows(cli)
    assert rows["timezone"] == ("Europe/London", "environment (SHOPLENS_TIMEZONE)")
    assert rows["store_name"] == ("From the environment", "environment (SHOPLENS_STORE_NAME)")
    assert rows["locale"] == ("en_HK", "settings file")
    assert rows["currency"] == ("USD", "default")
    assert rows["warehouse_url"] == (f"DuckDB file {tmp_path / 'home' / 'warehouse.duckdb'}", "default")
    again = cli("config", "set", "timezone", "Asia/Tokyo")
    assert again.stdout.strip() == "timezone = Asia/Tokyo"
    assert again.stderr.strip() == "note: SHOPLENS_TIMEZONE is set and overrides this until it is unset"
    assert cli("config", "set", "timezone", "Asia/Tokyo", "--json").json()["overridden_by"] == "SHOPLENS_TIMEZONE"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("timezone", "Mars/Base", "error: unknown time zone 'Mars/Base'"),
        (
            "currency",
            "US$",
            "error: currency must be an ISO 4217 code of three letters such as USD or EUR, not 'US$'",
        ),
        ("locale", "english", "error: locale must be a language and region such as en_GB or zh_HK, not 'english'"),
        ("store_name", " ", "error: store_name must not be empty"),
        (
            "warehouse_url",
            "mysql://shop:s3cret@db/shop",
            "error: warehouse_url must start with postgresql://, postgresql+psycopg://, spark:// or sc:// and name a "
            "server, not 'mysql://shop:***@db/shop'",
        ),
        (
            "tz",
            "UTC",
            "error: unknown setting 'tz'; the settings are: timezone, currency, store_name, locale, warehouse_url",
        ),
    ],
)
def test_bad_key_or_value_exits_2_and_keeps_nothing(
    cli: Callable[..., Any], tmp_path: Path, key: str, value: str, message: str
) -> None:
    assert _one_error_line(cli("config", "set", key, value, "--json")) == message
    assert not (tmp_path / "home" / SETTINGS_FILE).exists()


def test_unset_of_an_unknown_key_exits_2(cli: Callable[..., Any]) -> None:
    assert _one_error_line(cli("config", "unset", "colour")) == (
        "error: unknown setting 'colour'; the settings are: timezone, currency, store_name, locale, warehouse_url"
    )


def test_a_warehouse_password_is_kept_but_never_shown(cli: Callable[..., Any], tmp_path: Path) -> None:
    stored = cli("config", "set", "warehouse_url", WAREHOUSE_WITH_PASSWORD)
    assert stored.stdout.strip() == f"warehouse_url = {WAREHOUSE_MASKED}"
    as_json = cli("config", "set", "warehouse_url", WAREHOUSE_WITH_PASSWORD, "--json")
    assert as_json.json()["value"] == WAREHOUSE_MASKED
    shown = cli("config", "show", "--json")
    assert shown.json()["warehouse_url"] == WAREHOUSE_MASKED
    text = cli("config", "show").stdout
    assert WAREHOUSE_MASKED in text
    for output in (stored.stdout, as_json.stdout, shown.stdout, text):
        assert "s3cret" not in output
    settings_file = tmp_path / "home" / SETTINGS_FILE
    assert json.loads(settings_file.read_text()) == {"warehouse_url": WAREHOUSE_WITH_PASSWORD}
    assert stat.S_IMODE(settings_file.stat().st_mode) == 0o600


def test_a_bad_setting_stops_other_commands_naming_where_it_is(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warehouse_engine: str
) -> None:
    monkeypatch.setenv("SHOPLENS_TIMEZONE", "Mars/Base")
    assert _one_error_line(cli("status", "--json")) == (
        "error: settings: timezone from the environment (SHOPLENS_TIMEZONE): unknown time zone 'Mars/Base'"
    )
    assert _one_error_line(cli("config", "show", "--json")) == (
        "error: settings: timezone from the environment (SHOPLENS_TIMEZONE): unknown time zone 'Mars/Base'"
    )
    monkeypatch.delenv("SHOPLENS_TIMEZONE")
    home = tmp_path / "home"
    home.mkdir()
    (home / SETTINGS_FILE).write_text('{"timezone": "Mars/Base"}')  # edited by hand
    assert _one_error_line(cli("status", "--json")) == (
        f"error: settings: timezone in {home / SETTINGS_FILE}: unknown time zone 'Mars/Base' "
        "(change it with shoplens config set)"
    )
    repaired = cli("config", "set", "timezone", "Europe/Paris")
    assert repaired.exit_code == 0, repaired.stderr
    assert cli("status", "--json").exit_code == 0


ORDERS_NEAR_MIDNIGHT = """order_id,ordered_at,customer_id,product_id,quantity,unit_price
A-1,2024-03-10 10:00:00,c1,P1,1,10.00
A-2,2024-03-10 20:30:00,c2,P1,2,15.00
"""
MAPPING = """columns: {order_id: order_id, ordered_at: ordered_at, customer_id: customer_id, product_id: product_id,
          quantity: quantity, unit_price: unit_price}
date_format: ["%Y-%m-%d %H:%M:%S"]
timezone: UTC
"""


def _orders_per_day(cli: Callable[..., Any]) -> dict[str, tuple[int, float]]:
    result = cli("kpis", "--grain", "day", "--json")
    assert result.exit_code == 0, result.stderr
    return {row["period"]: (row["orders"], row["revenue"]) for row in result.json()["rows"]}


def test_the_time_zone_set_for_the_store_moves_an_order_to_its_local_day(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warehouse_engine: str
) -> None:
    data, mapping = tmp_path / "orders.csv", tmp_path / "mapping.yaml"
    data.write_text(ORDERS_NEAR_MIDNIGHT)
    mapping.write_text(MAPPING)
    imported = cli("import", str(data), "--profile", "generic", "--mapping", str(mapping), "--json")
    assert imported.exit_code == 0, imported.stderr
    # In UTC both orders are on 10 March: A-1 for 1 x 10.00, A-2 for 2 x 15.00.
    assert _orders_per_day(cli) == {"2024-03-10": (2, 40.0)}
    # Hong Kong is UTC+8 all year: 10:00Z is 18:00 on 10 March there, 20:30Z is 04:30 on 11 March.
    assert cli("config", "set", "timezone", "Asia/Hong_Kong").exit_code == 0
    assert _orders_per_day(cli) == {"2024-03-10": (1, 10.0), "2024-03-11": (1, 30.0)}
    # The environment still overrides the stored zone for one run.
    monkeypatch.setenv("SHOPLENS_TIMEZONE", "UTC")
    assert _orders_per_day(cli) == {"2024-03-10": (2, 40.0)}


@pytest.mark.parametrize("command", ["show", "set", "unset"])
def test_each_config_command_has_help_with_an_example_and_json(cli: Callable[..., Any], command: str) -> None:
    result = cli("config", command, "--help")
    assert result.exit_code == 0
    assert "--json" in result.stdout
    assert "Example" in result.stdout
