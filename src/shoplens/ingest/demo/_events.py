"""events.parquet: web sessions around the orders (converting and abandoned ones) and their events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shoplens.ingest.demo._block import _Block
from shoplens.ingest.demo._calendar import SECONDS_PER_DAY, _Calendar, _seconds_of_day
from shoplens.ingest.demo._catalogue import _Catalogue
from shoplens.ingest.demo._columns import _join, _numbered, _texts
from shoplens.ingest.demo._sampling import BoolArray, IntArray, _categorical, _group_starts, _GroupedChoice
from shoplens.ingest.demo._shop import CHANNEL_NAMES, CHANNELS, DEVICES, DISCOUNT_CODES, MARKETPLACE, SESSION_DEVICE_MIX

# Web sessions that do not convert, per converting session: funnel view 100 % -> cart ~30 % -> checkout ~15 %
# -> order ~9 % of sessions.
VIEW_ONLY_SESSIONS_PER_ORDER = 7.8
CART_ABANDON_SESSIONS_PER_ORDER = 1.67
CHECKOUT_ABANDON_SESSIONS_PER_ORDER = 0.67
ABANDONED_CHECKOUT_SHIPPING_VIEW_SHARE = 0.8
KNOWN_VISITOR_SHARE = 0.3
EVENT_TYPES = ("view", "cart", "checkout", "shipping_view", "order")
VIEW, CART, CHECKOUT, SHIPPING_VIEW, ORDER = range(5)
EVENT_PAGES = ("", "/cart", "/checkout", "/checkout/shipping", "/checkout/thank-you")
# source, medium, campaign per channel (marketplace orders happen on the marketplace, not on the site)
TRAFFIC_SOURCES: tuple[tuple[str, tuple[tuple[str, str, str | None, float], ...]], ...] = (
    ("organic", (("google", "organic", None, 0.8), ("bing", "organic", None, 0.08), ("direct", "(none)", None, 0.12))),
    ("paid_search", (("google", "cpc", "brand", 0.45), ("google", "cpc", "generic", 0.55))),
    ("social", (("instagram", "paid_social", "new_arrivals", 0.5), ("facebook", "paid_social", "retargeting", 0.3),
                ("instagram", "paid_social", "lookalike", 0.2))),
    ("email", (("newsletter", "email", "weekly_newsletter", 0.6), ("newsletter", "email", "winback", 0.2),
               ("newsletter", "email", "welcome_series", 0.2))),
    ("referral", (("friend_referral", "referral", None, 0.7), ("lifestyle_blog", "referral", None, 0.3))),
    ("marketplace", (("hktvmall", "marketplace", None, 1.0),)),
)  # fmt: skip
SALE_CAMPAIGN_SHARE = 0.6  # paid, social and e-mail sessions on a sale day that carry the sale's campaign
EVENTS_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("session_id", pa.string()),
        ("customer_id", pa.string()),
        ("type", pa.string()),
        ("at", pa.timestamp("us", tz="UTC")),
        ("page", pa.string()),
        ("product_id", pa.string()),
        ("source", pa.string()),
        ("medium", pa.string()),
        ("campaign", pa.string()),
        ("device", pa.string()),
    ]
)
SOURCE_ROWS = tuple(row for _, rows in TRAFFIC_SOURCES for row in rows)
SOURCE_CHOICE = _GroupedChoice.build(
    np.array([CHANNEL_NAMES.index(name) for name, rows in TRAFFIC_SOURCES for _ in rows], dtype=np.int64),
    np.array([row[3] for row in SOURCE_ROWS]),
    len(CHANNELS),
)
CAMPAIGN_CHANNELS = np.array([name in ("paid_search", "social", "email") for name in CHANNEL_NAMES])


def _events_table(
    rng: np.random.Generator,
    block: _Block,
    calendar: _Calendar,
    catalogue: _Catalogue,
    orders: range,
    first_event_number: int,
    first_session_number: int,
) -> tuple[Any, int]:
    """Web sessions and their events (table, session count) around some of the block's orders.

    One converting session per order placed on the site, and around it, the same day, sessions that stop at the
    product page, the cart or the checkout. Known visitors of sessions without an order are customers of the same
    block who had already bought before. The steps draw from ``rng`` in this order.
    """
    sessions = _draw_sessions(rng, block, orders)
    events = _draw_session_events(rng, block, catalogue, sessions)
    event_seconds = _draw_event_seconds(rng, block, calendar, sessions, events)
    session_count, event_session, position = sessions.count, events.session, events.position
    source_row = SOURCE_CHOICE.sample(rng, sessions.channel)
    sale_code = calendar.sale_code[sessions.day]
    sale_campaign = (
        CAMPAIGN_CHANNELS[sessions.channel] & (sale_code >= 0) & (rng.random(session_count) < SALE_CAMPAIGN_SHARE)
    )

    in_time_order = np.lexsort((position, event_session, event_seconds))
    session_rank = np.empty(session_count, dtype=np.int64)
    session_rank[np.lexsort((np.arange(session_count), event_seconds[events.first_event]))] = np.arange(session_count)
    event_session_sorted = event_session[in_time_order]
    product_sorted = events.product[in_time_order]
    type_sorted = events.type[in_time_order]
    campaign_names = [campaign for _, _, campaign, _ in SOURCE_ROWS] + [code.lower() for code, _ in DISCOUNT_CODES]
    campaign = _texts(campaign_names, np.where(sale_campaign, len(SOURCE_ROWS) + sale_code, source_row))

    product_ids = _texts(catalogue.product_ids, np.maximum(product_sorted, 0), product_sorted < 0)
    page = pc.if_else(
        pa.array(type_sorted == VIEW),
        _join("/products/", product_ids),
        _texts(EVENT_PAGES, type_sorted),
    )
    session_of = pa.array(event_session_sorted)
    visitor_sorted = sessions.visitor[event_session_sorted]
    table = pa.table(
        {
            "event_id": _numbered("E", first_event_number + np.arange(len(event_session)), 9),
            "session_id": _numbered("S", first_session_number + session_rank[event_session_sorted], 8),
            "customer_id": pc.if_else(
                pa.array(visitor_sorted >= 0),
                _numbered("D", block.first_customer_number + np.maximum(visitor_sorted, 0), 6),
                pa.scalar(None, pa.string()),
            ),
            "type": _texts(EVENT_TYPES, type_sorted),
            "at": pa.array((calendar.start_epoch_seconds + event_seconds[in_time_order]) * 1_000_000).cast(
                pa.timestamp("us", tz="UTC")
            ),
            "page": page,
            "product_id": product_ids,
            "source": _texts([r[0] for r in SOURCE_ROWS], source_row).take(session_of),
            "medium": _texts([r[1] for r in SOURCE_ROWS], source_row).take(session_of),
            "campaign": campaign.take(session_of),
            "device": _texts(DEVICES, sessions.device).take(session_of),
        },
        schema=EVENTS_SCHEMA,
    )
    return table, session_count


@dataclass(frozen=True)
class _Sessions:
    """Web sessions, converting ones first: the order each is around, how deep it got, and who came how."""

    order: IntArray  # index of the block's order the session is around
    depth: IntArray  # deepest step reached: CART means stopped after the cart, and so on
    converting: BoolArray
    day: IntArray
    channel: IntArray
    device: IntArray
    visitor: IntArray  # the block's customer index, -1 for an anonymous visitor

    @property
    def count(self) -> int:
        return len(self.order)


def _draw_sessions(rng: np.random.Generator, block: _Block, orders: range) -> _Sessions:
    """One converting session per order placed on the site, and Poisson numbers of abandoned sessions around it."""
    site_orders = orders.start + np.flatnonzero(block.order_channel[orders.start : orders.stop] != MARKETPLACE)
    abandoned = rng.poisson(
        (VIEW_ONLY_SESSIONS_PER_ORDER, CART_ABANDON_SESSIONS_PER_ORDER, CHECKOUT_ABANDON_SESSIONS_PER_ORDER),
        size=(len(site_orders), 3),
    ).ravel()
    converting = len(site_orders)
    session_order = np.concatenate([site_orders, np.repeat(np.repeat(site_orders, 3), abandoned)])
    session_depth = np.concatenate(
        [np.full(converting, ORDER), np.repeat(np.tile(np.array([VIEW, CART, CHECKOUT]), converting), abandoned)]
    ).astype(np.int64)
    session_count = len(session_order)
    is_converting = np.arange(session_count) < converting

    day = block.order_seconds[session_order] // SECONDS_PER_DAY
    session_channel = np.where(
        is_converting,
        block.order_channel[session_order],
        _categorical(rng, [c.traffic_share for c in CHANNELS], session_count),
    )
    session_device = np.where(
        is_converting,
        block.order_device[session_order],
        _categorical(rng, SESSION_DEVICE_MIX, session_count),
    )
    # Visitors: the buyer (none for a guest), or now and then a customer who had already bought before that day.
    first_seconds = day * SECONDS_PER_DAY
    earlier_customers = np.searchsorted(block.first_order_seconds, first_seconds, side="left")
    known_visitor = (rng.random(session_count) < KNOWN_VISITOR_SHARE) & (earlier_customers > 0)
    visitor = np.where(
        known_visitor, np.floor(rng.random(session_count) * np.maximum(earlier_customers, 1)).astype(np.int64), -1
    )
    visitor = np.where(
        is_converting, np.where(block.order_guest[session_order], -1, block.order_customer[session_order]), visitor
    )
    return _Sessions(session_order, session_depth, is_converting, day, session_channel, session_device, visitor)


@dataclass(frozen=True)
class _SessionEvents:
    """The sessions' events, grouped by session: step type and product (-1: none) of each."""

    session: IntArray
    position: IntArray  # within its session
    type: IntArray
    product: IntArray
    first_event: IntArray  # per session
    per_session: IntArray  # per session


