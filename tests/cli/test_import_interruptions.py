"""Imports that are interrupted or overlap: a kill between the warehouse's commit and the app database's record
still shows in status; status answers while an import holds the warehouse; a second import waits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from shoplens.cli._commands import run_import, store_status
from shoplens.config import Settings

ROWS = b"customer_id,date,quantity,amount\n1,1997-03-01,1,1.50\n2,1997-03-02,2,2.50\n3,1997-03-03,1,x\n"


def _child(code: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_kill_after_the_commit_still_lists_the_import(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_bytes(ROWS)
    home = tmp_path / "home"
    killed = _child(
        "import os\n"
        "from pathlib import Path\n"
        "from shoplens.appdb import AppDatabase\n"
        "from shoplens.cli._commands import run_import\n"
        "from shoplens.config import Settings\n"
        "AppDatabase.record_import = lambda self, run: os._exit(9)  # dies after the warehouse committed\n"
        f"run_import(Settings(home=Path({str(home)!r})), [Path({str(export)!r})], 'cdnow', None)\n"
    )
    assert killed.wait(timeout=120) == 9
    status = store_status(Settings(home=home))
    assert status["tables"]["order_lines"] == 2
    assert [(i["profile"], i["rows_loaded"], i["rows_quarantined"]) for i in status["imports"]] == [("cdnow", 2, 1)]
    assert not list((home / "imports").glob("*.json"))


def test_status_answers_during_an_import(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_bytes(ROWS)
    config = Settings(home=tmp_path / "home")
    run_import(config, [export], "cdnow", None)
    before = store_status(config)
    # Another process holds the import lock and the DuckDB file open for writing, as a running import does.
    holder = _child(
        "import duckdb, fcntl, os, time\n"
        f"lock = os.open({str(config.home / '.import.lock')!r}, os.O_RDWR)\n"
        "fcntl.flock(lock, fcntl.LOCK_EX)\n"
        f"con = duckdb.connect({str(config.warehouse_path)!r})\n"
        "print('importing', flush=True)\n"
        "time.sleep(20)\n"
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "importing"
        during = store_status(config)
    finally:
        holder.kill()
        holder.wait()
    assert during["import_running"] is True
    assert during["tables"] == before["tables"]
    assert during["imports"] == before["imports"]
    after = store_status(config)
    assert after["import_running"] is False


def test_a_second_import_waits_and_then_runs(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_bytes(ROWS)
    home = tmp_path / "home"
    home.mkdir()
    release = tmp_path / "release"
    holder = _child(
        "import fcntl, os, pathlib, time\n"
        f"lock = os.open({str(home / '.import.lock')!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(lock, fcntl.LOCK_EX)\n"
        "print('importing', flush=True)\n"
        f"while not pathlib.Path({str(release)!r}).exists():\n"
        "    time.sleep(0.05)\n"
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "importing"
    second = subprocess.Popen(
        [sys.executable, "-m", "shoplens", "--home", str(home), "import", str(export), "--profile", "cdnow", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert second.stderr is not None
    first_line = second.stderr.readline().strip()  # it waits: nothing else happens before the lock is free
    release.touch()
    out, rest = second.communicate(timeout=120)
    holder.wait()
    assert first_line == "waiting for another import to finish…"
    assert second.returncode == 0, rest
    assert '"rows_loaded": 2' in out
