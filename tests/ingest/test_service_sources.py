"""Files of the shop's other tables by column names or a mapping: spend per channel, stock snapshots, support
tickets (customers keyed like orders, e-mails nowhere outside the vault, free text redacted in quarantine)."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from tests.conftest import FIXTURES, fetch

SPEND_CSV = """date,channel,amount,campaign,currency
2024-05-01,email,12.50,May newsletter,EUR
2024-05-01,affiliates,40.00,,EUR
2024-05-02,email,3.10,May newsletter,EUR
2024-05-02,affiliates,lots,,EUR
2024-05-40,email,1.00,May newsletter,EUR
"""
INVENTORY_CSV = """product_id,date,on_hand,location
SKU-1,2024-05-01,12,HK
SKU-2,2024-05-01,0,HK
SKU-1,2024-05-01,11,HK
SKU-1,2024-05-02,9,HK
SKU-3,2024-05-02,4.5,HK
SKU-2,2024-05-02,,HK
"""
# A help-desk export described by a mapping: its own column names, a day-first date format.
TICKETS_MAPPING = """columns:
  ticket_id: Ticket ID
  created_at: Created
  first_response_at: First reply
  solved_at: Solved
  email: Requester e-mail
  customer_id: Requester ID
  channel: Via
  status: Status
  subject: Subject
  tags: Tags
