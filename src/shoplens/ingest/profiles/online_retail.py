"""UCI Online Retail (Chen, Sain & Guo 2012): one row per invoice line.

Invoices starting with ``C`` are cancellations and become refunds; ``A`` invoices are bad-debt
adjustments, not sales, and are quarantined; rows without CustomerID are guest orders. Prices are
in GBP and times are UK local time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shoplens.ingest._profile import RowRule, SalesMapping, SourceProfile, col, register_profile

COLUMNS = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country")


def _build(header: Sequence[str], mapping: Mapping[str, object] | None) -> SalesMapping:
    invoice = col("InvoiceNo")
    return SalesMapping(
        expressions={
            "order_id": invoice,
            "ordered_at": col("InvoiceDate"),
            # CSV copies of the file write the id as a float ("17850.0").
            "customer_id": f"regexp_replace({col('CustomerID')}, '\\.0+$', '')",
            "country": col("Country"),
            "product_id": col("StockCode"),
            "product_name": col("Description"),
            "quantity": f"CAST(abs(TRY_CAST({col('Quantity')} AS BIGINT)) AS VARCHAR)",
            "unit_price": col("UnitPrice"),
            "is_refund": f"CASE WHEN starts_with({invoice}, 'C') THEN 'true' ELSE 'false' END",
            "refund_reason": f"CASE WHEN starts_with({invoice}, 'C') THEN 'cancelled' END",
            "channel": "'web'",
        },
        date_formats=("%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M"),
        source_timezone="Europe/London",
        currency="GBP",
        allow_zero_price=False,
        helpers={"quantity_sign": f"sign(TRY_CAST({col('Quantity')} AS BIGINT))"},
        rules=(
            RowRule("InvoiceNo", "bad-debt adjustment invoice, not a sale", "starts_with(order_id, 'A')"),
            RowRule(
                "Quantity", "negative quantity on a sale (stock write-off?)", "NOT is_refund AND quantity_sign < 0"
            ),
            RowRule("Quantity", "positive quantity on a cancellation", "is_refund AND quantity_sign > 0"),
        ),
    )


PROFILE = register_profile(
    SourceProfile(
        name="online-retail",
        description="UCI Online Retail invoice lines (InvoiceNo, StockCode, ..., CustomerID, Country)",
        required=COLUMNS,
        build=_build,
    )
)
