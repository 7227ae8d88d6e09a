"""Identity resolution: a guest checkout and a later account with the same e-mail are one customer."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import fetch, fetch_clear

FIXTURES = Path(__file__).parents[1] / "fixtures"


def _woo_rows(rows: list[dict[str, str]], path: Path) -> Path:
    """A WooCommerce export with the fixture's columns and these rows (other columns empty)."""
    with (FIXTURES / "woocommerce_orders.csv").open(newline="") as handle:
        header = next(csv.reader(handle))
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        for row in rows:
            writer.writerow({name: row.get(name, "") for name in header})
    return path


def _order(number: str, day: str, user_id: str, email: str, price: str) -> dict[str, str]:
    return {
        "Order Number": number,
        "Order Status": "wc-completed",
        "Order Date": f"{day} 10:00:00",
        "Email (Billing)": email,
        "Customer User ID": user_id,
        "Currency": "HKD",
        "Item Name": "Ceramic Mug",
        "SKU": "MUG-01",
        "Quantity (- Refund)": "1",
        "Item Cost": price,
    }


GUEST_THEN_ACCOUNT = [
    _order("3001", "2024-03-01", "0", "Lee.Wong@Example.com ", "50.00"),  # guest checkout
    _order("3002", "2024-04-10", "42", "lee.wong@example.com", "70.00"),  # the same person, now with an account
    _order("3003", "2024-04-12", "0", "other@example.com", "30.00"),  # a guest who never registered
    _order("3004", "2024-05-01", "43", "", "20.00"),  # an account without an e-mail keeps its own key
]


def test_a_guest_order_and_the_later_account_are_one_customer(cli: Callable[..., Any], tmp_path: Path) -> None:
    export = _woo_rows(GUEST_THEN_ACCOUNT, tmp_path / "orders.csv")
    summary = cli("import", str(export), "--profile", "woocommerce", "--json").json()
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"]) == (4, 4, 0)
    home = tmp_path / "home"
    keys = dict(fetch(home, "SELECT order_id, customer_key FROM orders"))
    assert keys["3001"] == keys["3002"]
    assert len({keys["3001"], keys["3003"], keys["3004"]}) == 3
    guests = dict(fetch(home, "SELECT order_id, is_guest FROM orders"))
    assert guests == {"3001": True, "3002": False, "3003": True, "3004": False}
    # The vault keeps the shop's account id, never the e-mail as an id; analytic tables hold no e-mail.
    vault = dict(fetch_clear(home, "SELECT customer_key, source_customer_id FROM customer_pii"))
    assert [vault[keys[order]] for order in ("3001", "3003", "3004")] == ["42", None, "43"]
    status = cli("status", "--json").json()
    assert (status["guest_orders"], status["guest_orders_joined"]) == (2, 1)
    # Every command counts one customer for Lee: three customers in all, the first order in March.
    rfm = cli("rfm", "--json").json()
    assert sum(segment["customers"] for segment in rfm["segments"]) == 3
    assert fetch(home, f"SELECT first_seen::DATE::VARCHAR FROM customers WHERE customer_key = '{keys['3002']}'") == [
        ("2024-03-01",)
    ]


def test_the_same_e_mail_is_one_customer_across_profiles(cli: Callable[..., Any], tmp_path: Path) -> None:
    """A WooCommerce guest and Shopify orders with that e-mail (in another case) share one key."""
    woo = _woo_rows([_order("4001", "2024-02-01", "0", " AMY.CHAN@example.com", "10.00")], tmp_path / "woo.csv")
    cli("import", str(woo), "--profile", "woocommerce", "--json")
    cli("import", str(FIXTURES / "shopify_orders.csv"), "--profile", "shopify", "--json")
    with (FIXTURES / "shopify_orders.csv").open(newline="") as handle:
        amys = {row["Name"] for row in csv.DictReader(handle) if row["Email"].strip().lower() == "amy.chan@example.com"}
    keys = dict(fetch(tmp_path / "home", "SELECT order_id, customer_key FROM orders"))
    assert len(amys) == 2
    assert {keys[order] for order in [*amys, "4001"]} == {keys["4001"]}


@pytest.mark.parametrize("junk", ["n/a", "none", "-", "noemail"])
def test_a_placeholder_e_mail_does_not_join_customers(cli: Callable[..., Any], tmp_path: Path, junk: str) -> None:
    rows = [_order("5001", "2024-02-01", "7", junk, "10.00"), _order("5002", "2024-02-02", "8", junk, "10.00")]
    cli("import", str(_woo_rows(rows, tmp_path / "o.csv")), "--profile", "woocommerce", "--json")
    assert fetch(tmp_path / "home", "SELECT count(DISTINCT customer_key) FROM orders") == [(2,)]


def test_identity_is_the_same_on_every_engine(cli: Callable[..., Any], tmp_path: Path, warehouse_engine: str) -> None:
    """The guest and the account are one customer whichever engine holds the warehouse (DuckDB, PostgreSQL)."""
    export = _woo_rows(GUEST_THEN_ACCOUNT, tmp_path / "orders.csv")
    first = cli("import", str(export), "--json")
    assert first.exit_code == 0, first.stderr
    assert first.json()["profile"] == "woocommerce"
    status = cli("status", "--json").json()
    assert (status["guest_orders"], status["guest_orders_joined"]) == (2, 1)
    assert status["tables"]["customers"] == 3
    assert sum(segment["customers"] for segment in cli("rfm", "--json").json()["segments"]) == 3
    again = cli("import", str(export), "--json").json()
    assert (again["rows_loaded"], again["rows_duplicate"]) == (0, 4)


def test_a_review_naming_only_the_shop_id_joins_the_customer_known_by_e_mail(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    export = _woo_rows(GUEST_THEN_ACCOUNT, tmp_path / "orders.csv")
    cli("import", str(export), "--profile", "woocommerce", "--json")
    reviews = tmp_path / "reviews.csv"
    reviews.write_text("id,text,customer_id,rating\nr1,Lovely mug,42,5\nr2,Late again,99,2\nr3,Fine,43,4\n")
    summary = cli("import", str(reviews), "--profile", "feedback", "--json").json()
    assert summary["rows_loaded"] == 3
    home = tmp_path / "home"
    keys = dict(fetch(home, "SELECT order_id, customer_key FROM orders"))
    by_review = dict(fetch(home, "SELECT feedback_id, customer_key FROM feedback"))
    assert by_review["r1"] == keys["3002"]  # account 42 is Lee, known by e-mail
    assert by_review["r3"] == keys["3004"]  # account 43 has no e-mail: keyed by the id, as its order
    assert by_review["r2"] not in keys.values()  # an id the shop's orders never named is a new customer