date_format: "%d/%m/%Y %H:%M"
"""
TICKETS_CSV = """Ticket ID,Created,First reply,Solved,Requester e-mail,Requester ID,Via,Status,Subject,Tags
101,01/05/2024 09:00,01/05/2024 09:40,02/05/2024 10:00,AMY.CHAN@example.com,,email,solved,Where is my order?,"late,dpd"
102,03/05/2024 14:00,03/05/2024 14:05,,amy.chan@example.com,,chat,open,Size exchange,exchange
103,04/05/2024 08:00,,,,C-77,phone,new,Refund for a broken lamp,refund
104,05/05/2024 10:00,05/05/2024 09:00,06/05/2024 10:00,ben.lee@example.com,,email,solved,Call me on +852 9123 4567,
105,06/05/2024 10:00,06/05/2024 10:30,04/05/2024 10:00,cara.wong@example.com,,email,solved,Invoice for Cara Wong,billing
106,next week,,,dan@example.com,,email,new,Hello,
101,01/05/2024 09:00,01/05/2024 09:40,02/05/2024 10:00,amy.chan@example.com,,email,solved,Where is my order?,"late,dpd"
"""


def _import(cli: Callable[..., Any], *args: str) -> dict[str, Any]:
    result = cli("import", *args, "--json")
    assert result.exit_code == 0, result.stderr
    summary: dict[str, Any] = result.json()
    assert summary["rows_read"] == summary["rows_loaded"] + summary["rows_quarantined"] + summary["rows_duplicate"]
    return summary


def test_spend_by_column_names(cli: Callable[..., Any], tmp_path: Path) -> None:
    home, path = tmp_path / "home", tmp_path / "spend.csv"
    path.write_text(SPEND_CSV)
    summary = _import(cli, str(path), "--profile", "spend")
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"]) == (5, 3, 2)
    quarantine = pd.read_csv(summary["quarantine_path"])
    assert quarantine[["row", "column", "reason"]].values.tolist() == [
        [4, "amount", "not a number"],
        [5, "date", "unparseable date"],
    ]
    good = [r for r in csv.DictReader(io.StringIO(SPEND_CSV)) if r["amount"] != "lots" and r["date"] != "2024-05-40"]
    per_channel: dict[str, Decimal] = defaultdict(Decimal)
    for row in good:
        per_channel[row["channel"]] += Decimal(row["amount"])
    assert dict(fetch(home, "SELECT channel, sum(amount) FROM marketing_spend GROUP BY channel")) == per_channel
    # A channel's spend without a campaign is stored under the campaign ''.
    assert fetch(home, "SELECT campaign FROM marketing_spend WHERE channel = 'affiliates'") == [("",)]
    again = _import(cli, str(path), "--profile", "spend")
    assert (again["rows_loaded"], again["rows_duplicate"]) == (0, again["rows_read"] - again["rows_quarantined"])


def test_inventory_duplicates_and_bad_counts(cli: Callable[..., Any], tmp_path: Path) -> None:
    home, path = tmp_path / "home", tmp_path / "stock.csv"
    path.write_text(INVENTORY_CSV)
    rows = list(csv.DictReader(io.StringIO(INVENTORY_CSV)))
    repeated = sum(n - 1 for n in Counter((r["product_id"], r["date"]) for r in rows).values())
    summary = _import(cli, str(path), "--profile", "inventory")
    assert (summary["rows_read"], summary["rows_quarantined"], summary["rows_duplicate"]) == (len(rows), 2, repeated)
    quarantine = pd.read_csv(summary["quarantine_path"])
    assert quarantine[["row", "column", "reason"]].values.tolist() == [
        [5, "on_hand", "not a whole number"],
        [6, "on_hand", "missing on hand"],
    ]
    # The first snapshot of SKU-1 on 1 May in the file is kept.
    stored = fetch(home, "SELECT product_id, date::VARCHAR, on_hand FROM inventory ORDER BY product_id, date")
    assert stored == [("SKU-1", "2024-05-01", 12), ("SKU-1", "2024-05-02", 9), ("SKU-2", "2024-05-01", 0)]
    again = _import(cli, str(path), "--profile", "inventory")
    assert (again["rows_loaded"], again["rows_duplicate"]) == (0, len(rows) - 2)


def _all_text(home: Path, *, skip: tuple[str, ...]) -> str:
    """Every text value of every table of the warehouse but ``skip``, joined."""
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR'"
        ).fetchall()
        values = [
            str(v)
            for table, column in columns
            if table not in skip
            for (v,) in con.execute(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL').fetchall()
        ]
    return "\n".join(values)


def test_tickets_keyed_like_orders_without_e_mails(cli: Callable[..., Any], tmp_path: Path) -> None:
    home = tmp_path / "home"
    mapping, path = tmp_path / "tickets.yaml", tmp_path / "tickets.csv"
    mapping.write_text(TICKETS_MAPPING)
    path.write_text(TICKETS_CSV)
    _import(cli, str(FIXTURES / "shopify_orders.csv"), "--profile", "shopify")
    summary = _import(cli, str(path), "--profile", "tickets", "--mapping", str(mapping))
    rows = list(csv.DictReader(io.StringIO(TICKETS_CSV)))
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"]) == (len(rows), 3, 3)
    assert summary["rows_duplicate"] == 1  # ticket 101 twice in the file

    quarantine = pd.read_csv(summary["quarantine_path"])
    assert quarantine[["row", "column", "reason"]].values.tolist() == [
        [4, "first_response_at", "first response before the ticket was created"],
        [5, "solved_at", "solved before the ticket was created"],
        [6, "Created", "unparseable date"],
    ]
    shown = "\n".join(quarantine["values"])
    for private in ("ben.lee@example.com", "9123 4567", "Cara Wong", "dan@example.com"):
        assert private not in shown
    assert "Subject=[redacted]" in shown
    assert "Requester e-mail=[redacted]" in shown

    # Amy's tickets (her e-mail in two spellings) carry the key of her orders; C-77's key is of the id.
    amy = fetch(home, "SELECT DISTINCT customer_key FROM orders WHERE order_id IN ('#1001', '#1003')")
    assert len(amy) == 1
    keys = dict(fetch(home, "SELECT ticket_id, customer_key FROM tickets"))
    assert keys["101"] == keys["102"] == amy[0][0]
    assert keys["103"] is not None
    assert keys["103"] != keys["101"]
    times = fetch(home, "SELECT created_at::VARCHAR, first_response_at::VARCHAR FROM tickets WHERE ticket_id = '101'")
    assert times == [("2024-05-01 09:00:00", "2024-05-01 09:40:00")]

    emails = {r["Requester e-mail"].lower() for r in rows if r["Requester e-mail"]}
    everything = _all_text(home, skip=("customer_pii",)).lower()
    assert "where is my order?" in everything  # the scan reads the tickets table
    assert [e for e in emails if e in everything] == []
    again = _import(cli, str(path), "--profile", "tickets", "--mapping", str(mapping))
    assert (again["rows_loaded"], again["rows_duplicate"]) == (0, len(rows) - 3)


def test_files_named_like_the_tables_are_told_apart(cli: Callable[..., Any], tmp_path: Path) -> None:
    tickets = "ticket_id,created_at,email,subject\nT-1,2024-05-01 09:00,amy@example.com,Hello\n"
    for name, text, profile in [
        ("spend.csv", SPEND_CSV, "spend"),
        ("stock.csv", INVENTORY_CSV, "inventory"),
        ("tickets.csv", tickets, "tickets"),
    ]:
        path = tmp_path / name
        path.write_text(text)
        assert cli("import", str(path), "--json", home_dir=tmp_path / profile).json()["profile"] == profile
