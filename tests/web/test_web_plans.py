"""Joint plans over the API and on the Acquisition & plans page: who may change and read them, the same progress
as the command line, and what a partner's vendor account sees of its own plan."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.conftest import CliResult
from tests.web.conftest import Store, logged_in, table_values

from shoplens.actions import period_label, shift_months
from shoplens.config import Settings
from shoplens.privacy import DEFAULT_K
from shoplens.web import create_app
from shoplens.web._auth import token_principal


@pytest.fixture
def app(own_store: Path) -> FastAPI:
    return create_app(Settings(home=own_store))


def _last_month(home: Path) -> date:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        [(last,)] = con.sql("SELECT max(ordered_at)::DATE FROM orders").fetchall()
    return date(last.year, last.month, 1)


def _client(app: FastAPI, store: Store, role: str) -> TestClient:
    return TestClient(app, headers={"Authorization": f"Bearer {store.tokens[role]}"})


def _plan(month: date, **extra: Any) -> dict[str, Any]:
    later = shift_months(month, 1)
    return {
        "partner": "Studio Nord",
        "kind": "web_designer",
        "starts": str(month),
        "ends": str(shift_months(month, 2) - timedelta(days=1)),
        "goals": ["A faster checkout"],
        "datasets": ["funnel_dropoffs", "response_times"],
        # the data's last month, and the month after it (no customers yet: held back from a vendor)
        "kpis": [
            {"kpi": "revenue", "period": period_label(month), "value": 50_000},
            {"kpi": "orders", "period": period_label(month), "value": 100},
            {"kpi": "orders", "period": period_label(later), "value": 100},
        ],
        **extra,
    }


def test_owners_change_readers_read_and_every_change_is_audited(
    app: FastAPI, demo_store: Store, own_store: Path
) -> None:
    month = _last_month(own_store)
    body = _plan(month)
    assert _client(app, demo_store, "analyst").post("/api/v1/plans", json=body).status_code == 403
    assert _client(app, demo_store, "vendor").get("/api/v1/plans").status_code == 403
    owner = _client(app, demo_store, "owner")
    created = owner.post("/api/v1/plans", json=body)
    assert created.status_code == 201, created.text
    plan = created.json()["plan"]
    assert (plan["partner"], plan["kind"], plan["datasets"]) == (
        "Studio Nord",
        "web_designer",
        ["funnel_dropoffs", "response_times"],
    )
    for role in ("owner", "analyst", "marketer"):
        listed = _client(app, demo_store, role).get("/api/v1/plans")
        assert [p["plan_id"] for p in listed.json()["plans"]] == [plan["plan_id"]], role
    bad = owner.post("/api/v1/plans", json={**body, "datasets": ["emails"]})
    assert (bad.status_code, bad.json()["error"]["message"]) == (
        400,
        "unknown dataset 'emails'; the share package's datasets are: funnel_dropoffs, segment_preferences, "
        "product_affinity, response_times",
    )
    assert owner.post("/api/v1/plans", json={**body, "kind": "bank"}).status_code == 400
    deleted = owner.delete(f"/api/v1/plans/{plan['plan_id']}")
    assert deleted.status_code == 200, deleted.text
    assert owner.get(f"/api/v1/plans/{plan['plan_id']}").status_code == 404
    entries = app.state.app_database.newest_audit_rows(2)
    assert [(row.action, row.actor) for row in entries] == [
        ("plan.delete", f"token:{_token_id(app, demo_store, 'owner')}"),
        ("plan.create", f"token:{_token_id(app, demo_store, 'owner')}"),
    ]
    assert '"via":"web"' in entries[0].details
    assert "Studio" not in entries[0].details


def _token_id(app: FastAPI, store: Store, role: str) -> str:
    principal = token_principal(app.state.app_database, store.tokens[role])
    assert principal is not None
    return principal.key


def test_the_api_the_page_and_the_command_line_show_the_same_progress(
    app: FastAPI, demo_store: Store, own_store: Path, cli: Callable[..., CliResult]
) -> None:
    month = _last_month(own_store)
    plan_id = _client(app, demo_store, "owner").post("/api/v1/plans", json=_plan(month)).json()["plan"]["plan_id"]
    api = _client(app, demo_store, "analyst").get(f"/api/v1/plans/{plan_id}/progress").json()
    command = cli("plans", "progress", str(plan_id), "--json", home_dir=own_store)
    assert command.exit_code == 0, command.stderr
    assert api["kpis"] == command.json()["kpis"]
    rows = {(row["kpi"], row["period"]): row for row in api["kpis"]}
    later = period_label(shift_months(month, 1))
    assert rows[("orders", later)]["customers"] == 0
    # the customers behind the last month are those of its row in GET /api/v1/kpis?grain=month
    monthly = _client(app, demo_store, "analyst").get("/api/v1/kpis", params={"grain": "month"}).json()["rows"]
    last = next(row for row in monthly if row["period"] == str(month))
    this = period_label(month)
    assert rows[("orders", this)]["customers"] == rows[("revenue", this)]["customers"] == last["customers"] > DEFAULT_K
    assert rows[("orders", this)]["actual"] == last["orders"]
    assert rows[("revenue", this)]["actual"] == pytest.approx(float(last["revenue"]))
    html = logged_in(app, demo_store, "owner").get("/acquisition").text
    cells = table_values(html, "partner-plans")
    assert len(cells) == 3
    for row, kpi in zip(cells, api["kpis"], strict=True):
        assert row[5:8] == [kpi["kpi"], kpi["period"], "–"]
        assert row[8:12] == [_shown(kpi[name]) for name in ("target", "actual", "projected", "on_track")]


def _shown(value: Any) -> str:
    """A value as the page's table prints it: rounded to 3 decimals, a dash for none."""
    if value is None:
        return "–"
    return str(round(value, 3) if isinstance(value, float) else value)


def test_a_partners_vendor_account_sees_its_own_plan_under_the_k_rule(
    app: FastAPI, demo_store: Store, own_store: Path
) -> None:
    month = _last_month(own_store)
    owner = _client(app, demo_store, "owner")
    own = owner.post("/api/v1/plans", json=_plan(month, partner_account=demo_store.email("vendor"))).json()["plan"]
    other = owner.post("/api/v1/plans", json=_plan(month)).json()["plan"]
    vendor = logged_in(app, demo_store, "vendor")
    everyone = owner.get(f"/api/v1/plans/{own['plan_id']}/progress").json()
    seen = vendor.get(f"/api/v1/plans/{own['plan_id']}/progress")
    assert seen.status_code == 200, seen.text
    document = seen.json()
    assert document["kpis"] == [row for row in everyone["kpis"] if row["customers"] >= DEFAULT_K]
    assert len(document["kpis"]) == 2  # the month after the data end has no customers: held back
    assert document["vendor_rule"]["suppressed_rows"] == {"kpis": 1}
    assert document["datasets"] == ["funnel_dropoffs", "response_times"]
    for refused in (
        vendor.get(f"/api/v1/plans/{other['plan_id']}/progress"),
        vendor.get("/api/v1/plans/999/progress"),  # the same answer as another's plan: no id is given away
        _client(app, demo_store, "vendor").get(f"/api/v1/plans/{own['plan_id']}/progress"),  # a token names no one
    ):
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "forbidden"
