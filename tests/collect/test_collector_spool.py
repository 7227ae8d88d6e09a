"""The spool and its loader: loading is idempotent by event id, a torn last line is quarantined and counted, a
segment a collector still writes is loaded up to its last complete line and kept."""

from __future__ import annotations

import json
import os
from typing import Any

import pandas as pd
import pytest
from tests.collect.conftest import NOW, event

from shoplens.config import Settings
from shoplens.warehouse import EventSpool, SpoolLoad, connect, load_spool
from shoplens.web._collector import check_event


def stored(*events: dict[str, Any]) -> list[dict[str, Any]]:
    """The events as the collector writes them to the spool."""
    rows = []
    for sent in events:
        row, reason = check_event(sent, NOW)
        assert reason is None
        assert row is not None
        rows.append(row)
    return rows


def load(settings: Settings) -> SpoolLoad:
    with connect(settings) as warehouse:
        return load_spool(warehouse, settings.spool_dir, settings.store_secret(), settings.quarantine_dir)


def events_table(settings: Settings) -> pd.DataFrame:
    with connect(settings, read_only=True) as warehouse:
        frame: pd.DataFrame = warehouse.backend.table("events").to_pandas()
    return frame.sort_values("event_id").reset_index(drop=True)


def test_loading_twice_adds_nothing_and_an_event_sent_twice_is_stored_once(
    settings: Settings, spool: EventSpool
) -> None:
    spool.append(stored(event("a"), event("b"), event("a")))
    spool.append(stored(event("b"), event("c", type="cart")))
    spool.close()
    first = load(settings)
    assert (first.events_loaded, first.duplicates, first.quarantined, first.segments_removed) == (3, 2, 0, 1)
    assert list(events_table(settings).event_id) == ["a", "b", "c"]

    second_spool = EventSpool(settings.spool_dir)
    second_spool.append(stored(event("c", type="cart"), event("d")))  # a retry of c, and one new event
    second_spool.close()
    second = load(settings)
    assert (second.events_loaded, second.duplicates) == (1, 1)
    again = load(settings)
    assert (again.events_loaded, again.duplicates, again.segments_removed) == (0, 0, 0)
    table = events_table(settings)
    assert list(table.event_id) == ["a", "b", "c", "d"]
    assert list(table.type) == ["view", "view", "cart", "view"]
    assert list(settings.spool_dir.glob("events-*.jsonl")) == []


def test_the_customer_id_becomes_the_pseudonymous_key(settings: Settings, spool: EventSpool) -> None:
    spool.append(stored(event("a", customer_id="C-1001"), event("b", customer_id="C-1001"), event("c")))
    spool.close()
    load(settings)
    table = events_table(settings)
    assert "customer_id" not in table.columns
    keys = list(table.customer_key)
    assert keys[0] == keys[1]
    assert keys[0] not in (None, "C-1001")
    assert pd.isna(keys[2])
    assert str(table.at[0, "at"]) == "2025-06-01 12:00:00"


def test_a_torn_last_line_is_quarantined_and_counted(settings: Settings, spool: EventSpool) -> None:
    spool.append(stored(event("a"), event("b")))
    assert spool.segment is not None
    segment = spool.segment
    whole = segment.stat().st_size
    torn = json.dumps(stored(event("c"))[0]).encode()[:25]
    with segment.open("ab") as out:  # what a crash in the middle of os.write leaves
        out.write(torn)
    spool.close()  # the collector is gone: the segment is closed

    result = load(settings)
    assert (result.events_loaded, result.duplicates, result.quarantined) == (2, 0, 1)
    assert list(events_table(settings).event_id) == ["a", "b"]
    assert result.quarantine_file is not None
    quarantined = [json.loads(line) for line in result.quarantine_file.read_text().splitlines()]
    assert quarantined == [
        {
            "segment": segment.name,
            "offset": whole,
            "reason": "torn last line (a write cut short)",
            "line": torn.decode(),
        }
    ]
    assert not segment.exists()
    assert load(settings).quarantined == 0


def test_a_damaged_line_inside_a_segment_is_quarantined_and_the_rest_loaded(
    settings: Settings, spool: EventSpool
) -> None:
    spool.append(stored(event("a")))
    assert spool.segment is not None
    with spool.segment.open("ab") as out:
        out.write(b'{"event_id": "no-type"}\n')
    spool.append(stored(event("b")))
    spool.close()
    result = load(settings)
    assert (result.events_loaded, result.quarantined) == (2, 1)


def test_a_segment_still_written_is_loaded_up_to_its_last_whole_line_and_kept(
    settings: Settings, spool: EventSpool
) -> None:
    spool.append(stored(event("a")))
    assert spool.segment is not None
    segment = spool.segment
    first = load(settings)
    assert (first.events_loaded, first.segments_removed) == (1, 0)
    assert segment.exists()

    spool.append(stored(event("b")))
    handle = os.open(segment, os.O_WRONLY | os.O_APPEND)
    line = json.dumps(stored(event("c"))[0]).encode() + b"\n"
    os.write(handle, line[:30])  # a write still under way: not torn, only not finished
    second = load(settings)
    assert (second.events_loaded, second.duplicates, second.quarantined) == (1, 0, 0)

    os.write(handle, line[30:])
    os.close(handle)
    spool.close()
    third = load(settings)
    assert (third.events_loaded, third.duplicates, third.quarantined, third.segments_removed) == (1, 0, 0, 1)
    assert list(events_table(settings).event_id) == ["a", "b", "c"]
    assert json.loads((settings.spool_dir / "loaded.json").read_text()) == {}


def test_nothing_leaves_the_spool_when_the_warehouse_load_fails(
    settings: Settings, spool: EventSpool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shoplens.errors import WarehouseError
    from shoplens.warehouse import _spool

    spool.append(stored(event("a"), event("b")))
    spool.close()

    def failing_load(*args: object) -> int:
        raise WarehouseError("the warehouse is unavailable")

    monkeypatch.setattr(_spool, "load_table_file", failing_load)
    with pytest.raises(WarehouseError):
        load(settings)
    assert len(list(settings.spool_dir.glob("events-*.jsonl"))) == 1
    monkeypatch.undo()
    assert load(settings).events_loaded == 2


def test_an_empty_or_absent_spool_loads_nothing(settings: Settings) -> None:
    assert load(settings) == SpoolLoad()


def test_a_full_segment_is_closed_for_a_new_one_and_loaded_and_removed(settings: Settings) -> None:
    spool = EventSpool(settings.spool_dir, max_segment_bytes=600)
    for number in range(6):
        spool.append(stored(event(f"e{number}a"), event(f"e{number}b")))  # each batch is over 300 bytes
    segments = sorted(settings.spool_dir.glob("events-*.jsonl"))
    assert len(segments) == 6
    assert spool.segment == segments[-1]
    result = load(settings)
    assert (result.events_loaded, result.segments_removed) == (12, 5)
    assert sorted(settings.spool_dir.glob("events-*.jsonl")) == [segments[-1]]
    spool.close()
