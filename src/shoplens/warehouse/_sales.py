"""The sales target: order lines (and refunded lines) into orders, order_lines, refunds, customers, products.

A record's fingerprint is a hash of its canonical fields' normalised text plus its occurrence number among
identical records of the same file, so two identical lines in one export are both kept, and a second import
of the same export adds nothing. A profile (ingest) says which source columns fill which :data:`SALES_FIELDS`;
everything else is here and in the pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shoplens.ingest import (
    ORDER_LEVEL_FIELDS,
    PERSONAL_FIELDS,
    SALES_FIELDS,
    SalesMapping,
    col,
    text_literal,
)
from shoplens.warehouse._identity import adopt_vault_keys
from shoplens.warehouse._parsing import (
    UNPARSEABLE,
    Check,
    boolean_sql,
    customer_key_sql,
    date_range_check,
    decimal_sql,
    fault_sql,
    fingerprint_text_sql,
    identity_sql,
    rounding_check,
    text_sql,
    timestamp_sql,
    whole_number_sql,
)
from shoplens.warehouse._personal_data import write_personal_data
from shoplens.warehouse._pipeline import FileCounts, FileLoad, ImportSummary, Plan
from shoplens.warehouse._quarantine import FAULT_SEPARATOR, source_column
from shoplens.warehouse._readers import StagedFile

MAX_QUANTITY = 10_000_000
MAX_UNIT_PRICE = 1_000_000_000
_FIELD_KIND = {f.name: f.kind for f in SALES_FIELDS}
_SCALE = {"price": 4, "money": 2}  # decimal places kept: unit prices and costs to 1/100 of a cent, amounts to cents
_REQUIRED = tuple(f.name for f in SALES_FIELDS if f.required)
_VALID_ORDERS = "SELECT DISTINCT order_id AS k FROM stg_parsed WHERE _fault IS NULL"
OTHER_ORDER = "order id already stored from another file (another customer, currency or order time)"


class SalesTarget:
    """Order lines: the rows of every order export (Shopify, WooCommerce, UCI, CDNOW, generic...)."""

    name = "sales"
    tables: tuple[str, ...] = ("orders", "order_lines", "refunds", "customers", "customer_pii", "products")
    parsed_table = "stg_parsed"
    work_tables: tuple[str, ...] = ("stg_parsed", "stg_rows", "stg_orders", "stg_customers", "stg_other_orders")

    def __init__(self) -> None:
        # Whether the file being loaded says which orders were placed with an account: only when its profile maps
        # a customer id at all (Shopify's orders export does not).
        self._ids_known = False
        self._order_id_column = "order_id"  # the file's column of the order id, for the quarantine

    def parse(self, load: FileLoad, staged: StagedFile, plan: Plan) -> None:
        sales = _sales(plan)
        self._ids_known = "customer_id" in sales.expressions
        self._order_id_column = source_column(sales.expressions.get("order_id"), "order_id")
        _parse(load, staged, sales)

    def redacted_columns(self, plan: Plan) -> set[str]:
        sales = _sales(plan)
        return set(sales.personal_columns) | {
            source_column(sales.expressions.get(f), "") for f in PERSONAL_FIELDS if f in sales.expressions
        }

    def split_new(self, load: FileLoad) -> FileCounts:
        return _split_new(load, self._order_id_column)

    def load(self, load: FileLoad, summary: ImportSummary) -> None:
        _count_file(load, summary)
        new_orders, new_customers = _load(load, ids_known=self._ids_known)
        summary.orders_new += new_orders
        summary.customers_new += new_customers


def _sales(plan: Plan) -> SalesMapping:
    if not isinstance(plan, SalesMapping):
        raise TypeError(f"the sales target reads a SalesMapping, not {type(plan).__name__}")
    return plan


# --- parsing and validation -------------------------------------------------------------------


def _typed(name: str, sales: SalesMapping) -> str:
    """The SQL that types the raw text of canonical field ``name`` (NULL when it does not parse)."""
    raw = f'"raw_{name}"'
    if name == "unit_price":
        # Sources that give only line totals (CDNOW) get the unit price from total / quantity.
        derived = f"round({_typed('line_amount', sales)} / nullif({_typed('quantity', sales)}, 0), 4)"
        parsed = decimal_sql(raw, sales.decimal_separator, 18, _SCALE["price"])
        return f"CAST(CASE WHEN {raw} IS NULL THEN {derived} ELSE {parsed} END AS DECIMAL(18,4))"
    typing = {
        "text": lambda: raw,
        "int": lambda: whole_number_sql(raw),
        "price": lambda: decimal_sql(raw, sales.decimal_separator, 18, _SCALE["price"]),
        "money": lambda: decimal_sql(raw, sales.decimal_separator, 18, _SCALE["money"]),
        "bool": lambda: boolean_sql(raw),
        "date": lambda: _date_sql(raw, sales.date_formats),
    }
    return typing.get(_FIELD_KIND[name], lambda: timestamp_sql(raw, sales.date_formats, sales.source_timezone))()


def _date_sql(raw: str, formats: Sequence[str]) -> str:
    """A day as written: with or without a time of day, never shifted to UTC (a promised day is the store's)."""
    local = [f for f in formats if "%z" not in f and "%Z" not in f]
    days = [f.split(" ")[0].split("T")[0] for f in formats]  # "%d.%m.%Y %H:%M" also reads "18.07.2024"
    tried = list(dict.fromkeys([*local, *days, "%Y-%m-%d"]))
    return f"CAST(try_strptime({raw}, [{', '.join(map(text_literal, tried))}]) AS DATE)"


def _parse(load: FileLoad, staged: StagedFile, sales: SalesMapping) -> None:
    """Build ``stg_parsed``: raw text, typed canonical fields, the first reason to reject, and the fingerprint."""
    names = [f.name for f in SALES_FIELDS]
    expressions = dict(sales.expressions)
    if sales.currency and "currency" not in expressions:
        expressions["currency"] = text_literal(sales.currency)
    raw_columns = [f'{text_sql(expressions.get(n, "NULL"))} AS "raw_{n}"' for n in names]
    helpers = [f'({sql}) AS "{name}"' for name, sql in sales.helpers.items()]
    source, position = staged.table, "rowid"
    if sales.line_items:
        # One row per packed item, each keeping its record's position (for the quarantine file).
        items = ", ".join(col(c) for c in sales.line_items)
        source = (
            "(SELECT *, unnest(CASE WHEN len(_items) > 0 THEN _items ELSE [NULL::VARCHAR] END) AS _item FROM "
            f"(SELECT rowid AS _pos, *, list_filter([{items}], lambda x: nullif(trim(x), '') IS NOT NULL) AS _items "
            f"FROM {staged.table}))"
        )
        position = "_pos"
    text = f"SELECT {position} AS pos, {', '.join(raw_columns + helpers)} FROM {source}"
    if sales.fill_order_fields:
        filled = [
            f'coalesce("raw_{n}", max("raw_{n}") OVER (PARTITION BY "raw_order_id")) AS "raw_{n}"'
            if n in ORDER_LEVEL_FIELDS
            else f'"raw_{n}"'
            for n in names
        ]
        text = f"SELECT pos, {', '.join(filled + [f'{chr(34)}{h}{chr(34)}' for h in sales.helpers])} FROM ({text})"
    typed = f"SELECT *, {', '.join(f'{_typed(n, sales)} AS {chr(34)}{n}{chr(34)}' for n in names)} FROM ({text})"
    # One CASE gives "column<US>reason" for the first check that fails; split only for quarantined rows.
    fault = fault_sql(_checks(sales, expressions))
    # The fingerprint hashes the normalised text of the canonical fields (stable across DuckDB versions).
    content = "concat_ws(chr(31), " + text_literal(load.profile) + ", " + ", ".join(f'"raw_{n}"' for n in names) + ")"
    kept = ", ".join(["pos", *(f'"{n}"' for n in names), *(f'"{h}"' for h in sales.helpers)])
    # The raw text columns are dropped here: quarantine files show the source row from the staged file.
    con = load.con
    con.execute(
        "CREATE OR REPLACE TEMP TABLE stg_parsed AS "
        f"SELECT {kept}, {fault} AS _fault, md5_number({content}) AS row_key, "
        f"{identity_sql('email', 'customer_id')} AS identity FROM ({typed})"
    )
    # Identical records of one file are all kept: the second and later get their occurrence number in the key,
    # so a re-import of the same file produces the same keys. The key's text is made once per repeated key, in a
    # table of its own, and by fingerprint_text_sql: DuckDB's own cast of a 128-bit number to text is slow.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE stg_repeated_keys AS SELECT row_key, "
        f"{fingerprint_text_sql('row_key')} AS key_text FROM stg_parsed GROUP BY row_key HAVING count(*) > 1"
    )
    con.execute(
        """
        UPDATE stg_parsed SET row_key = md5_number(repeat.key_text || ':' || repeat.occurrence)
        FROM (
            SELECT s.pos, k.key_text, row_number() OVER (PARTITION BY s.row_key ORDER BY s.pos) AS occurrence
            FROM stg_parsed s JOIN stg_repeated_keys k USING (row_key)
        ) AS repeat
        WHERE stg_parsed.pos = repeat.pos AND repeat.occurrence > 1
        """
    )
    con.execute("DROP TABLE stg_repeated_keys")


