"""What the customer-base models read from the warehouse: the span of the known customers' purchases, their
per-customer summary, and a quiet, single-threaded numerical context for the fits.

Purchases are the metrics' purchases (:func:`shoplens.metrics.customer_orders`): cancelled, voided and test orders
are left out, the amount is ``orders.net`` before refunds (a refunded order was still a purchase occasion), and
days are the store's local days, exact across daylight-saving changes.
"""

from __future__ import annotations

import warnings as python_warnings
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, cast

import numpy as np
import pandas as pd

from shoplens.errors import InputError
from shoplens.metrics import StoreZone, customer_orders, purchase_refunds
from shoplens.models._summary import TimeUnit, rfm_summary


@contextmanager
def quiet_numerics() -> Iterator[None]:
    """Run model fits single-threaded and without numpy's RuntimeWarnings.

    The optimisers work on vectors of three or four parameters and the Kalman filter on small matrices: BLAS
    threads only add overhead, and on a busy machine (two cores shared with other work) waiting for them made a
    CDNOW fit 40 times slower (0.24 s instead of 6 ms). threadpoolctl comes with scikit-learn; without it, BLAS
    keeps its default. The models handle overflow and log(0) at extreme parameters themselves and report doubtful
    fits in their warnings, so numpy's RuntimeWarnings about the same would only clutter stderr.
    """
    with python_warnings.catch_warnings(), np.errstate(all="ignore"), single_threaded_blas():
        python_warnings.simplefilter("ignore", RuntimeWarning)
        yield


def single_threaded_blas() -> AbstractContextManager[object]:
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - threadpoolctl is there wherever scikit-learn is
        return nullcontext()
    return cast(AbstractContextManager[object], threadpool_limits(limits=1, user_api="blas"))


# --- what the warehouse holds ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurchaseSpan:
    """When the known customers' purchases start and end, in store-local days."""

    first_day: date
    last_day: date
    customers: int
    zone: StoreZone


def store_zone(backend: Any, timezone: str) -> StoreZone:
    """The store's zone narrowed to the years its orders span (keeps the local-time expression small)."""
    orders = backend.table("orders")
    row = backend.execute(orders.aggregate(first=orders["ordered_at"].min(), last=orders["ordered_at"].max()))
    years = [pd.Timestamp(row[column].iloc[0]).year for column in ("first", "last") if pd.notna(row[column].iloc[0])]
    return StoreZone.spanning(timezone, years)


def purchase_span(backend: Any, *, timezone: str = "UTC") -> PurchaseSpan:
    """The span of the store's customer purchases; an InputError when there are none."""
    zone = store_zone(backend, timezone)
    purchases = customer_orders(backend.table("orders"), zone)
    row = backend.execute(
        purchases.aggregate(
            first=purchases["local_day"].min(),
            last=purchases["local_day"].max(),
            customers=purchases["customer_key"].nunique(),
        )
    ).iloc[0]
    if pd.isna(row["last"]):
        raise InputError(
            "no orders from known customers in the warehouse: import orders with customer ids first "
            "(guest orders cannot be followed over time)"
        )
    return PurchaseSpan(
        first_day=pd.Timestamp(row["first"]).date(),
        last_day=pd.Timestamp(row["last"]).date(),
        customers=int(row["customers"]),
        zone=zone,
    )


def refund_share(backend: Any) -> float:
    """Refunds to known customers as a share of their purchases' net sales."""
    orders = backend.table("orders")
    refunds = purchase_refunds(backend.table("refunds"), orders)
    ordered = backend.execute(customer_orders(orders)["net"].sum())
    refunded = backend.execute(refunds.filter(refunds["customer_key"].notnull())["amount"].sum())
    if ordered is None or pd.isna(ordered) or ordered <= 0 or refunded is None or pd.isna(refunded):
        return 0.0
    return float(Decimal(refunded) / Decimal(ordered))


def customer_summary(
    backend: Any,
    span: PurchaseSpan,
    *,
    calibration_end: date,
    observation_end: date | None,
    time_unit: TimeUnit,
) -> pd.DataFrame:
    purchases = customer_orders(backend.table("orders"), span.zone)
    expression = rfm_summary(
        purchases,
        calibration_end=calibration_end,
        observation_end=observation_end,
        time_unit=time_unit,
        time_col="local_day",
        amount_col="net",
    )
    summary: pd.DataFrame = backend.execute(expression)
    return summary.sort_values("customer_key").reset_index(drop=True)


def check_summary(summary: pd.DataFrame, span: PurchaseSpan, calibration_end: date) -> None:
    """Degenerate data get one clear sentence instead of a failed fit."""
    if span.first_day == span.last_day:
        raise InputError(
            f"every order falls on one day ({span.first_day}): there is no time in which a repeat purchase could "
            "be seen"
        )
    if len(summary) < 2:
        raise InputError(
            f"only {len(summary)} customer had bought by {calibration_end}: the models describe a customer base "
            "and need many customers (about 50 or more)"
        )
    if not (summary["T"] > 0).any():
        raise InputError(
            f"every customer's first purchase is on {calibration_end}, the end of calibration: there is no time in "
            "which a repeat purchase could be seen; use a later --calibration-end"
        )
    if not (summary["frequency"] > 0).any():
        raise InputError(
            f"no customer bought on two different days by {calibration_end}, so buying rate and dropout cannot be "
            "told apart; use a later --calibration-end or more data"
        )
