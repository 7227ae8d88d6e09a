"""A third-party profile registers through the same interface the built-ins use (or an entry point of an installed
package), and imports like them."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from shoplens import RowRule, SalesMapping, SourceProfile, register_profile, registered_profiles
from shoplens.ingest import col


@pytest.fixture(autouse=True)
def _registry_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    """The profiles these tests register are gone after each test, so that other tests see only the built-ins."""
    from shoplens.ingest import _profile

    monkeypatch.setattr(_profile, "_REGISTRY", dict(_profile._REGISTRY))
    monkeypatch.setattr(_profile, "_ENTRY_POINTS_READ", set(_profile._ENTRY_POINTS_READ))


def _build(header: Sequence[str], mapping: Mapping[str, object] | None) -> SalesMapping:
    return SalesMapping(
        expressions={
            "order_id": col("ticket"),
            "ordered_at": col("when"),
            "quantity": "'1'",
            "unit_price": col("total"),
            "customer_id": col("member"),
        },
        rules=(RowRule("total", "market stall sales above 500 need a manager's check", "unit_price > 500"),),
    )


def test_registered_profile_is_listed_and_imports(cli: Callable[..., Any], tmp_path: Path) -> None:
    register_profile(SourceProfile("market-stall", "till receipts", ("ticket", "when", "total", "member"), _build))
    assert "market-stall" in registered_profiles()
    listed = cli("profiles", "--json").json()["profiles"]
    assert "market-stall" in [p["name"] for p in listed]
    data = tmp_path / "till.csv"
    data.write_text("ticket,when,total,member\nT1,2024-02-10 11:00:00,12.50,M7\nT2,2024-02-10 12:00:00,900,M8\n")
    summary = cli("import", str(data), "--profile", "market-stall", "--json").json()
    assert (summary["rows_loaded"], summary["rows_quarantined"]) == (1, 1)
    with duckdb.connect(str(tmp_path / "home" / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT order_id, net FROM orders").fetchall() == [("T1", Decimal("12.50"))]


FAKE_PLUGIN = """
from shoplens import SalesMapping, SourceProfile


def _build(header, mapping):
    return SalesMapping(
        expressions={"order_id": '"slip"', "ordered_at": '"sold"', "quantity": "'1'", "unit_price": '"paid"'},
        currency="EUR",
    )


PROFILE = SourceProfile("flea-market", "flea market till slips", ("slip", "sold", "paid"), _build)


def make_profile():
    return SourceProfile("car-boot", "car boot sale notes", ("slip", "sold", "paid"), _build)
"""


def _install_fake_distribution(folder: Path) -> None:
    """A package ``fake_till_plugin`` and its dist-info with entry points, as ``pip install`` would leave them."""
    (folder / "fake_till_plugin.py").write_text(FAKE_PLUGIN)
    info = folder / "fake_till_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-till-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[shoplens.profiles]\n"
        "flea-market = fake_till_plugin:PROFILE\n"
        "car-boot = fake_till_plugin:make_profile\n"
        "broken = fake_till_plugin:no_such_name\n"
    )


def test_an_installed_package_registers_profiles_through_entry_points(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    _install_fake_distribution(site)
    monkeypatch.syspath_prepend(str(site))
    with caplog.at_level(logging.WARNING, logger="shoplens.ingest._profile"):
        profiles = registered_profiles()
    assert {"flea-market", "car-boot"} <= set(profiles)
    assert profiles["car-boot"].description == "car boot sale notes"
    assert "broken" not in profiles
    assert "fake_till_plugin:no_such_name could not be loaded" in caplog.text
    data = tmp_path / "slips.csv"
    data.write_text("slip,sold,paid\nS1,2024-03-02 09:30:00,4.00\nS2,2024-03-02 09:45:00,-1\n")
    summary = cli("import", str(data), "--profile", "flea-market", "--json").json()
    assert (summary["profile"], summary["rows_loaded"], summary["rows_quarantined"]) == ("flea-market", 1, 1)
    with duckdb.connect(str(tmp_path / "home" / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT order_id, net, currency FROM orders").fetchall() == [("S1", Decimal("4.00"), "EUR")]
