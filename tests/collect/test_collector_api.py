"""``POST /collect/v1/events``: each event checked on its own, answered only once the accepted ones are on disk;
the origin allow-list, the size limits and the rate limit."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from tests.collect.conftest import NOW, SHOP, FakeClock, event, spooled

from shoplens.config import Settings
from shoplens.web._collector import EVENT_TYPES, FIELD_LENGTHS, check_event

URL = "/collect/v1/events"


def test_each_event_is_accepted_or_rejected_with_its_index(
    collector: Callable[..., TestClient], settings: Settings
) -> None:
    events = [
        event("ok-1"),
        event("bad-type", type="click"),
        event("", session_id="S2"),
        event("ok-2", type="product_view", product_id="P-7"),
        {"event_id": "no-session", "type": "cart", "at": "2025-06-01T12:00:00Z"},
        event("naive-time", at="2025-06-01T12:00:00"),
        event("future", at="2025-06-12T12:00:01Z"),  # NOW is 2025-06-10 12:00 UTC: 2 days and 1 second ahead
        event("old", at="1989-12-31T23:59:59Z"),
        event("extra", email="someone@example.com"),
        event("x" * 101),
        "not an object",
        event("ok-3", type="registration", at="2025-06-12T12:00:00Z", customer_id="C-1"),
        event("long-page", page="/" * 2001),
        event("not-a-time", at="yesterday"),
    ]
    answer = collector().post(URL, json={"events": events})
    assert answer.status_code == 200
    assert answer.json() == {
        "accepted": 3,
        "rejected": [
            {
                "index": 1,
                "reason": "type: must be one of page_view, product_view, cart, checkout, shipping_view, order, "
                "registration",
            },
            {"index": 2, "reason": "event_id: must be one line of text of 1 to 100 characters"},
            {"index": 4, "reason": "session_id: missing"},
            {"index": 5, "reason": "at: needs a UTC offset or Z"},
            {"index": 6, "reason": "at: more than 2 days in the future"},
            {"index": 7, "reason": "at: before 1990"},
            {"index": 8, "reason": "unknown field 'email'"},
            {"index": 9, "reason": "event_id: must be one line of text of 1 to 100 characters"},
            {"index": 10, "reason": "not a JSON object"},
            {"index": 12, "reason": "page: must be one line of text of 1 to 2000 characters"},
            {"index": 13, "reason": "at: not an ISO-8601 time such as 2025-06-01T12:30:00Z"},
        ],
    }
    assert [e["event_id"] for e in spooled(settings.spool_dir)] == ["ok-1", "ok-2", "ok-3"]


def test_types_map_onto_the_warehouse_vocabulary_and_times_onto_utc(
    collector: Callable[..., TestClient], settings: Settings
) -> None:
    sent = [
        event("a", type="page_view", at="2025-06-01T14:30:00+02:00", page="/"),
        event("b", type="product_view", product_id="P-7", at="2025-06-01T12:30:00.250Z"),
        event("c", type="registration", at="2025-05-31T22:00:00-05:00"),
        event("d", type="shipping_view"),
        event("e", type="checkout", source="newsletter", medium="email", campaign="june", device="mobile"),
    ]
    assert collector().post(URL, json={"events": sent}).json() == {"accepted": 5, "rejected": []}
    stored = {e["event_id"]: e for e in spooled(settings.spool_dir)}
    assert {k: (v["type"], v["at"]) for k, v in stored.items()} == {
        "a": ("view", "2025-06-01 12:30:00"),
        "b": ("view", "2025-06-01 12:30:00.250000"),
        "c": ("registration", "2025-06-01 03:00:00"),
        "d": ("shipping_view", "2025-06-01 12:00:00"),
        "e": ("checkout", "2025-06-01 12:00:00"),
    }
    assert stored["b"]["product_id"] == "P-7"
    assert (stored["e"]["source"], stored["e"]["medium"], stored["e"]["campaign"]) == ("newsletter", "email", "june")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"events": [', "the body is not valid JSON"),
        (b"[]", 'the body must be a JSON object {"events": [...]}'),
        (b'{"events": {}}', 'the body must be a JSON object {"events": [...]}'),
        (b'{"events": [], "extra": 1}', 'the body must be a JSON object {"events": [...]}'),
        (b"\xff\xfe", "the body is not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "the body is not valid JSON"),  # nested deeper than the parser goes
    ],
)
def test_a_malformed_body_is_a_400_in_the_api_error_shape(
    collector: Callable[..., TestClient], settings: Settings, body: bytes, message: str
) -> None:
    answer = collector().post(URL, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json() == {"error": {"code": "bad_request", "message": message}}
    assert spooled(settings.spool_dir) == []


def test_the_answer_waits_for_the_fsync_of_the_accepted_events(
    collector: Callable[..., TestClient], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_disk_at_fsync: list[bytes] = []
    real_fsync = os.fsync

    def recording_fsync(handle: int) -> None:
        segments = sorted(settings.spool_dir.glob("events-*.jsonl"))
        on_disk_at_fsync.append(b"".join(p.read_bytes() for p in segments))
        real_fsync(handle)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    client = collector()
    assert on_disk_at_fsync == []
    answer = client.post(URL, json={"events": [event("first"), event("second")]})
    assert answer.json() == {"accepted": 2, "rejected": []}
    # the new segment's directory entry and then the batch itself were fsynced before the answer came back
    assert len(on_disk_at_fsync) == 2
    assert b'"event_id":"first"' in on_disk_at_fsync[-1]
    assert b'"event_id":"second"' in on_disk_at_fsync[-1]


def test_events_whose_fsync_fails_are_not_acknowledged(
    collector: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_fsync(handle: int) -> None:
        raise OSError(5, "Input/output error")

    client = collector()
    monkeypatch.setattr(os, "fsync", failing_fsync)
    answer = client.post(URL, json={"events": [event("lost")]})
    assert answer.status_code == 503
    assert answer.json() == {
        "error": {"code": "unavailable", "message": "the events could not be stored; send them again"}
    }


def test_only_allowed_origins_may_send_events(collector: Callable[..., TestClient], settings: Settings) -> None:
    client = collector()
    refused = client.post(URL, json={"events": [event("evil")]}, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert refused.json() == {"error": {"code": "forbidden", "message": "this origin may not send events here"}}
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    assert client.options(URL, headers=preflight).status_code == 403

    allowed = client.options(URL, headers={**preflight, "Origin": SHOP})
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == SHOP
    assert allowed.headers["access-control-allow-methods"] == "POST"
    sent = client.post(URL, json={"events": [event("shop")]}, headers={"Origin": SHOP})
    assert sent.status_code == 200
    assert sent.headers["access-control-allow-origin"] == SHOP
    # a server sending its own events has no Origin header: no page made the request
    assert client.post(URL, json={"events": [event("server")]}).status_code == 200
    assert [e["event_id"] for e in spooled(settings.spool_dir)] == ["shop", "server"]


def test_too_large_bodies_and_batches_are_refused_with_413(
    collector: Callable[..., TestClient], settings: Settings
) -> None:
    client = collector(collect_max_body_bytes=2048, collect_max_events=3)
    big_page = event("big", page="/" + "p" * 1999)
    answer = client.post(URL, json={"events": [big_page]})
    assert answer.status_code == 413
    assert answer.json() == {"error": {"code": "payload_too_large", "message": "the body may be at most 2048 bytes"}}
    many = client.post(URL, json={"events": [event(f"e{i}") for i in range(4)]})
    assert many.status_code == 413
    assert many.json()["error"]["message"] == "at most 3 events per request"
    assert client.post(URL, json={"events": [event(f"e{i}") for i in range(3)]}).json()["accepted"] == 3
    assert len(spooled(settings.spool_dir)) == 3


def test_the_500_events_and_256_kb_defaults(collector: Callable[..., TestClient]) -> None:
    client = collector()
    assert client.post(URL, json={"events": [event(f"e{i}") for i in range(501)]}).status_code == 413
    assert client.post(URL, content=b" " * (256 * 1024 + 1)).status_code == 413


def test_a_client_over_its_rate_is_refused_with_429_until_tokens_refill(
    collector: Callable[..., TestClient], clock: FakeClock
) -> None:
    client = collector(collect_rate=2.0, collect_burst=3)
    codes = [client.post(URL, json={"events": []}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.post(URL, json={"events": []})
    assert refused.json()["error"]["code"] == "too_many_requests"
    assert refused.headers["retry-after"] == "1"
    clock.seconds += 0.5  # two tokens a second: one more request
    assert [client.post(URL, json={"events": []}).status_code for _ in range(2)] == [200, 429]


def test_the_snippet_is_served(collector: Callable[..., TestClient]) -> None:
    answer = collector().get("/collect/v1/snippet.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    source = (Path(__file__).parents[2] / "src/shoplens/web/static/shoplens-collect.js").read_text()
    assert answer.text == source


def test_bad_origin_settings_are_refused() -> None:
    from pydantic import ValidationError

    from shoplens.web import CollectorSettings

    assert CollectorSettings(collect_origins="https://Shop.example/, http://localhost:3000").collect_origins == [
        "https://shop.example",
        "http://localhost:3000",
    ]
    with pytest.raises(ValidationError, match="an allowed origin must look like"):
        CollectorSettings(collect_origins=["https://shop.example/checkout"])


_values = st.one_of(st.none(), st.text(max_size=120), st.integers(), st.booleans(), st.lists(st.integers(), max_size=2))
_field_names = st.one_of(st.sampled_from(sorted(FIELD_LENGTHS)), st.text(min_size=1, max_size=12))


@given(st.dictionaries(_field_names, _values, max_size=12))
def test_any_event_is_either_stored_whole_or_refused_with_a_reason(sent: dict[str, object]) -> None:
    stored, reason = check_event(sent, NOW)
    if stored is None:
        assert isinstance(reason, str)
        assert reason
        return
    assert reason is None
    assert set(stored) == set(FIELD_LENGTHS)
    assert stored["type"] == EVENT_TYPES[str(sent["type"])]
    assert set(sent) <= set(FIELD_LENGTHS)
    assert all(stored[k] == sent.get(k) for k in FIELD_LENGTHS if k not in ("type", "at"))


@given(
    st.datetimes(min_value=datetime(1990, 1, 2), max_value=datetime(2025, 6, 11)),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_a_time_with_any_offset_is_stored_as_the_same_instant_in_utc(local: datetime, offset_minutes: int) -> None:
    moment = local.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    stored, reason = check_event(event("t", at=moment.isoformat()), NOW)
    assert reason is None
    assert stored is not None
    assert datetime.fromisoformat(stored["at"]).replace(tzinfo=UTC) == moment
