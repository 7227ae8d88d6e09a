"""A small run of the kill test (benchmarks/collector_kill.py): the collector is SIGKILLed five times while a
generator sends 5,000 events; every acknowledged event ends up in the warehouse exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from shoplens.config import Settings
from shoplens.warehouse import connect

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "collector_kill.py"


def test_no_acknowledged_event_is_lost_or_stored_twice_across_kills(tmp_path: Path) -> None:
    acked_file = tmp_path / "acknowledged.txt"
    args = ["--events", "5000", "--batch", "100", "--kills", "5", "--no-baseline", "--json"]
    args += ["--home", str(tmp_path), "--acked-file", str(acked_file)]
    run = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout)["killed"]
    assert report["kills"] == 5
    acknowledged = acked_file.read_text().split()
    assert len(acknowledged) == 5000  # the generator retries every batch until it is acknowledged
    with connect(Settings(home=tmp_path / "killed"), read_only=True) as warehouse:
        stored = Counter(warehouse.backend.table("events").event_id.to_pandas())
    assert [event_id for event_id in acknowledged if stored[event_id] != 1] == []
    assert sum(stored.values()) == 5000
    assert (report["lost"], report["duplicates"]) == (0, 0)
