"""The table target: rows of one canonical table (products, customers, events, spend, inventory, tickets...)
from any export a profile describes with a :class:`~shoplens.ingest.TablePlan`.

* Each column is typed by the table's own type; a row that does not parse, misses a required column or breaks
  one of the profile's rules is quarantined with its record number, column and reason (a row the profile says
  is not data, such as a report's total, with that reason first).
* Rows are keyed by the table's primary key. Within one file, repeated keys keep the first row (or the last,
  as the profile says) and count the others as duplicates, unless the plan sums them (the ads of one
  campaign on one day make one row of spend), as are the rows a profile calls continuation rows
  (later rows of a record that add nothing to the table, like a Shopify product's image-only rows). A fact
  already stored (an event, a day's spend, a snapshot, a ticket) is a duplicate; a catalogue or account row
  replaces the stored one when the profile says so, keeping stored values the file leaves empty, and is a
  duplicate only when nothing changed.
* Tables with a ``customer_key`` get it from the customer's identity, as orders do (the keyed hash of the
  normalised e-mail where there is one, else of the shop's customer id); the e-mail itself never reaches an
  analytic table. On ``customers``, e-mail, name, phone and address go to the vault only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from shoplens.ingest import TablePlan, text_literal
from shoplens.schema import TABLES, Column
from shoplens.warehouse._identity import adopt_vault_keys
from shoplens.warehouse._parsing import (
    Check,
    boolean_sql,
    customer_key_sql,
    date_range_check,
    decimal_sql,
    fault_sql,
    identity_sql,
    rounding_check,
    text_sql,
    timestamp_sql,
    ungrouped_sql,
    whole_number_sql,
)
from shoplens.warehouse._personal_data import write_personal_data
from shoplens.warehouse._pipeline import FileCounts, FileLoad, ImportSummary, Plan
from shoplens.warehouse._quarantine import source_column
from shoplens.warehouse._readers import StagedFile

PARSED = "stg_tbl"
NEW = "stg_tbl_new"
IDENTITY_FIELDS = ("customer_id", "email")
VAULT_FIELDS = ("email", "name", "phone", "address")
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")
_VALID = "_fault IS NULL"
_LOADABLE = "_fault IS NULL AND NOT _continuation"
INT32 = 2_147_483_648
CONTENT_ID_CHARS = 24


class MappedTableTarget:
    """Rows of whichever canonical table the file's :class:`TablePlan` names."""

    name = "table"
    parsed_table = PARSED
    work_tables: tuple[str, ...] = (PARSED, NEW, "stg_tbl_merged")

    def __init__(self) -> None:
        self._plan: TablePlan | None = None

    @property
    def tables(self) -> tuple[str, ...]:
        plan = self._plan
        if plan is None:
            return ()
        return (plan.table, "customer_pii") if plan.table == "customers" else (plan.table,)

    def parse(self, load: FileLoad, staged: StagedFile, plan: Plan) -> None:
        self._plan = _table_plan(plan)
        _parse(load, staged, self._plan)

    def redacted_columns(self, plan: Plan) -> set[str]:
        table_plan = _table_plan(plan)
        personal = {source_column(table_plan.expressions.get(f), "") for f in VAULT_FIELDS}
        return (set(table_plan.personal_columns) | personal) - {""}

    def split_new(self, load: FileLoad) -> FileCounts:
        plan = self._current()
        table = TABLES[plan.table]
        key = table.primary_key
        load.existing(table.name, key[0], f'SELECT "{key[0]}" AS k FROM {PARSED} WHERE {_LOADABLE}')
        if table.name == "customers":
            load.existing("customer_pii", "customer_key", f"SELECT customer_key AS k FROM {PARSED} WHERE {_LOADABLE}")
        if "customer_key" in table.column_names and any(f in plan.expressions for f in IDENTITY_FIELDS):
            adopt_vault_keys(load, PARSED, email_column="email", where=_LOADABLE)
        keys = ", ".join(f'"{k}"' for k in key)
        order = "pos" if plan.keep == "first" else "pos DESC"
        columns = table.column_names
        firsts = (
            f"SELECT * EXCLUDE (occurrence) FROM (SELECT *, row_number() OVER (PARTITION BY {keys} ORDER BY {order}) "
            f"AS occurrence FROM {PARSED} WHERE {_LOADABLE}) WHERE occurrence = 1"
        )
        if plan.sum_columns:
            picked = ", ".join(_grouped(c, key, plan.sum_columns) for c in columns)
            firsts = f"SELECT min(pos) AS pos, {picked} FROM {PARSED} WHERE {_LOADABLE} GROUP BY {keys}"
        match = " AND ".join(f'n."{k}" = t."{k}"' for k in key)
        if plan.replace_existing:
            # A stored row keeps the values the file leaves empty; rows that change nothing are duplicates.
            merged = ", ".join(f'n."{c}"' if c in key else f'coalesce(n."{c}", t."{c}") AS "{c}"' for c in columns)
            load.con.execute(
                f"CREATE OR REPLACE TEMP TABLE stg_tbl_merged AS SELECT n.pos, {merged}, "
                f't."{key[0]}" IS NOT NULL AS _stored FROM ({firsts}) n LEFT JOIN "{table.name}" t ON {match}'
            )
            listed = ", ".join(f'"{c}"' for c in columns)
            changed = f'SELECT {listed} FROM stg_tbl_merged WHERE _stored EXCEPT SELECT {listed} FROM "{table.name}"'
            load.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {NEW} AS SELECT m.* FROM stg_tbl_merged m "
                f"WHERE NOT m._stored OR EXISTS (SELECT 1 FROM ({changed}) t WHERE {match.replace('n.', 'm.')})"
            )
        else:
            load.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {NEW} AS SELECT n.*, false AS _stored FROM ({firsts}) n "
                f'WHERE NOT EXISTS (SELECT 1 FROM "{table.name}" t WHERE {match})'
            )
        new = f"SELECT count(*) FROM {NEW}"
        if plan.sum_columns:  # every row summed into a new row is loaded
            new = _summed_rows_sql(key)
        return FileCounts(valid=load.count(f"SELECT count(*) FROM {PARSED} WHERE {_VALID}"), new=load.count(new))

    def load(self, load: FileLoad, summary: ImportSummary) -> None:
        plan = self._current()
        table = TABLES[plan.table]
        con = load.con
        summary.rows_updated += load.count(f"SELECT count(*) FROM {NEW} WHERE _stored")
        summary.warnings.extend(note for note in plan.notes if note not in summary.warnings)
        if plan.sum_columns:
            rows = load.count(f"SELECT count(*) FROM {NEW}")
            parts = load.count(_summed_rows_sql(table.primary_key))
            if parts > rows:
                keys = ", ".join(table.primary_key)
                summary.warnings.append(f"{parts} {table.name} rows with the same {keys} were summed into {rows}")
        if "customer_key" in table.column_names:
            summary.customers += load.count(f"SELECT count(DISTINCT customer_key) FROM {PARSED} WHERE {_LOADABLE}")
        if table.name == "customers":
            summary.customers_new += load.count(f"SELECT count(*) FROM {NEW} WHERE NOT _stored")
            _write_vault(load, plan)
        if plan.replace_existing:
            match = " AND ".join(f'n."{k}" = "{table.name}"."{k}"' for k in table.primary_key)
            con.execute(f'DELETE FROM "{table.name}" WHERE EXISTS (SELECT 1 FROM {NEW} n WHERE n._stored AND {match})')
        columns = ", ".join(f'"{c}"' for c in table.column_names)
        con.execute(f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} FROM {NEW}')
        if "currency" in table.column_names:
            found = con.execute(f"SELECT DISTINCT currency FROM {NEW} WHERE currency IS NOT NULL").fetchall()
            summary.currencies = sorted({*summary.currencies, *(str(row[0]) for row in found)})

    def _current(self) -> TablePlan:
        if self._plan is None:
            raise RuntimeError("the table target loads a file only after parsing it")
        return self._plan


