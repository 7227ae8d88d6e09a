"""Long jobs started from the command line show their progress on the dashboard's Jobs page and in a banner."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from tests.conftest import DEMO_END

from shoplens.appdb import AppDatabase, Job, JobLog, recent_jobs
from shoplens.config import Settings
from shoplens.web import create_app

TOKEN = "a-server-token-of-enough-length-0123456789"


def _client(home: Path) -> TestClient:
    return TestClient(create_app(Settings(home=home), api_token=TOKEN), headers={"Authorization": f"Bearer {TOKEN}"})


def test_a_running_job_shows_its_step_and_progress_until_it_is_done(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    settings.ensure_home()
    database = AppDatabase(settings.app_database_url)
    job = JobLog(database, "import", "import orders.csv (generic profile)")
    job.update("loading orders.csv", 4, 6)
    client = _client(settings.home)
    page = client.get("/jobs").text
    assert '<meta http-equiv="refresh" content="2">' in page
    assert f'<tr data-job="{job.job_id}" data-state="running">' in page
    assert '<progress value="4" max="6">4/6</progress>' in page
    banner = client.get("/").text  # every page; this one says there is no store yet
    assert 'href="/jobs">Follow it</a>' in banner
    assert "Running now: import orders.csv (generic profile) — loading orders.csv (4/6)" in banner
    job.finish()
    after = client.get("/jobs").text
    assert f'<tr data-job="{job.job_id}" data-state="done">' in after
    assert "Running now" not in after
    assert 'http-equiv="refresh"' not in after
    database.close()


def test_a_job_whose_process_is_gone_is_shown_as_interrupted(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    settings.ensure_home()
    database = AppDatabase(settings.app_database_url)
    job = JobLog(database, "model fit", "clv fit --model bgnbd")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with database.session() as session:
        row = session.get(Job, job.job_id)
        assert row is not None
        row.pid = int(gone.stdout)
    [found] = recent_jobs(database)
    assert found.status == "running"
    assert found.state == "interrupted"
    assert 'data-state="interrupted"' in _client(settings.home).get("/jobs").text
    database.close()


def test_the_command_line_records_its_jobs_done_or_failed(cli: Callable[..., Any], tmp_path: Path) -> None:
    home = tmp_path / "home"
    built = cli(
        "demo", "--customers", "60", "--end-date", DEMO_END, "--no-events", "--no-serve", "--json", home_dir=home
    )
    assert built.exit_code == 0, built.stderr
    missing = tmp_path / "nowhere.csv"
    failed = cli("import", str(missing), "--profile", "online-retail", "--json", home_dir=home)
    assert failed.exit_code == 2
    database = AppDatabase(Settings(home=home).app_database_url)
    jobs = {job.kind: job for job in reversed(recent_jobs(database))}  # the newest of each kind
    database.close()
    assert set(jobs) == {"demo", "import"}
    assert jobs["demo"].state == "done"
    assert jobs["demo"].description == "build a demo store of 60 customers"
    latest_import = jobs["import"]  # the failed one, after the demo's import
    assert latest_import.state == "failed"
    assert latest_import.message == failed.stderr.strip().removeprefix("error: ")
    assert latest_import.description == "import nowhere.csv (online-retail profile)"
    assert not re.search(r"@|Flat |\+852", latest_import.message or ""), "no personal data in a job's message"


def test_vendors_cannot_see_jobs(as_role: Callable[[str], TestClient]) -> None:
    assert as_role("vendor").get("/jobs").status_code == 403
    assert as_role("analyst").get("/jobs").status_code == 200