def _draw_session_events(
    rng: np.random.Generator, block: _Block, catalogue: _Catalogue, sessions: _Sessions
) -> _SessionEvents:
    """Each session's steps (views, carts, checkout, shipping view, order) and the products viewed and carted.

    A converting session views and carts what was ordered; other views follow popularity; an abandoned cart holds
    the first product viewed.
    """
    session_order, session_depth, is_converting = sessions.order, sessions.depth, sessions.converting
    ordered_lines = np.where(is_converting, block.order_line_count[session_order], 0)
    views = np.where(is_converting, ordered_lines, 1) + rng.poisson(np.where(is_converting, 1.0, 1.3))
    carts = np.where(is_converting, ordered_lines, (session_depth >= CART).astype(np.int64))
    checkouts = (session_depth >= CHECKOUT).astype(np.int64)
    shipping_views = np.where(
        is_converting,
        block.order_shipping_cents[session_order] > 0,
        (session_depth == CHECKOUT) & (rng.random(sessions.count) < ABANDONED_CHECKOUT_SHIPPING_VIEW_SHARE),
    ).astype(np.int64)
    order_events = is_converting.astype(np.int64)
    per_session = views + carts + checkouts + shipping_views + order_events

    event_session = np.repeat(np.arange(sessions.count), per_session)
    session_first_event = _group_starts(per_session)
    position = np.arange(len(event_session)) - session_first_event[event_session]
    step_ends = np.cumsum(np.stack([views, carts, checkouts, shipping_views, order_events]), axis=0)
    event_type = (position[None, :] >= step_ends[:, event_session]).sum(axis=0).astype(np.int64)

    line_start = block.order_line_start[session_order][event_session]
    from_order = is_converting[event_session] & (
        ((event_type == VIEW) & (position < ordered_lines[event_session])) | (event_type == CART)
    )
    cart_position = np.where(event_type == CART, position - views[event_session], position)
    product = np.where(
        from_order,
        block.line_product[np.minimum(line_start + cart_position, block.line_count - 1)],
        _categorical(rng, catalogue.popularity, len(event_session)),
    )
    abandoned_cart = (event_type == CART) & ~is_converting[event_session]
    product = np.where(abandoned_cart, product[session_first_event[event_session]], product)
    product = np.where(event_type <= CART, product, -1)
    return _SessionEvents(event_session, position, event_type, product, session_first_event, per_session)


def _draw_event_seconds(
    rng: np.random.Generator, block: _Block, calendar: _Calendar, sessions: _Sessions, events: _SessionEvents
) -> IntArray:
    """When each event happened: a few seconds to minutes apart; a converting session ends with its order."""
    session_first_event, event_session = events.first_event, events.session
    gaps = (rng.exponential(50.0, len(event_session)) + 3).astype(np.int64)
    gaps[session_first_event] = 0
    elapsed = np.cumsum(gaps)
    elapsed -= elapsed[session_first_event][event_session]
    session_span = elapsed[session_first_event + events.per_session - 1]
    order_end = block.order_seconds[sessions.order]
    first_seconds = sessions.day * SECONDS_PER_DAY
    session_start = np.where(
        sessions.converting, order_end - session_span, first_seconds + _seconds_of_day(rng, sessions.count)
    )
    event_seconds: IntArray = np.clip(session_start[event_session] + elapsed, 0, calendar.end_seconds - 1)
    return event_seconds
