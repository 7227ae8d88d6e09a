"""The first-party event collector: ``POST /collect/v1/events`` writes a shop's browser events to the spool.

A batch is ``{"events": [...]}``; each event is checked on its own. The answer ``{"accepted": N, "rejected":
[{"index", "reason"}]}`` is sent only after the accepted events are fsynced to the spool (``shoplens collect
load`` later moves them into the warehouse); a rejected event is never stored, not even in part. The event types
a page sends are mapped onto the warehouse's ``events.type`` vocabulary (:data:`EVENT_TYPES`).

Guards, in this order: the ``Origin`` allow-list (403), a token bucket per client address (429), the size of the
body and the number of events (413), the shape of the body (400, the API's one error shape). Nothing a visitor
sent (their ids, pages, address) is logged; reasons name fields, never their values.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from shoplens import __version__
from shoplens.errors import WarehouseError
from shoplens.warehouse import EventSpool
from shoplens.web._errors import ApiError, install_error_handlers
from shoplens.web._settings import CollectorSettings

COLLECT_PREFIX = "/collect/v1"
SNIPPET = resources.files("shoplens.web").joinpath("static", "shoplens-collect.js")
# What a page sends → the warehouse's events.type (the funnel's steps are view, cart, checkout, order).
EVENT_TYPES = {
    "page_view": "view",
    "product_view": "view",
    "cart": "cart",
    "checkout": "checkout",
    "shipping_view": "shipping_view",
    "order": "order",
    "registration": "registration",
}
# Each field an event may have and its longest length; the first four are required.
FIELD_LENGTHS = {
    "event_id": 100,
    "type": 20,
    "at": 40,
    "session_id": 100,
    "page": 2000,
    "customer_id": 100,
    "product_id": 100,
    "source": 200,
    "medium": 200,
    "campaign": 200,
    "device": 50,
}
REQUIRED_FIELDS = ("event_id", "type", "at", "session_id")
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_LEEWAY = timedelta(days=2)
MAX_CLIENTS = 10_000  # rate-limit buckets kept in memory; idle ones are dropped first

log = logging.getLogger("shoplens.collector")


class TokenBuckets:
    """A token bucket per client address: ``rate`` requests a second sustained, ``burst`` at once."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, float(burst), clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 if ``client`` may send a request now (one token is taken), else the seconds until it may."""
        with self._lock:
            now = self.clock()
            tokens, then = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            if tokens >= 1:
                if client not in self._buckets and len(self._buckets) >= MAX_CLIENTS:
                    self._forget_idle(now)
                self._buckets[client] = (tokens - 1, now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1 - tokens) / self.rate

    def _forget_idle(self, now: float) -> None:
        refill = self.burst / self.rate
        self._buckets = {c: (t, at) for c, (t, at) in self._buckets.items() if now - at < refill}
        if len(self._buckets) >= MAX_CLIENTS:  # all busy: drop the oldest half
            oldest = sorted(self._buckets.items(), key=lambda item: item[1][1])[: MAX_CLIENTS // 2]
            for client, _ in oldest:
                del self._buckets[client]


def _is_text(value: object, longest: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= longest and value.isprintable()


def _check_time(value: str, now: datetime) -> tuple[str | None, str | None]:
    """(the time in UTC as the warehouse stores it, None) or (None, the reason it is refused)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None, "at: not an ISO-8601 time such as 2025-06-01T12:30:00Z"
    if moment.tzinfo is None or moment.utcoffset() is None:
        return None, "at: needs a UTC offset or Z"
    if moment < EARLIEST:
        return None, "at: before 1990"
    if moment > now + FUTURE_LEEWAY:
        return None, "at: more than 2 days in the future"
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" "), None


def _field_reason(event: dict[Any, Any]) -> str | None:
    """Why the fields of ``event`` are unusable (unknown, missing, too long, not text), or None."""
    unknown = [name for name in event if name not in FIELD_LENGTHS]
    if unknown:
        name = str(unknown[0])
        return f"unknown field {name[:40]!r}" if name.isidentifier() else "unknown field"
    for name in REQUIRED_FIELDS:
        if event.get(name) is None:
            return f"{name}: missing"
    for name, longest in FIELD_LENGTHS.items():
        value = event.get(name)
        if value is not None and not _is_text(value, longest):
            return f"{name}: must be one line of text of 1 to {longest} characters"
    if event["type"] not in EVENT_TYPES:
        return f"type: must be one of {', '.join(EVENT_TYPES)}"
    return None


def check_event(event: object, now: datetime) -> tuple[dict[str, Any] | None, str | None]:
    """(the event as the spool stores it, None) or (None, why it is refused)."""
    if not isinstance(event, dict):
        return None, "not a JSON object"
    reason = _field_reason(event)
    if reason is not None:
        return None, reason
    at, reason = _check_time(event["at"], now)
    if reason is not None:
        return None, reason
    stored = {name: event.get(name) for name in FIELD_LENGTHS}
    stored.update(type=EVENT_TYPES[event["type"]], at=at)
    return stored, None


def check_batch(document: object, now: datetime, max_events: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The accepted events and the rejections ``{"index", "reason"}`` of a request body."""
    if not isinstance(document, dict) or set(document) != {"events"} or not isinstance(document["events"], list):
        raise ApiError(400, "bad_request", 'the body must be a JSON object {"events": [...]}')
    events = document["events"]
    if len(events) > max_events:
        raise ApiError(413, "payload_too_large", f"at most {max_events} events per request")
    accepted, rejected = [], []
    for index, event in enumerate(events):
        stored, reason = check_event(event, now)
        if stored is None:
            rejected.append({"index": index, "reason": reason})
        else:
            accepted.append(stored)
    return accepted, rejected


async def _read_body(request: Request, limit: int) -> bytes:
    too_large = ApiError(413, "payload_too_large", f"the body may be at most {limit} bytes")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


class _Collector:
    """What the routes do: the origin check, the rate limit, reading and storing a batch."""

    def __init__(
        self, spool: EventSpool, config: CollectorSettings, clock: Callable[[], float], now: Callable[[], datetime]
    ) -> None:
        self.spool, self.config, self.now = spool, config, now
        self.allowed = frozenset(config.collect_origins)
        self.buckets = TokenBuckets(config.collect_rate, config.collect_burst, clock)

    def cors_headers(self, request: Request) -> dict[str, str]:
        """The CORS headers of the answer to an allowed origin; a 403 for any other origin."""
        origin = request.headers.get("origin")
        if origin is None:
            return {}
        if origin.lower() not in self.allowed:
            raise ApiError(403, "forbidden", "this origin may not send events here")
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    def preflight(self, request: Request) -> Response:
        headers = self.cors_headers(request)
        if not headers:
            raise ApiError(400, "bad_request", "a preflight request needs an Origin header")
        headers |= {
            "Access-Control-Allow-Methods": "POST",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "600",
        }
        return Response(status_code=204, headers=headers)

    async def receive(self, request: Request) -> JSONResponse:
        headers = self.cors_headers(request)
        try:
            wait = self.buckets.take(request.client.host if request.client else "unknown")
            if wait:
                retry = {"Retry-After": str(max(1, math.ceil(wait)))}
                raise ApiError(429, "too_many_requests", "too many requests from this address; slow down", retry)
            body = await _read_body(request, self.config.collect_max_body_bytes)
            try:
                document = json.loads(body)
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):  # RecursionError: nested too deep
                raise ApiError(400, "bad_request", "the body is not valid JSON") from None
            accepted, rejected = check_batch(document, self.now(), self.config.collect_max_events)
            if accepted:
                try:
                    await run_in_threadpool(self.spool.append, accepted)
                except WarehouseError as exc:
                    log.error("events not stored: %s", exc)
                    raise ApiError(503, "unavailable", "the events could not be stored; send them again") from None
        except ApiError as exc:  # an allowed page may read why it was refused
            exc.headers = headers | (exc.headers or {})
            raise
        return JSONResponse({"accepted": len(accepted), "rejected": rejected}, headers=headers)


def create_collector_app(
    spool: EventSpool,
    settings: CollectorSettings | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> FastAPI:
    """The collector writing to ``spool``; ``clock`` (for the rate limit) and ``now`` are for tests."""
    config = settings or CollectorSettings()
    collector = _Collector(spool, config, clock, now)
    app = FastAPI(
        title="shoplens collector",
        version=__version__,
        description="First-party events from a shop's pages into the shoplens spool.",
        openapi_url=f"{COLLECT_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.spool = spool
    app.state.collector_settings = config
    install_error_handlers(app)

    @app.options(f"{COLLECT_PREFIX}/events", include_in_schema=False)
    def preflight(request: Request) -> Response:
        return collector.preflight(request)

    @app.post(f"{COLLECT_PREFIX}/events", tags=["collector"])
    async def collect(request: Request) -> JSONResponse:
        """Store a batch of events ``{"events": [...]}``; the answer comes after the accepted ones are on disk."""
        return await collector.receive(request)

    @app.get(f"{COLLECT_PREFIX}/snippet.js", include_in_schema=False)
    def snippet() -> Response:
        """The page snippet that sends events here (after consent)."""
        headers = {"Cache-Control": "public, max-age=3600"}
        return Response(SNIPPET.read_bytes(), media_type="text/javascript", headers=headers)

    @app.get(f"{COLLECT_PREFIX}/health", tags=["service"])
    def health() -> dict[str, Any]:
        """The collector is up."""
        return {"status": "ok", "version": __version__}

    return app
