"""``shoplens import --profile feedback``: the real reviews, canonical files, mappings, the vault and quarantine."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from tests.conftest import fetch, fetch_clear

from shoplens.config import Settings
from shoplens.ingest import customer_key


def _identity(summary: dict[str, Any]) -> bool:
    return bool(
        summary["rows_read"] == summary["rows_loaded"] + summary["rows_quarantined"] + summary["rows_duplicate"]
    )


def test_the_real_reviews_import_and_reimport_adds_nothing(
    cli: Callable[..., Any], reviews_path: Path, tmp_path: Path
) -> None:
    raw = pd.read_csv(reviews_path)
    without_text = int(raw["Review Text"].isna().sum())
    assert (len(raw), without_text) == (23486, 845)  # SOURCES.md
    first = cli("import", str(reviews_path), "--profile", "feedback", "--json")
    assert first.exit_code == 0, first.stderr
    summary = first.json()
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"], summary["rows_duplicate"]) == (
        23486,
        23486 - without_text,
        without_text,
        0,
    )
    assert summary["profile"] == "feedback"
    assert _identity(summary)
    with Path(summary["quarantine_path"]).open(newline="", encoding="utf-8") as handle:
        quarantined = list(csv.DictReader(handle))
    assert {(q["column"], q["reason"]) for q in quarantined} == {("Review Text", "missing text")}
    missing_rows = [int(i) + 1 for i in raw.index[raw["Review Text"].isna()]]  # record numbers count from 1
    assert [int(q["row"]) for q in quarantined] == missing_rows
    home = tmp_path / "home"
    loaded = fetch(home, "SELECT count(*), count(DISTINCT product_id), min(source), max(source) FROM feedback")
    assert loaded == [
        (23486 - without_text, raw.loc[raw["Review Text"].notna(), "Clothing ID"].nunique(), "review", "review")
    ]
    first_review = raw.iloc[0]
    assert fetch(home, "SELECT text, rating, product_id FROM feedback WHERE feedback_id = 'wecr-0'") == [
        (first_review["Review Text"].strip(), int(first_review["Rating"]), str(first_review["Clothing ID"]))
    ]
    again = cli("import", str(reviews_path), "--profile", "feedback", "--json").json()
    assert (again["rows_loaded"], again["rows_duplicate"], again["rows_quarantined"]) == (0, 23486 - without_text, 845)
    assert _identity(again)


def test_feedback_links_customers_keeps_emails_in_the_vault_and_quarantines_bad_rows(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    sales = tmp_path / "sales.csv"
    sales.write_text(
        "order_id,ordered_at,customer_id,email,quantity,unit_price\n"
        "O1,2024-03-01 10:00:00,C1,ann@example.com,1,20.00\n"
        "O2,2024-03-02 10:00:00,C2,bob@example.com,1,30.00\n"
    )
    mapping = tmp_path / "sales.yaml"
    mapping.write_text(
        "columns: {order_id: order_id, ordered_at: ordered_at, customer_id: customer_id, email: email, "
        "quantity: quantity, unit_price: unit_price}\n"
    )
    assert cli("import", str(sales), "--profile", "generic", "--mapping", str(mapping), "--json").exit_code == 0
    feedback = tmp_path / "feedback.csv"
    feedback.write_text(
        "id,customer_id,email,product_id,rating,created_at,source,text\n"
        "F1,C1,,P1,5,2024-03-05 09:00:00,review,Lovely fabric and true to size.\n"
        "F2,,BOB@example.com,P1,2,2024-03-06T10:00:00Z,ticket,My parcel is two weeks late.\n"
        "F3,,new@example.com,,4,2024-03-07,survey,Quick delivery this time.\n"
        "F4,C1,,P2,five,2024-03-08,review,Too small.\n"
        "F5,C1,,P2,11,2024-03-08,review,Too big.\n"
        "F6,C2,,P2,3,yesterday,review,Okay.\n"
        "F7,C2,,P2,3,2024-03-08,review,\n"
        "F1,C2,,P3,1,2024-03-09,review,Same id again.\n"
        ",,,,,,return,Wrong colour\n"
        ",,,,,,return,Wrong colour\n"
    )
    result = cli("import", str(feedback), "--profile", "feedback", "--json")
    assert result.exit_code == 0, result.stderr
    summary = result.json()
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"], summary["rows_duplicate"]) == (
        10,
        5,
        5,
        0,
    )
    assert (summary["customers"], summary["customers_new"]) == (3, 1)
    with Path(summary["quarantine_path"]).open(newline="", encoding="utf-8") as handle:
        quarantined = [(int(q["row"]), q["column"], q["reason"]) for q in csv.DictReader(handle)]
    assert quarantined == [
        (4, "rating", "not a whole number"),
        (5, "rating", "rating out of range 0-10"),
        (6, "created_at", "unparseable date"),
        (7, "text", "missing text"),
        (8, "id", "feedback id repeated in the file"),
    ]
    quarantine_text = Path(summary["quarantine_path"]).read_text(encoding="utf-8")
    assert "Too small" not in quarantine_text
    assert "@" not in quarantine_text
    home = tmp_path / "home"
    secret = Settings(home=home).store_secret()
    rows = fetch(home, 'SELECT feedback_id, customer_key, source, rating, "at" FROM feedback ORDER BY feedback_id')
    by_id = {r[0]: r for r in rows}
    # Customers are keyed by their e-mail; a review naming only the shop's id finds the customer in the vault.
    assert by_id["F1"][1] == customer_key(secret, "ann@example.com"), "found in the vault by the shop's id"
    assert by_id["F2"][1] == customer_key(secret, "bob@example.com"), "keyed by e-mail, case-insensitively"
    assert by_id["F3"][1] == customer_key(secret, "new@example.com")
    assert str(by_id["F2"][4]) == "2024-03-06 10:00:00"
    anonymous = [r for r in rows if r[0].startswith("f_")]
    assert len(anonymous) == 2
    assert all(r[1] is None and r[2] == "return" for r in anonymous)
    assert "@" not in json.dumps(fetch(home, "SELECT * FROM feedback"), default=str)
    assert fetch_clear(
        home, "SELECT email FROM customer_pii WHERE customer_key = ?".replace("?", f"'{by_id['F3'][1]}'")
    ) == [("new@example.com",)]
    again = cli("import", str(feedback), "--profile", "feedback", "--json").json()
    assert (again["rows_loaded"], again["rows_duplicate"], again["rows_quarantined"]) == (0, 5, 5)


def test_a_mapped_json_lines_export(cli: Callable[..., Any], tmp_path: Path) -> None:
    tickets = tmp_path / "tickets.jsonl"
    tickets.write_text(
        '{"Ticket": 101, "Message": "Where is my order?", "Opened": "05/03/2024 14:30"}\n'
        '{"Ticket": 102, "Message": "Please add PayPal.", "Opened": "06/03/2024 09:00"}\n'
        "not json\n"
    )
    mapping = tmp_path / "tickets.yaml"
    mapping.write_text(
        "columns: {id: Ticket, text: Message, created_at: Opened}\n"
        "constants: {source: ticket}\n"
        "id_prefix: 'desk-'\n"
        "date_format: '%d/%m/%Y %H:%M'\n"
        "timezone: Europe/London\n"
    )
    summary = cli("import", str(tickets), "--profile", "feedback", "--mapping", str(mapping), "--json").json()
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"]) == (3, 2, 1)
    rows = fetch(tmp_path / "home", 'SELECT feedback_id, source, CAST("at" AS VARCHAR) FROM feedback ORDER BY 1')
    assert rows == [("desk-101", "ticket", "2024-03-05 14:30:00"), ("desk-102", "ticket", "2024-03-06 09:00:00")]


@pytest.mark.parametrize(
    ("content", "mapping", "message"),
    [
        ("id,body\n1,hello\n", None, "feedback.csv: not a feedback export, missing column(s): text"),
        (
            "id,body\n1,hello\n",
            "columns: {text: body, stars: id}\n",
            "mapping: columns: Value error, unknown feedback field(s) stars; "
            "known: id, text, customer_id, email, product_id, rating, created_at, source",
        ),
        (
            "id,body\n1,hello\n",
            "columns: {text: message}\n",
            "feedback.csv: not a feedback export, missing column(s): message",
        ),
        ("id,body\n1,hello\n", "columns: {id: id}\n", "mapping: columns must map the required field text"),
    ],
)
def test_bad_feedback_files_exit_2_with_one_line(
    cli: Callable[..., Any], tmp_path: Path, content: str, mapping: str | None, message: str
) -> None:
    path = tmp_path / "feedback.csv"
    path.write_text(content)
    args = ["import", str(path), "--profile", "feedback", "--json"]
    if mapping is not None:
        (tmp_path / "m.yaml").write_text(mapping)
        args += ["--mapping", str(tmp_path / "m.yaml")]
    result = cli(*args)
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1
    expected = message if message.startswith("mapping") else f"{path.parent}/{message}"
    assert line == f"error: {expected}"


def test_the_demo_reviews_import_as_feedback_and_match_the_demo_load(cli: Callable[..., Any], demo_copy: Path) -> None:
    export = demo_copy / "demo-export" / "feedback.parquet"
    before = fetch(demo_copy, "SELECT count(*), count(customer_key) FROM feedback")[0]
    result = cli("import", str(export), "--profile", "feedback", "--json", home_dir=demo_copy)
    assert result.exit_code == 0, result.stderr
    summary = result.json()
    assert (summary["rows_read"], summary["rows_duplicate"], summary["rows_loaded"]) == (before[0], before[0], 0)
    assert before[1] == before[0], "every demo review is linked to its customer"