def _checks(sales: SalesMapping, expressions: Mapping[str, str]) -> list[Check]:
    """The checks in the order they are tried; the first that holds names the row's fault."""
    checks: list[Check] = []

    def where(name: str) -> str:
        return source_column(expressions.get(name), name)

    for name in _REQUIRED:
        missing = f'"raw_{name}" IS NULL'
        if name == "unit_price":
            missing += ' AND "raw_line_amount" IS NULL'
        checks.append(Check(missing, where(name), f"missing {name.replace('_', ' ')}"))
    for spec in SALES_FIELDS:
        if spec.kind != "text":
            checks.append(
                Check(
                    f'"raw_{spec.name}" IS NOT NULL AND "{spec.name}" IS NULL', where(spec.name), UNPARSEABLE[spec.kind]
                )
            )
    for spec in SALES_FIELDS:
        if spec.kind in _SCALE:
            raw, scale = f'"raw_{spec.name}"', _SCALE[spec.kind]
            checks.append(rounding_check(raw, f'"{spec.name}"', sales.decimal_separator, scale, where(spec.name)))
    refund = "coalesce(is_refund, false)"
    checks += [
        Check("quantity = 0", where("quantity"), "zero quantity"),
        Check(f"quantity < 0 AND NOT {refund}", where("quantity"), "negative quantity on a sale"),
        Check(f"abs(quantity) > {MAX_QUANTITY}", where("quantity"), "implausible quantity"),
        Check("unit_price < 0", where("unit_price"), "negative price"),
        Check(f"unit_price > {MAX_UNIT_PRICE}", where("unit_price"), "implausible price"),
        date_range_check("ordered_at", where("ordered_at")),
        Check("shipped_at < ordered_at", where("shipped_at"), "shipped before it was ordered"),
        Check("delivered_at < ordered_at", where("delivered_at"), "delivered before it was ordered"),
    ]
    if not sales.allow_zero_price:
        checks.append(Check(f"unit_price = 0 AND NOT {refund}", where("unit_price"), "zero price on a sale"))
    for money in ("line_discount", "order_discount", "shipping", "tax", "refund_amount"):
        checks.append(Check(f'"{money}" < 0', where(money), f"negative {money.replace('_', ' ')}"))
    checks += [Check(f"coalesce({rule.condition}, false)", rule.column, rule.reason) for rule in sales.rules]
    return checks


