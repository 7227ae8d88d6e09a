"""Data to share with vendors and web designers: four aggregate datasets, k-anonymous, in one zip.

:func:`build_share_package` computes them as Ibis expressions over the runner's tables, passes every one through
:func:`shoplens.privacy.suppress_small_cells`, and returns a :class:`SharePackage` with a data dictionary and a
manifest. What leaves the store is aggregates only: no customer key, order id, name, e-mail, free text, and no
minimum or maximum of any individual's value (medians and quartiles of groups of at least k people instead).

Two rules keep suppressed cells suppressed:

* every total or share is computed from released rows only (a share of the segment's spend is the share of the
  spend of the segment's *released* rows), and a count that is another dataset's cell is given only when that
  cell is released (``continued_sessions`` of a funnel row is the next step's row);
* response times are measured over the sessions of released funnel rows only, so their session counts are sums
  of released cells, not totals from which a suppressed funnel row could be recovered by subtraction.

The datasets' expressions are in ``_share_cells``; the words of the data dictionary in ``_share_dictionary``.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pydantic import ConfigDict

from shoplens.errors import InputError
from shoplens.metrics import rfm_scores
from shoplens.privacy import DEFAULT_K, check_k, csv_safe_table, suppress_small_cells
from shoplens.queries import Query, QueryContext, QueryRunner, Result, answers
from shoplens.reports._share_cells import (
    FUNNEL_SCHEMA,
    RESPONSE_SCHEMA,
    _baskets,
    funnel_cells,
    order_pairs,
    order_response_times,
    pair_cells,
    response_time_cells,
    segment_preference_cells,
    session_facts,
    with_continuation,
    with_segment_shares,
)
from shoplens.reports._share_dictionary import DATASETS, MIN_PAIR_SUPPORT, check_share_datasets, data_dictionary

ShareFormat = Literal["csv", "parquet"]
SHARE_FORMATS: tuple[str, ...] = ("csv", "parquet")
FLOAT_DIGITS = 6
NO_EVENTS = "the store has no web session events, so there is no funnel or response time to share"
Finish = Callable[[ir.Table], ir.Table]  # shares, links and order, computed on released rows
NO_PAIRS = "no product pair was bought together in {orders} orders (min_pair_orders), so there is no pair to share"
# --- the package ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SharedDataset:
    """One released table and what the k rule held back from it."""

    name: str
    table: pa.Table
    suppressed_cells: int
    suppressed_people: int
    note: str | None = None

    def summary(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "rows": self.table.num_rows,
            "suppressed_cells": self.suppressed_cells,
            "suppressed_people": self.suppressed_people,
        }
        if self.note:
            found["note"] = self.note
        return found


@dataclass(frozen=True)
class SharePackage:
    """The four datasets, their data dictionary and a manifest; :meth:`to_zip` packs them."""

    k: int
    created_at: datetime
    data_version: int | None
    store_timezone: str
    min_pair_orders: int
    datasets: dict[str, SharedDataset] = field(default_factory=dict)
    customers_withdrawn: int = 0  # customers left out because they withdrew consent to sharing

    @property
    def data_dictionary(self) -> str:
        return data_dictionary(self.k, self.min_pair_orders, self.datasets)

    def only(self, names: Iterable[str]) -> SharePackage:
        """The same package with only the datasets ``names`` (in package order), as a plan's partner receives it:
        the cells are those of the whole package, so the k rule holds as it does there."""
        chosen = set(check_share_datasets(names))
        kept = {name: dataset for name, dataset in self.datasets.items() if name in chosen}
        return replace(self, datasets=kept)

    @property
    def manifest(self) -> dict[str, Any]:
        return {
            "created_at": self.created_at.isoformat(),
            "k": self.k,
            "data_version": self.data_version,
            "store_timezone": self.store_timezone,
            "min_pair_orders": self.min_pair_orders,
            "customers_withdrawn": self.customers_withdrawn,
            "datasets": {name: dataset.summary() for name, dataset in self.datasets.items()},
        }

    def table(self, name: str) -> pa.Table:
        return self.datasets[name].table

    def to_zip(self, format: ShareFormat = "csv") -> bytes:
        """A zip with one file per dataset (``NAME.csv`` or ``NAME.parquet``), data_dictionary.md, manifest.json."""
        if format not in SHARE_FORMATS:
            raise InputError(f"format is csv or parquet, not {str(format)[:20]!r}")
        stamp = self.created_at.astimezone(UTC).timetuple()[:6]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:

            def add(name: str, data: bytes) -> None:
                archive.writestr(zipfile.ZipInfo(name, date_time=stamp), data, compress_type=zipfile.ZIP_DEFLATED)

            for name, dataset in self.datasets.items():
                add(f"{name}.{format}", _encode(dataset.table, format))
            add("data_dictionary.md", self.data_dictionary.encode())
            add("manifest.json", (json.dumps(self.manifest, indent=2, sort_keys=True) + "\n").encode())
        return buffer.getvalue()

    def write(self, path: Path, format: ShareFormat = "csv") -> str:
        """Write the zip to ``path`` and return its SHA-256 (hex)."""
        data = self.to_zip(format)
        path.write_bytes(data)
        return hashlib.sha256(data).hexdigest()


def _encode(table: pa.Table, format: ShareFormat) -> bytes:
    sink = io.BytesIO()
    if format == "parquet":
        pq.write_table(table, sink)  # money stays DECIMAL
    else:
        pacsv.write_csv(csv_safe_table(table), sink)  # decimals are printed exactly; no text runs as a formula
    return sink.getvalue()


def build_share_package(
    runner: QueryContext,
    *,
    k: int = DEFAULT_K,
    min_pair_support: float = MIN_PAIR_SUPPORT,
    withdrawn: tuple[str, ...] = (),
) -> SharePackage:
    """Compute the four k-anonymous datasets from the runner's tables.

    The orders, refunds and web events of the ``withdrawn`` customers (who refused consent to sharing) are left
    out before anything is counted, so they are in no cell, no total and no share of the package.
    """
    check_k(k)
    if not 0 < min_pair_support <= 1:
        raise InputError(f"min_pair_support must be in (0, 1], not {min_pair_support}")
    orders = _without(runner.table("orders"), withdrawn)
    if int(orders.count().execute()) == 0:
        raise InputError("the warehouse has no orders yet: import the store's exports first")
    with ExitStack() as temporary:  # tables cached on the backend, dropped when the package is built

        def release(cells: ir.Table, finish: Finish | None) -> tuple[ir.Table, tuple[int, int]]:
            return _release(temporary.enter_context(cells.cache()), k, finish)

        lines, products = runner.table("order_lines"), runner.table("products")
        datasets: dict[str, SharedDataset] = {}

        events = _events(runner)
        if events is not None:
            events = _without(events, withdrawn)
        if events is None:
            datasets["funnel_dropoffs"] = SharedDataset("funnel_dropoffs", _empty(FUNNEL_SCHEMA), 0, 0, NO_EVENTS)
        else:
            sessions = session_facts(events)
            funnel_table, held = release(funnel_cells(sessions), with_continuation)
            datasets["funnel_dropoffs"] = _dataset("funnel_dropoffs", funnel_table, held)

        scores = rfm_scores(orders, _without(runner.table("refunds"), withdrawn), zone=runner.zone)
        preferences, held = release(segment_preference_cells(scores, orders, lines, products), with_segment_shares)
        datasets["segment_preferences"] = _dataset("segment_preferences", preferences, held)

        baskets = _baskets(orders, lines)
        total = int(baskets.order_id.nunique().execute())
        min_pair_orders = max(k, math.ceil(min_pair_support * total))
        pairs, held = release(pair_cells(baskets, products, min_pair_orders=min_pair_orders), order_pairs)
        affinity = _dataset("product_affinity", pairs, held)
        if affinity.table.num_rows == 0 and held == (0, 0):
            affinity = SharedDataset(affinity.name, affinity.table, 0, 0, NO_PAIRS.format(orders=min_pair_orders))
        datasets["product_affinity"] = affinity

        if events is None:
            datasets["response_times"] = SharedDataset("response_times", _empty(RESPONSE_SCHEMA), 0, 0, NO_EVENTS)
        else:
            timed, held = release(response_time_cells(sessions, funnel_table), order_response_times)
            datasets["response_times"] = _dataset("response_times", timed, held)

    return SharePackage(
        k=k,
        created_at=datetime.now(UTC).replace(microsecond=0),
        data_version=runner.data_version,
        store_timezone=runner.store_timezone,
        min_pair_orders=min_pair_orders,
        datasets={name: datasets[name] for name in DATASETS},
        customers_withdrawn=len(withdrawn),
    )


def _without(table: ir.Table, withdrawn: tuple[str, ...]) -> ir.Table:
    """``table`` less the rows of the ``withdrawn`` customers (guest rows, with no key, stay)."""
    if not withdrawn or "customer_key" not in table.columns:
        return table
    left_out = ibis.memtable({"withdrawn_key": list(withdrawn)}, schema={"withdrawn_key": "string"})
    return table.anti_join(left_out, table.customer_key == left_out.withdrawn_key)


def _release(cells: ir.Table, k: int, finish: Finish | None) -> tuple[ir.Table, tuple[int, int]]:
    """Suppress small cells, then compute totals, shares and links from what is released."""
    split = suppress_small_cells(cells, k=k)
    released = split.released if finish is None else finish(split.released)
    return released, split.counts()


def _dataset(name: str, table: ir.Table, held: tuple[int, int]) -> SharedDataset:
    return SharedDataset(name, _rounded(table.to_pyarrow()), held[0], held[1])


def _rounded(table: pa.Table) -> pa.Table:
    for index, column in enumerate(table.schema):
        if pa.types.is_floating(column.type):
            table = table.set_column(index, column.name, pc.round(table.column(index), FLOAT_DIGITS))
    return table


def _empty(schema: pa.Schema) -> pa.Table:
    return schema.empty_table()


def _events(runner: QueryContext) -> ir.Table | None:
    try:
        events = runner.table("events")
    except Exception:  # a backend without an events table: no sessions to share
        return None
    return events if int(events.count().execute()) > 0 else None


class SharePackageQuery(Query):
    """The k-anonymous package for vendors and web designers (``shoplens share export``)."""

    kind: ClassVar[str] = "share_package"
    kept_on_disk: ClassVar[bool] = False  # arrow tables; rebuilt per data version, kept in memory by the web app

    k: int = DEFAULT_K
    min_pair_support: float = MIN_PAIR_SUPPORT
    withdrawn: tuple[str, ...] = ()  # sorted keys of customers who withdrew consent to sharing


class SharePackageResult(Result):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    query: SharePackageQuery
    package: SharePackage


@answers(SharePackageQuery, SharePackageResult)
def answer_share_package(context: QueryContext, query: SharePackageQuery) -> SharePackageResult:
    package = build_share_package(
        context, k=query.k, min_pair_support=query.min_pair_support, withdrawn=query.withdrawn
    )
    return SharePackageResult(query=query, package=package)


def share_package(
    runner: QueryRunner, *, k: int = DEFAULT_K, wait: float | None = None, withdrawn: Iterable[str] = ()
) -> SharePackage:
    """The store's share package with k, without the ``withdrawn`` customers' rows, through the runner (computed
    once per data version and set of withdrawals where kept)."""
    query = SharePackageQuery(k=k, withdrawn=tuple(sorted(set(withdrawn))))
    return runner.run(query, SharePackageResult, wait=wait).package
