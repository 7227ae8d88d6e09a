""":func:`generate_demo_store`: the demo store's files, written block by block, and what is in them."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow.parquet as pq

from shoplens.errors import InputError
from shoplens.ingest.demo._block import _Block, _simulate_block, _Totals
from shoplens.ingest.demo._calendar import CHINESE_NEW_YEAR, _build_calendar, _Calendar
from shoplens.ingest.demo._catalogue import _build_catalogue, _Catalogue, _catalogue_size
from shoplens.ingest.demo._events import EVENTS_SCHEMA, _events_table
from shoplens.ingest.demo._feedback import FEEDBACK_SCHEMA, _feedback_table
from shoplens.ingest.demo._orders_csv import ORDER_COLUMNS, _orders_csv
from shoplens.ingest.demo._service import _inventory_table, _tickets_table
from shoplens.ingest.demo._spend import _marketing_spend_table

ProgressCallback = Callable[[str, int, int], None]
DEMO_MAPPING = resources.files("shoplens.ingest").joinpath("mappings/demo.yaml")  # copied next to orders.csv
DEMO_TIMEZONE = "Asia/Hong_Kong"  # the demo store is a Hong Kong shop
MAX_BLOCK_CUSTOMERS = 50_000
EVENT_CHUNK_ORDERS = 20_000  # web sessions are built for this many orders at a time (~30 events per order)
LINES_PER_CUSTOMER_GUESS = 3.7  # used only to size blocks and the catalogue when max_order_lines is given


@dataclass(frozen=True)
class DemoFiles:
    """What :func:`generate_demo_store` wrote: paths, and counts of what is in them.

    ``customers`` counts distinct customer ids in orders.csv (guest orders have none); ``refunds``
    counts orders with a refund amount (refunded, partially refunded and cancelled orders).
    """

    out_dir: Path
    orders_path: Path
    mapping_path: Path
    products_path: Path
    events_path: Path | None
    feedback_path: Path
    marketing_spend_path: Path
    events_calendar_path: Path
    inventory_path: Path | None
    tickets_path: Path
    orders: int
    order_lines: int
    customers: int
    refunds: int
    events: int
    feedback: int
    products: int


def generate_demo_store(
    out_dir: Path,
    *,
    customers: int = 5000,
    seed: int = 0,
    end: date | None = None,
    days: int = 730,
    max_order_lines: int | None = None,
    with_events: bool = True,
    progress: ProgressCallback | None = None,
) -> DemoFiles:
    """Write a demo store into ``out_dir`` (created if needed) and say what was written.

    ``customers`` customers make their first order within the ``days`` days (UTC) that end on ``end``, the last
    day of orders; by default yesterday in ``DEMO_TIMEZONE`` (:func:`default_end`), so the store looks current.
    Pass ``end`` for files that do not change with the day they are made on. With
    ``max_order_lines``, ``customers`` is ignored: blocks of customers are added until exactly
    ``max_order_lines`` order lines are written (the last order may be cut short), and the catalogue
    is sized for the number of customers that is expected to take. ``with_events=False`` skips the
    web sessions (events.parquet), which are ~10x the orders in rows. ``progress(step, done, total)``
    is called after each step: ``products``, then per block ``customers`` (or ``order_lines`` with
    ``max_order_lines``), then ``marketing_spend``, ``events_calendar``, ``inventory`` (daily stock, read off the
    orders written; not with ``with_events=False``, for the very large stores that option is for) and
    ``tickets`` (support tickets of reviewers).
    """
    end = end if end is not None else default_end(DEMO_TIMEZONE)
    _check_arguments(customers=customers, days=days, max_order_lines=max_order_lines, end=end)
    start = end - timedelta(days=days - 1)
    report = progress or _no_progress
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    seeds = np.random.SeedSequence(seed)
    catalogue_seed, spend_seed, blocks_seed = seeds.spawn(3)

    calendar = _build_calendar(start, days)
    expected_customers = customers if max_order_lines is None else math.ceil(max_order_lines / LINES_PER_CUSTOMER_GUESS)
    catalogue = _build_catalogue(_generator(catalogue_seed), _catalogue_size(expected_customers))
    products_path = out_dir / "products.parquet"
    pq.write_table(catalogue.table(), products_path)
    report("products", 1, 1)

    mapping_path = out_dir / "mapping.yaml"
    mapping_path.write_bytes(DEMO_MAPPING.read_bytes())

    paths = _BlockFiles(
        orders=out_dir / "orders.csv",
        feedback=out_dir / "feedback.parquet",
        events=out_dir / "events.parquet" if with_events else None,
    )
    totals = _Totals(days)
    _write_blocks(paths, blocks_seed, calendar, catalogue, totals, _BlockSizes(customers, max_order_lines), report)

    marketing_spend_path = out_dir / "marketing_spend.parquet"
    pq.write_table(_marketing_spend_table(_generator(spend_seed), calendar, totals), marketing_spend_path)
    report("marketing_spend", 1, 1)
    events_calendar_path = out_dir / "events_calendar.parquet"
    pq.write_table(calendar.table(), events_calendar_path)
    report("events_calendar", 1, 1)
    (service_seed,) = seeds.spawn(1)
    inventory_rng, tickets_rng = (_generator(s) for s in service_seed.spawn(2))
    inventory_path = out_dir / "inventory.parquet" if with_events else None
    if inventory_path is not None:
        pq.write_table(_inventory_table(inventory_rng, paths.orders, catalogue.product_ids, calendar), inventory_path)
        report("inventory", 1, 1)
    tickets_path = out_dir / "tickets.parquet"
    pq.write_table(_tickets_table(tickets_rng, paths.feedback, calendar), tickets_path)
    report("tickets", 1, 1)

    return DemoFiles(
        out_dir=out_dir,
        orders_path=paths.orders,
        mapping_path=mapping_path,
        products_path=products_path,
        events_path=paths.events,
        feedback_path=paths.feedback,
        marketing_spend_path=marketing_spend_path,
        events_calendar_path=events_calendar_path,
        inventory_path=inventory_path,
        tickets_path=tickets_path,
        orders=totals.orders,
        order_lines=totals.order_lines,
        customers=totals.customers,
        refunds=totals.refunds,
        events=totals.events,
        feedback=totals.feedback,
        products=catalogue.size,
    )


def default_end(zone: str, now: datetime | None = None) -> date:
    """Yesterday in the store's time zone ``zone``: the demo store's default last day of orders.

    The generator's days are UTC days, so the window ends at midnight UTC after its last day; where that instant
    is still to come (east of UTC, in the first hours of the local day) the window ends a day earlier, so that no
    order lies in the future.
    """
    now = now if now is not None else datetime.now(UTC)
    yesterday = now.astimezone(ZoneInfo(zone)).date() - timedelta(days=1)
    latest_complete_utc_day = now.astimezone(UTC).date() - timedelta(days=1)
    return min(yesterday, latest_complete_utc_day)


def _check_arguments(*, customers: int, days: int, max_order_lines: int | None, end: date) -> None:
    if customers < 1:
        raise InputError("customers must be at least 1")
    if days < 1:
        raise InputError("days must be at least 1")
    if max_order_lines is not None and max_order_lines < 1:
        raise InputError("max_order_lines must be at least 1")
    start = end - timedelta(days=days - 1)
    known_years = f"{min(CHINESE_NEW_YEAR)}-{max(CHINESE_NEW_YEAR)}"
    if start.year not in CHINESE_NEW_YEAR or end.year not in CHINESE_NEW_YEAR:
        raise InputError(
            f"the demo store's calendar covers {known_years}; choose an end date and days inside it "
            f"(this one runs {start} to {end})"
        )


@dataclass(frozen=True)
class _BlockFiles:
    """The files written block by block; ``events`` is None without web sessions."""

    orders: Path
    feedback: Path
    events: Path | None


@dataclass(frozen=True)
class _BlockSizes:
    """How many customers the next block gets: all that are left (at most a block), or enough for the line budget."""

    customers: int
    max_order_lines: int | None

    def next_block(self, customers_done: int, totals: _Totals) -> tuple[int, int | None]:
        """(customers, line budget) of the next block; no customers when the store is complete."""
        if self.max_order_lines is None:
            return min(MAX_BLOCK_CUSTOMERS, self.customers - customers_done), None
        line_budget = self.max_order_lines - totals.order_lines
        if line_budget == 0:
            return 0, line_budget
        return min(MAX_BLOCK_CUSTOMERS, math.ceil(line_budget / LINES_PER_CUSTOMER_GUESS) + 20), line_budget

    def report(self, report: ProgressCallback, customers_done: int, totals: _Totals) -> None:
        if self.max_order_lines is None:
            report("customers", customers_done, self.customers)
        else:
            report("order_lines", totals.order_lines, self.max_order_lines)


def _write_blocks(
    paths: _BlockFiles,
    blocks_seed: np.random.SeedSequence,
    calendar: _Calendar,
    catalogue: _Catalogue,
    totals: _Totals,
    sizes: _BlockSizes,
    report: ProgressCallback,
) -> None:
    """Simulate blocks of customers until the store is complete, appending each block to the files."""
    feedback_writer = pq.ParquetWriter(paths.feedback, FEEDBACK_SCHEMA)
    events_writer = pq.ParquetWriter(paths.events, EVENTS_SCHEMA) if paths.events is not None else None
    try:
        with paths.orders.open("wb") as orders_file:
            orders_file.write((",".join(ORDER_COLUMNS) + "\n").encode())
            customers_done = 0
            while True:
                block_customers, line_budget = sizes.next_block(customers_done, totals)
                if block_customers <= 0:
                    break
                simulation_seed, events_seed, feedback_seed = blocks_seed.spawn(1)[0].spawn(3)
                block = _simulate_block(
                    _generator(simulation_seed), block_customers, line_budget, calendar, catalogue, totals
                )
                orders_file.write(_orders_csv(block, calendar, catalogue))
                feedback = _feedback_table(_generator(feedback_seed), block, calendar, catalogue, totals.feedback + 1)
                feedback_writer.write_table(feedback)
                totals.feedback += feedback.num_rows
                if events_writer is not None:
                    _write_events(events_writer, _generator(events_seed), block, calendar, catalogue, totals)
                totals.add_block(block)
                customers_done += block_customers
                sizes.report(report, customers_done, totals)
    finally:
        feedback_writer.close()
        if events_writer is not None:
            events_writer.close()


def _write_events(
    writer: pq.ParquetWriter,
    rng: np.random.Generator,
    block: _Block,
    calendar: _Calendar,
    catalogue: _Catalogue,
    totals: _Totals,
) -> None:
    """The block's web sessions, EVENT_CHUNK_ORDERS orders at a time, numbered on from the blocks before."""
    for first in range(0, block.order_count, EVENT_CHUNK_ORDERS):
        orders = range(first, min(first + EVENT_CHUNK_ORDERS, block.order_count))
        events, sessions = _events_table(
            rng, block, calendar, catalogue, orders, totals.events + 1, totals.sessions + 1
        )
        writer.write_table(events)
        totals.events += events.num_rows
        totals.sessions += sessions


def _no_progress(step: str, done: int, total: int) -> None:
    del step, done, total


def _generator(seed: np.random.SeedSequence) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seed))