def _grouped(column: str, key: tuple[str, ...], summed: Sequence[str]) -> str:
    """A column of the row that rows with the same key make: the key, a sum, or the first row's value."""
    if column in key:
        return f'"{column}"'
    return f'sum("{column}") AS "{column}"' if column in summed else f'arg_min("{column}", pos) AS "{column}"'


def _summed_rows_sql(key: tuple[str, ...]) -> str:
    """How many loadable rows of the file were summed into the new rows (NEW has no _fault or _continuation)."""
    match = " AND ".join(f'n."{k}" = p."{k}"' for k in key)
    return f"SELECT count(*) FROM {PARSED} p WHERE {_LOADABLE} AND EXISTS (SELECT 1 FROM {NEW} n WHERE {match})"


def _table_plan(plan: Plan) -> TablePlan:
    if not isinstance(plan, TablePlan):
        raise TypeError(f"the table target reads a TablePlan, not {type(plan).__name__}")
    if plan.table not in TABLES or TABLES[plan.table].personal:
        raise ValueError(f"a TablePlan cannot fill the table {plan.table!r}")
    return plan


def typed_sql(raw: str, column: Column, plan: TablePlan) -> str:
    """The SQL that types a column's raw text by the column's own type (NULL when it does not parse)."""
    sql_type = column.sql_type
    decimal = _DECIMAL.fullmatch(sql_type)
    if decimal:
        return decimal_sql(raw, plan.decimal_separator, int(decimal.group(1)), int(decimal.group(2)))
    if sql_type in ("INTEGER", "BIGINT"):
        bound = INT32 if sql_type == "INTEGER" else 10**15
        return whole_number_sql(ungrouped_sql(raw, plan.decimal_separator), sql_type, bound)
    if sql_type == "TIMESTAMP":
        return timestamp_sql(raw, plan.date_formats, plan.source_timezone)
    if sql_type == "DATE":
        # A day is the day written, whatever the zone: no conversion.
        formats = ", ".join(text_literal(f) for f in plan.date_formats)
        return f"CAST(coalesce(TRY_CAST({raw} AS DATE), CAST(try_strptime({raw}, [{formats}]) AS DATE)) AS DATE)"
    if sql_type == "BOOLEAN":
        return boolean_sql(raw)
    # Measures that are not money (rates, durations, scores) with either separator; text as it is.
    return f"TRY_CAST({ungrouped_sql(raw, plan.decimal_separator)} AS DOUBLE)" if sql_type == "DOUBLE" else raw


