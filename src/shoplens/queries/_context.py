"""What a computation sees: the canonical tables of one warehouse at one data version, and the store's zone."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from shoplens.errors import InputError
from shoplens.metrics import CostRules, StoreZone, purchase_lines, purchase_refunds, purchases
from shoplens.queries._base import Query, Result, Row

if TYPE_CHECKING:
    from shoplens.queries._runner import QueryRunner

FLOAT_DIGITS = 6
NO_ORDERS = "the warehouse has no orders yet: import the store's exports first (shoplens import FILE --profile P)"
NO_CUSTOMERS = "no known customers: every order is a guest order, so there is no customer to {what}"
R = TypeVar("R", bound=Result)


class NoOrdersError(InputError):
    """The warehouse is there but holds no orders yet (a new store, or one with only other exports)."""

    def __init__(self) -> None:
        super().__init__(NO_ORDERS)


def rows(table: ir.Table) -> list[Row]:
    """Execute ``table`` and return plain Python rows: Decimal money, dates, ints, floats (never NaN)."""
    return [{key: _clean(value) for key, value in row.items()} for row in table.to_pyarrow().to_pylist()]


def one_row(table: ir.Table) -> Row:
    found = rows(table)
    return found[0] if found else {}


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, FLOAT_DIGITS)
    return value


class QueryContext:
    """The canonical tables on one Ibis backend, for the computations of one runner call.

    ``data_version`` is the warehouse's version the tables show (None for a bare backend, which is never cached);
    ``models_dir`` is where fitted models are saved, ``voice_cache_dir`` where sentence vectors and sentiments
    are kept between runs, ``preferences_dir`` where the preference profiles' statistics are kept current (all
    None for a bare backend); ``costs`` are the store's cost settings for the contribution margin. A computation
    that needs another question's answer asks :meth:`run`, which goes through the same caches.
    """

    def __init__(  # noqa: PLR0913 - keyword-only: where the tables, fits, caches and settings of one call are
        self,
        backend: Any,
        *,
        runner: QueryRunner,
        data_version: int | None,
        store_timezone: str,
        models_dir: Path | None,
        database: str | None = None,
        voice_cache_dir: Path | None = None,
        preferences_dir: Path | None = None,
        costs: CostRules | None = None,
    ) -> None:
        self.backend = backend
        self.costs = costs or CostRules()
        self.preferences_dir = preferences_dir
        self.voice_cache_dir = voice_cache_dir
        self.runner = runner
        self.data_version = data_version
        self.store_timezone = store_timezone
        self.models_dir = models_dir
        self.database = database
        self._zone: StoreZone | None = None

    def run(self, query: Query, result_type: type[R]) -> R:
        """Another question's answer, over the same tables."""
        return self.runner.run_in(self, query, result_type)

    def table(self, name: str) -> ir.Table:
        """The warehouse table ``name``; for ``orders``, ``order_lines`` and ``refunds``, the purchases' rows only.

        Every computation reads the sales tables through here, so none can count a cancelled or voided order.
        """
        if name == "orders":
            return purchases(self._stored("orders"))
        if name == "order_lines":
            return purchase_lines(self._stored("order_lines"), self._stored("orders"))
        if name == "refunds":
            return purchase_refunds(self._stored("refunds"), self._stored("orders"))
        return self._stored(name)

    def _stored(self, name: str) -> ir.Table:
        if self.database is None:
            return self.backend.table(name)
        return self.backend.table(name, database=self.database)

    def count(self, table: ir.Table) -> int:
        return int(table.count().execute())

    def orders(self) -> ir.Table:
        """The orders table; an InputError when the store has none."""
        orders = self.table("orders")
        if self.count(orders) == 0:
            raise NoOrdersError
        return orders

    def customer_orders(self, what: str) -> ir.Table:
        """The orders table when some orders are from known customers (``what`` says what they are needed for)."""
        orders = self.orders()
        if self.count(orders.filter(orders.customer_key.notnull())) == 0:
            raise InputError(NO_CUSTOMERS.format(what=what))
        return orders

    def events(self) -> ir.Table | None:
        """The web events, or None when the store has none."""
        events = self._events_table()
        return events if events is not None and self.count(events) > 0 else None

    def _events_table(self) -> ir.Table | None:
        try:
            return self.table("events")
        except Exception:  # a backend without the events table: no sessions to count
            return None

    def models_directory(self) -> Path:
        if self.models_dir is None:
            raise InputError("this runner has no models directory: model fits need a store home")
        return self.models_dir

    @property
    def zone(self) -> StoreZone:
        """The store's time zone, narrowed to the years the data spans (keeps the local-time SQL small).

        The span is one query over the stored orders, refunds and events (a cancelled order's time may widen it,
        which only keeps a year more in the SQL): each question pays one round trip for it, not seven."""
        if self._zone is None:
            timed = [(self._stored("orders"), "ordered_at"), (self._stored("refunds"), "refunded_at")]
            events = self._events_table()
            if events is not None:
                timed.append((events, "at"))
            both = ibis.union(*(_span(table, column) for table, column in timed))
            span = one_row(both.aggregate(first=both.first.min(), last=both.last.max()))
            years = [span[key].year for key in ("first", "last") if span.get(key) is not None]
            self._zone = StoreZone.spanning(self.store_timezone, years)
        return self._zone


def _span(table: ir.Table, column: str) -> ir.Table:
    """The first and last time of ``column``: nullable, so an empty table's NULL reads back on every backend
    (PostgreSQL types the min of a NOT NULL column as never NULL)."""
    moment = dt.Timestamp(nullable=True)
    return table.aggregate(first=table[column].min().cast(moment), last=table[column].max().cast(moment))