# --- de-duplication and loading ---------------------------------------------------------------


def _split_new(load: FileLoad, order_id_column: str) -> FileCounts:
    """Keep the valid rows whose fingerprint is not yet in the warehouse, with their pseudonymous customer key."""
    # A fingerprint hashes the order id, so a row already loaded is among the lines of the same order.
    load.existing("order_lines", "order_id", _VALID_ORDERS)
    load.existing("refunds", "order_id", _VALID_ORDERS)
    con = load.con
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE stg_rows AS
        WITH new_rows AS (
            SELECT p.* EXCLUDE (_fault) FROM stg_parsed p
            WHERE p._fault IS NULL
              AND p.row_key NOT IN (SELECT row_key FROM order_lines UNION ALL SELECT row_key FROM refunds)
        ),
        keys AS (
            SELECT identity, {customer_key_sql("identity")} AS customer_key
            FROM (SELECT DISTINCT identity FROM new_rows WHERE identity IS NOT NULL)
        )
        SELECT n.*, k.customer_key,
               coalesce(n.line_amount, CAST(abs(n.quantity) * n.unit_price AS DECIMAL(18,2))) AS amount
        FROM new_rows n LEFT JOIN keys k USING (identity)
        """,
        load.pads,
    )
    adopt_vault_keys(load, "stg_rows", email_column="email")
    _refuse_other_orders(load, order_id_column)
    return FileCounts(
        valid=load.count("SELECT count(*) FROM stg_parsed WHERE _fault IS NULL"),
        new=load.count("SELECT count(*) FROM stg_rows"),
    )


def _refuse_other_orders(load: FileLoad, order_id_column: str) -> None:
    """Quarantine the new sale lines of an order id already stored for another order: another customer, currency or
    order time (an invoice number that another store's export, or another year's, uses too). Adding them would
    change a stored order's total. Lines that agree with the stored order continue it (an order split across two
    exports of a store, a line added to an order since the last export); a re-imported file's lines are duplicates
    and never get here. Refund lines are left to refer to their order: their time is the refund's."""
    load.existing("orders", "order_id", "SELECT order_id AS k FROM stg_rows")
    con = load.con
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE stg_other_orders AS
        SELECT s.row_key FROM stg_rows s JOIN orders o USING (order_id)
        WHERE NOT coalesce(s.is_refund, false)
          AND (s.customer_key IS DISTINCT FROM o.customer_key OR s.currency IS DISTINCT FROM o.currency
               OR s.ordered_at IS DISTINCT FROM o.ordered_at)
        """
    )
    fault = text_literal(f"{order_id_column}{FAULT_SEPARATOR}{OTHER_ORDER}")
    con.execute(f"UPDATE stg_parsed SET _fault = {fault} WHERE row_key IN (SELECT row_key FROM stg_other_orders)")
    con.execute("DELETE FROM stg_rows WHERE row_key IN (SELECT row_key FROM stg_other_orders)")
    con.execute("DROP TABLE stg_other_orders")


def _count_file(load: FileLoad, summary: ImportSummary) -> None:
    rows = load.con.execute(
        """
        SELECT count(DISTINCT order_id) FILTER (WHERE NOT coalesce(is_refund, false)),
               count(DISTINCT identity),
               count(*) FILTER (WHERE coalesce(is_refund, false))
                 + count(DISTINCT order_id) FILTER (WHERE NOT coalesce(is_refund, false) AND refund_amount > 0),
               count(*) FILTER (WHERE customer_id IS NULL AND NOT coalesce(is_refund, false))
        FROM stg_parsed WHERE _fault IS NULL
        """
    ).fetchall()
    if rows:
        orders, customers, refunds, guest_rows = rows[0]
        summary.orders += int(orders)
        summary.customers += int(customers)
        summary.refunds += int(refunds)
        summary.guest_rows += int(guest_rows)


def _load(load: FileLoad, *, ids_known: bool) -> tuple[int, int]:
    """Append the new rows to the canonical tables; return (new orders, new customers)."""
    con, imp, prof = load.con, text_literal(load.import_id), text_literal(load.profile)
    new_customers = _load_customers(load, prof, ids_known=ids_known)
    _load_products(load)
    con.execute(
        f"""
        INSERT INTO order_lines
            (order_id, line_no, product_id, quantity, unit_price, discount, amount, row_key, import_id)
        SELECT s.order_id,
               CAST(coalesce(e.last_line, 0) + row_number() OVER (PARTITION BY s.order_id ORDER BY s.pos) AS INTEGER),
               s.product_id, CAST(s.quantity AS INTEGER), s.unit_price, s.line_discount, s.amount, s.row_key, {imp}
        FROM stg_rows s
        LEFT JOIN (SELECT order_id, max(line_no) AS last_line FROM order_lines
                   WHERE order_id IN (SELECT order_id FROM stg_rows) GROUP BY order_id) e USING (order_id)
        WHERE NOT coalesce(s.is_refund, false)
        """
    )
    con.execute(
        f"""
        INSERT INTO refunds (refund_id, order_id, customer_key, product_id, quantity, amount, reason, refunded_at,
                             row_key, import_id)
        SELECT order_id || '#' || {fingerprint_text_sql("row_key")}, order_id, customer_key, product_id,
               CAST(abs(quantity) AS INTEGER), abs(amount), coalesce(refund_reason, 'returned'), ordered_at,
               row_key, {imp}
        FROM stg_rows WHERE coalesce(is_refund, false)
        """
    )
    con.execute(
        f"""
        INSERT INTO refunds (refund_id, order_id, customer_key, product_id, quantity, amount, reason, refunded_at,
                             row_key, import_id)
        SELECT order_id || '#refund', order_id, any_value(customer_key), NULL, NULL, max(refund_amount),
               coalesce(any_value(refund_reason), 'refunded'), min(ordered_at),
               md5_number('order-refund' || chr(31) || order_id), {imp}
        FROM stg_rows WHERE NOT coalesce(is_refund, false) AND refund_amount > 0
        GROUP BY order_id
        HAVING md5_number('order-refund' || chr(31) || order_id) NOT IN (SELECT row_key FROM refunds)
        """
    )
    new_orders = _load_orders(load, prof, ids_known=ids_known)
    con.execute("DROP TABLE IF EXISTS stg_rows")
    return new_orders, new_customers


def _load_orders(load: FileLoad, profile: str, *, ids_known: bool) -> int:
    load.existing("orders", "order_id", "SELECT order_id AS k FROM stg_rows")
    con = load.con
    guest = "bool_and(customer_id IS NULL)" if ids_known else "CAST(NULL AS BOOLEAN)"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE stg_orders AS
        SELECT order_id, any_value(customer_key) AS customer_key, min(ordered_at) AS ordered_at,
               any_value(channel) AS channel, any_value(device) AS device, any_value(currency) AS currency,
               CAST(sum(amount) AS DECIMAL(18,2)) AS gross,
               CAST(coalesce(max(order_discount), sum(line_discount), 0) AS DECIMAL(18,2)) AS discount,
               CAST(coalesce(max(shipping), 0) AS DECIMAL(18,2)) AS shipping,
               CAST(coalesce(max(tax), 0) AS DECIMAL(18,2)) AS tax,
               any_value(discount_code) AS discount_code, any_value(status) AS status,
               {guest} AS is_guest, any_value(promised_delivery_date) AS promised_delivery_date,
               any_value(shipped_at) AS shipped_at, any_value(delivered_at) AS delivered_at
        FROM stg_rows WHERE NOT coalesce(is_refund, false)
        GROUP BY order_id
        """
    )
    con.execute(
        """
        UPDATE orders SET gross = orders.gross + n.gross,
                          discount = greatest(orders.discount, n.discount),
                          net = orders.gross + n.gross - greatest(orders.discount, n.discount),
                          promised_delivery_date = coalesce(n.promised_delivery_date, orders.promised_delivery_date),
                          shipped_at = coalesce(n.shipped_at, orders.shipped_at),
                          delivered_at = coalesce(n.delivered_at, orders.delivered_at)
        FROM stg_orders n WHERE orders.order_id = n.order_id
        """
    )
    inserted = con.execute(
        f"""
        INSERT INTO orders (order_id, customer_key, ordered_at, channel, device, currency, gross, discount, shipping,
                            tax, net, discount_code, status, source_profile, is_guest, promised_delivery_date,
                            shipped_at, delivered_at)
        SELECT order_id, customer_key, ordered_at, channel, device, currency, gross, discount, shipping, tax,
               gross - discount, discount_code, coalesce(status, 'paid'), {profile}, is_guest, promised_delivery_date,
               shipped_at, delivered_at
        FROM stg_orders WHERE order_id NOT IN (SELECT order_id FROM orders)
        """
    ).fetchall()
    con.execute("DROP TABLE stg_orders")
    return int(inserted[0][0]) if inserted else 0


