"""``guard``: abuse and fraud flags over the warehouse, each with its evidence and score (rules in
:mod:`shoplens.metrics`, module ``_guard``; shared addresses in the vault, :func:`shoplens.privacy.shared_addresses`).

Export volumes by user come from the audit log, which the command line adds (:func:`shoplens.actions.export_flags`).
"""

from __future__ import annotations

from typing import ClassVar

import ibis.expr.types as ir

from shoplens.actions import Flag
from shoplens.metrics import (
    GuardLimits,
    customer_refunds_flagged,
    just_under_limit,
    leaked_codes,
    product_refunds_flagged,
    stacked_discounts,
)
from shoplens.privacy import VAULT_TABLE, shared_addresses
from shoplens.queries._base import Query, Result, answers
from shoplens.queries._context import QueryContext, rows

ALWAYS_UNCHECKED = [
    "payment fingerprints: the exports hold no card or wallet fingerprint",
    "refunds by staff member: the refunds name no member of staff",
]


class GuardQuery(Query, GuardLimits):
    kind: ClassVar[str] = "guard"


class GuardResult(Result):
    query: GuardQuery
    flags: list[Flag]
    not_checked: list[str]


def _flags(kind: str, table: ir.Table) -> list[Flag]:
    found = []
    for row in rows(table):
        subject, score = str(row.pop("subject")), float(row.pop("score"))
        found.append(Flag(kind=kind, subject=subject, evidence=row, score=round(score, 4)))
    return found


@answers(GuardQuery, GuardResult)
def answer_guard(context: QueryContext, query: GuardQuery) -> GuardResult:
    orders, refunds = context.orders(), context.table("refunds")
    flags = _flags("refunds_by_customer", customer_refunds_flagged(orders, refunds, query))
    lines, products = context.table("order_lines"), context.table("products")
    flags += _flags("refunds_by_product", product_refunds_flagged(lines, orders, refunds, products, query))
    calendar = context.table("events_calendar")
    flags += _flags("leaked_code", leaked_codes(orders, calendar, query, zone=context.zone))
    flags += _flags("stacked_discounts", stacked_discounts(orders, query))
    unchecked = list(ALWAYS_UNCHECKED)
    if query.approval_limit is None:
        unchecked.append("orders just under an approval limit: give the limit (--approval-limit)")
    else:
        flags += _flags("just_under_limit", just_under_limit(orders, query))
    for row in rows(shared_addresses(context.table(VAULT_TABLE), min_accounts=query.shared_address_accounts)):
        keys = list(row["customer_keys"])
        flags.append(
            Flag(
                kind="shared_address",
                subject=keys[0],
                evidence={"accounts": row["accounts"], "customer_keys": keys},
                score=float(row["accounts"]),
            )
        )
    return GuardResult(query=query, flags=flags, not_checked=unchecked)
