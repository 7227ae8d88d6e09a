"""Preference profiles through the API and the command line on the demo store: status codes, the one error shape,
consent honoured, and the same answer from both."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient
from tests.conftest import run_cli
from tests.web.conftest import Store

from shoplens.metrics import NOT_PURCHASED_STATUSES, SEGMENT_NAMES
from shoplens.queries._preferences import NO_CONSENT, UNKNOWN_CUSTOMER

NOBODY = "c_" + "0" * 20


def as_numbers(value: Any) -> Any:
    """``value`` with every number, and every text that is a number, as a Decimal."""
    if isinstance(value, dict):
        return {key: as_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_numbers(item) for item in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    return value


def customers_with_orders(store: Store, consent: bool) -> list[str]:
    """Keys of customers with purchases whose marketing consent is ``consent``, most orders first."""
    statuses = ", ".join(f"'{status}'" for status in NOT_PURCHASED_STATUSES)
    with duckdb.connect(str(store.home / "warehouse.duckdb"), read_only=True) as con:
        found = con.execute(
            "SELECT o.customer_key FROM orders o JOIN customers c USING (customer_key) "
            f"WHERE c.consent_marketing = ? AND coalesce(o.status, '') NOT IN ({statuses}) "
            "GROUP BY 1 ORDER BY count(*) DESC, 1",
            [consent],
        ).fetchall()
    return [row[0] for row in found]


def purchases_of(store: Store, key: str) -> int:
    statuses = ", ".join(f"'{status}'" for status in NOT_PURCHASED_STATUSES)
    with duckdb.connect(str(store.home / "warehouse.duckdb"), read_only=True) as con:
        found = con.execute(
            f"SELECT count(*) FROM orders WHERE customer_key = ? AND coalesce(status, '') NOT IN ({statuses})", [key]
        ).fetchall()
    return int(found[0][0])


def test_a_customers_profile_is_for_customer_level_roles(
    as_role: Callable[[str], TestClient], demo_store: Store
) -> None:
    key = customers_with_orders(demo_store, True)[0]
    answer = as_role("marketer").get(f"/api/v1/customers/{key}/preferences")
    assert answer.status_code == 200
    profile = answer.json()["profile"]
    assert profile["customer_key"] == key
    assert profile["orders"] == purchases_of(demo_store, key)
    assert 1 <= len(profile["top_categories"]) <= 3
    assert sum(row["share"] for row in profile["top_categories"]) <= 1.0 + 1e-9
    assert profile["price_band"] in {"budget", "mid", "premium", "luxury"}
    assert as_role("vendor").get(f"/api/v1/customers/{key}/preferences").status_code == 403
    assert TestClient(as_role("owner").app).get(f"/api/v1/customers/{key}/preferences").status_code == 401


def test_unknown_refused_and_bad_keys_get_the_one_error_shape(
    as_role: Callable[[str], TestClient], demo_store: Store
) -> None:
    client = as_role("analyst")
    unknown = client.get(f"/api/v1/customers/{NOBODY}/preferences")
    assert (unknown.status_code, unknown.json()) == (404, {"error": {"code": "not_found", "message": UNKNOWN_CUSTOMER}})
    refused = customers_with_orders(demo_store, False)
    assert refused, "the demo store has customers who refused marketing"
    denied = client.get(f"/api/v1/customers/{refused[0]}/preferences")
    assert (denied.status_code, denied.json()) == (404, {"error": {"code": "not_found", "message": NO_CONSENT}})
    assert '"profile"' not in denied.text
    bad = client.get("/api/v1/customers/not-a-key/preferences")
    assert bad.status_code == 422
    assert set(bad.json()) == {"error"}
    assert bad.json()["error"]["code"] == "invalid_request"


def test_segment_shifts_compare_two_windows(as_role: Callable[[str], TestClient]) -> None:
    answer = as_role("analyst").get("/api/v1/preferences/shifts", params={"segment": "Champions"})
    assert answer.status_code == 200
    found = answer.json()
    assert [row["segment"] for row in found["segments"]] == ["Champions"]
    assert found["before"]["last_day"] < found["now"]["first_day"] <= found["now"]["last_day"]
    for item in found["segments"][0]["items"]:
        assert item["change"] == pytest.approx(item["share_now"] - item["share_before"], abs=2e-6)
        assert 0.0 <= item["share_now"] <= 1.0
    bad = as_role("analyst").get("/api/v1/preferences/shifts", params={"segment": "Nobody"})
    assert bad.status_code == 400
    assert bad.json()["error"]["message"].startswith("segment must be one of: ")


def test_the_command_line_answers_as_the_api_does(
    as_role: Callable[[str], TestClient], demo_store: Store, own_store: Path
) -> None:
    key = customers_with_orders(demo_store, True)[0]
    done = run_cli(own_store, "preferences", "--customer", key, "--json")
    assert done.exit_code == 0, done.stderr
    api = as_role("analyst").get(f"/api/v1/customers/{key}/preferences").json()
    assert as_numbers(done.json()["profile"]) == as_numbers(api["profile"])  # the API writes money as text
    assert done.json()["state"]["mode"] == "full"  # the first profile in this home: every order read
    printed = run_cli(own_store, "preferences", "--customer", key)
    assert printed.exit_code == 0
    assert "Top categories" in printed.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--customer", "bad"], "error: customer: not a customer key"),
        (["--customer", NOBODY], f"error: {UNKNOWN_CUSTOMER}"),
        (["--customer", NOBODY, "--shifts"], "error: --customer cannot be combined with --segment or --shifts"),
        (["--segment", "Nobody"], "error: segment must be one of: " + ", ".join(SEGMENT_NAMES)),
    ],
)
def test_bad_input_on_the_command_line_is_one_line(own_store: Path, args: list[str], message: str) -> None:
    done = run_cli(own_store, "preferences", *args, "--json")
    assert done.exit_code == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith(message)


def test_a_refused_customer_gets_no_profile_on_the_command_line(demo_store: Store, own_store: Path) -> None:
    key = customers_with_orders(demo_store, False)[0]
    done = run_cli(own_store, "preferences", "--customer", key, "--json")
    assert (done.exit_code, done.stderr.strip()) == (2, f"error: {NO_CONSENT}")
    assert key not in done.stderr


def test_segment_shifts_on_the_command_line(own_store: Path) -> None:
    done = run_cli(own_store, "preferences", "--shifts", "--json")
    assert done.exit_code == 0, done.stderr
    segments = [row["segment"] for row in json.loads(done.stdout)["segments"]]
    assert segments
    assert set(segments) <= set(SEGMENT_NAMES)