def _load_customers(load: FileLoad, profile: str, *, ids_known: bool) -> int:
    load.existing("customers", "customer_key", "SELECT customer_key AS k FROM stg_rows")
    load.existing("customer_pii", "customer_key", "SELECT customer_key AS k FROM stg_rows")
    con = load.con
    account = "bool_or(customer_id IS NOT NULL)" if ids_known else "CAST(NULL AS BOOLEAN)"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE stg_customers AS
        SELECT customer_key, any_value(customer_id) AS customer_id, min(ordered_at) AS first_seen,
               arg_min(country, ordered_at) AS country, arg_min(region, ordered_at) AS region,
               arg_min(channel, ordered_at) AS channel_acquired, arg_max(consent_marketing, ordered_at) AS consent,
               arg_max(email, ordered_at) AS email, arg_max(name, ordered_at) AS name,
               arg_max(phone, ordered_at) AS phone, arg_max(address, ordered_at) AS address,
               {account} AS has_account
        FROM stg_rows WHERE customer_key IS NOT NULL GROUP BY customer_key
        """
    )
    con.execute(
        """
        UPDATE customers SET first_seen = n.first_seen,
               channel_acquired = coalesce(n.channel_acquired, customers.channel_acquired),
               country = coalesce(n.country, customers.country)
        FROM stg_customers n WHERE customers.customer_key = n.customer_key AND n.first_seen < customers.first_seen
        """
    )
    con.execute(
        """
        UPDATE customers SET consent_marketing = coalesce(n.consent, customers.consent_marketing),
               has_account = CASE WHEN n.has_account OR customers.has_account THEN true
                                  ELSE coalesce(n.has_account, customers.has_account) END
        FROM stg_customers n WHERE customers.customer_key = n.customer_key
        """
    )
    inserted = con.execute(
        f"""
        INSERT INTO customers
            (customer_key, first_seen, country, region, channel_acquired, consent_marketing, source_profile,
             has_account)
        SELECT customer_key, first_seen, country, region, channel_acquired, consent, {profile}, has_account
        FROM stg_customers
        WHERE customer_key NOT IN (SELECT customer_key FROM customers)
        """
    ).fetchall()
    write_personal_data(
        load,
        "SELECT customer_key, customer_id AS source_customer_id, email, name, phone, address FROM stg_customers",
        newer_wins=True,
    )
    con.execute("DROP TABLE stg_customers")
    return int(inserted[0][0]) if inserted else 0


def _load_products(load: FileLoad) -> None:
    load.existing("products", "product_id", "SELECT product_id AS k FROM stg_rows")
    load.con.execute(
        """
        INSERT INTO products (product_id, name, category, supplier, cost, price)
        SELECT product_id, arg_max(product_name, ordered_at), arg_max(category, ordered_at),
               arg_max(supplier, ordered_at), arg_max(unit_cost, ordered_at),
               arg_max(unit_price, ordered_at) FILTER (WHERE NOT coalesce(is_refund, false))
        FROM stg_rows WHERE product_id IS NOT NULL GROUP BY product_id
        ON CONFLICT (product_id) DO UPDATE SET
            name = coalesce(products.name, excluded.name), category = coalesce(products.category, excluded.category),
            supplier = coalesce(products.supplier, excluded.supplier), cost = coalesce(products.cost, excluded.cost),
            price = coalesce(excluded.price, products.price)
        """
    )