_UNPARSEABLE = {"DATE": "unparseable date", "TIMESTAMP": "unparseable date", "BOOLEAN": "not true/false"}


def _parse(load: FileLoad, staged: StagedFile, plan: TablePlan) -> None:
    """Build ``stg_tbl``: typed columns, the customer key, vault fields, the first reason to reject."""
    table = TABLES[plan.table]
    expressions = plan.expressions

    def where(name: str) -> str:
        return source_column(expressions.get(name), name)

    raws, typed, checks = [], [], []
    keyed = "customer_key" in table.column_names and any(f in expressions for f in IDENTITY_FIELDS)
    for column in table.columns:
        if column.name == "customer_key" and keyed:
            continue
        raw = f'"raw_{column.name}"'
        source = expressions.get(column.name)
        value = text_sql(source) if source else "NULL"
        if column.default is not None:
            value = f"coalesce({value}, {column.default})"
        raws.append(f"{value} AS {raw}")
        typed.append(f'{typed_sql(raw, column, plan)} AS "{column.name}"')
        checks.extend(_column_checks(column, raw, where(column.name), plan.decimal_separator))
    extra = [*IDENTITY_FIELDS, *(VAULT_FIELDS[1:] if table.name == "customers" else ())] if keyed else []
    raws += [f'{text_sql(expressions.get(f, "NULL"))} AS "{f}"' for f in extra]
    if keyed:
        identity = identity_sql("email", "customer_id")
        typed.append(f"CASE WHEN {identity} IS NOT NULL THEN {customer_key_sql(identity)} END AS customer_key")
        if not table.columns[table.column_names.index("customer_key")].nullable:
            checks.insert(0, Check(f"{identity} IS NULL", where("email"), "no e-mail or customer id"))
    checks += [Check(f"coalesce({rule.condition}, false)", rule.column, rule.reason) for rule in plan.rules]
    # Rows that are not data (a report's totals) are named as such before any of their columns is typed.
    not_data = [f'coalesce({rule.condition}, false) AS "_not_data_{i}"' for i, rule in enumerate(plan.source_rules)]
    raws += not_data
    checks[:0] = [Check(f'"_not_data_{i}"', rule.column, rule.reason) for i, rule in enumerate(plan.source_rules)]
    continuation = f"coalesce({plan.continuation_rows}, false)" if plan.continuation_rows else "false"
    raws.append(f"{continuation} AS _continuation")
    kept = ", ".join(["pos", *(f'"{c}"' for c in table.column_names), *(f'"{f}"' for f in extra), "_continuation"])
    rows = f"SELECT rowid AS pos, {', '.join(raws)} FROM {staged.table}"
    if plan.content_id is not None:
        rows = _with_content_id(rows, plan.content_id, [c for c in table.column_names if c != "customer_key"])
    load.con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {PARSED} AS
        SELECT {kept}, _fault FROM (
            SELECT *, CASE WHEN NOT _continuation THEN {fault_sql(checks)} END AS _fault FROM (
                SELECT *, {", ".join(typed)} FROM ({rows})
            )
        )
        """,
        load.pads if keyed else None,
    )


def _with_content_id(rows: str, key: str, columns: list[str]) -> str:
    """``rows`` with the empty ``key`` column filled by a fingerprint of the row's other columns (as written,
    the customer's id and e-mail left out) and its occurrence number among identical rows of the file."""
    content = "concat_ws(chr(31), " + ", ".join(f'coalesce("raw_{c}", chr(30))' for c in columns if c != key) + ")"
    occurrence = f"row_number() OVER (PARTITION BY {content} ORDER BY pos)"
    fingerprint = f"left(md5({content} || chr(31) || {occurrence}), {CONTENT_ID_CHARS})"
    return f'SELECT * REPLACE (coalesce("raw_{key}", {fingerprint}) AS "raw_{key}") FROM ({rows})'


