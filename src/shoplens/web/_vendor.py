"""What a vendor may see: the share package's k-anonymity rule applied to every answer a vendor gets.

A vendor (a supplier or web designer with a login or token) sees store-level figures only. Every list of rows in
an answer is either released row by row, when each row names how many people (or orders) stand behind it, or
withheld whole: a row is released only when at least ``k`` stand behind it (k is ``SHOPLENS_VENDOR_K``, at least
the share package's default of 10). Splits by customer-level groups (RFM segment) are refused (403), as the
customer-level routes are. The answer says what was held back under ``vendor_rule``.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request

from shoplens.queries import Query, Result
from shoplens.web._auth import Principal
from shoplens.web._deps import principal_of
from shoplens.web._errors import ApiError
from shoplens.web._settings import WebSettings

R = TypeVar("R", bound=Result)
VENDOR = "vendor"
# (question kind, list field) -> the column that counts the people (or, for basket rules, the orders) behind a row
RELEASED_BY: dict[tuple[str, str], str] = {
    ("kpis", "rows"): "customers",
    ("kpi_comparison", "windows"): "customers",
    ("kpi_comparison", "changes"): "customers",  # the fewest customers behind any of the row's figures
    ("kpi_comparison", "trend"): "customers",
    ("kpi_comparison", "new_vs_returning"): "customers",
    ("funnel", "steps"): "people",
    ("products", "top_products"): "customers",
    ("products", "highest_return_rates"): "customers",
    ("products", "comeback_products"): "buyers",
    ("products", "one_off_products"): "buyers",
    ("basket", "rules"): "orders",
    ("also_bought", "also_bought"): "customers",
    ("plan_progress", "kpis"): "customers",  # a partner's own plan (shoplens.web._plans)
}
# a KPI row's comparison with the previous period is released only when that period has k customers too
KPI_PREVIOUS = (
    "previous_revenue",
    "previous_orders",
    "previous_customers",
    "revenue_change",
    "orders_change",
    "customers_change",
    "compared_from",
    "compared_through",
)
CUSTOMER_LEVEL_SPLITS = frozenset({"segment", "lifecycle", "lifecycle_state", "churn_risk", "value_tier"})


def vendor_k(request: Request) -> int:
    settings = request.app.state.web_settings
    assert isinstance(settings, WebSettings)
    return settings.vendor_k


def is_vendor(principal: Principal | None) -> bool:
    return principal is not None and principal.role == VENDOR


def vendor_of(request: Request) -> bool:
    """Whether the caller of ``request`` is a vendor (and so gets :func:`vendor_view` of every answer)."""
    return is_vendor(principal_of(request))


def refuse_customer_splits(query: Query) -> None:
    """403 for a vendor's question split by a customer-level group (an RFM segment is a group of customers)."""
    split = getattr(query, "by", None)
    if split in CUSTOMER_LEVEL_SPLITS:
        raise ApiError(403, "forbidden", f"vendors may not split figures by customer-level groups (by={split})")


def _count(row: dict[str, Any], column: str) -> int:
    value = row.get(column)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def vendor_document(kind: str, document: dict[str, Any], k: int) -> dict[str, Any]:
    """``document`` (a result's JSON) as a vendor may see it: lists of rows released by the k rule or withheld."""
    released: dict[str, Any] = {}
    suppressed: dict[str, int] = {}
    withheld: list[str] = []
    for field, value in document.items():
        column = RELEASED_BY.get((kind, field))
        if column is not None and isinstance(value, list):
            kept = [row for row in value if isinstance(row, dict) and _count(row, column) >= k]
            suppressed[field] = len(value) - len(kept)
            if kind == "kpis":
                kept = [_without_small_previous(row, k) for row in kept]
            released[field] = kept
        elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
            released[field] = []
            withheld.append(field)
        elif isinstance(value, dict) and field != "query":
            released[field] = {}
            withheld.append(field)
        else:
            released[field] = value
    released["vendor_rule"] = {"k": k, "suppressed_rows": suppressed, "withheld": withheld}
    return released


def _without_small_previous(row: dict[str, Any], k: int) -> dict[str, Any]:
    previous = row.get("previous_customers")
    if previous is None or _count(row, "previous_customers") >= k:
        return row
    return {**row, **dict.fromkeys(KPI_PREVIOUS)}


def vendor_result(result: R, k: int) -> R:
    """``result`` as a vendor may see it (for the dashboard's pages, which draw typed results)."""
    query = getattr(result, "query", None)
    kind = query.kind if isinstance(query, Query) else ""
    document = vendor_document(kind, {name: getattr(result, name) for name in type(result).model_fields}, k)
    document.pop("vendor_rule")
    return result.model_copy(update=document)