def _column_checks(column: Column, raw: str, where: str, decimal_separator: str) -> list[Check]:
    checks = []
    if not column.nullable:
        checks.append(Check(f"{raw} IS NULL", where, f"missing {column.name.replace('_', ' ')}"))
    if column.sql_type != "VARCHAR":
        reason = _UNPARSEABLE.get(column.sql_type, "not a whole number" if "INT" in column.sql_type else "not a number")
        checks.append(Check(f'{raw} IS NOT NULL AND "{column.name}" IS NULL', where, reason))
    decimal = _DECIMAL.fullmatch(column.sql_type)
    if decimal:
        checks.append(rounding_check(raw, f'"{column.name}"', decimal_separator, int(decimal.group(2)), where))
    if column.sql_type in ("DATE", "TIMESTAMP"):
        checks.append(date_range_check(f'"{column.name}"', where))
    return checks


def _write_vault(load: FileLoad, plan: TablePlan) -> None:
    """The personal fields of the new and changed customers, by the vault's merge rule (the newer file wins)."""
    if not any(f in plan.expressions for f in VAULT_FIELDS):
        return
    fields = ", ".join(f"arg_max({f}, pos) FILTER (WHERE {f} IS NOT NULL) AS {f}" for f in VAULT_FIELDS)
    write_personal_data(
        load,
        f"SELECT customer_key, arg_max(customer_id, pos) FILTER (WHERE customer_id IS NOT NULL) AS source_customer_id, "
        f"{fields} FROM {PARSED} WHERE {_LOADABLE} GROUP BY customer_key",
        newer_wins=True,
    )
