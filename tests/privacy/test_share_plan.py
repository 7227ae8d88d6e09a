"""A partner plan's package: only the datasets the plan names, the same k-anonymous cells as the whole package,
and one audit entry naming the plan."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pyarrow.csv as pacsv
from tests.conftest import CliResult

from shoplens.reports import SharePackage


def test_the_partner_package_holds_only_the_plans_datasets(
    cli: Callable[..., CliResult], demo_copy: Path, demo_packages: dict[int, SharePackage], tmp_path: Path
) -> None:
    created = cli(
        "plans",
        "create",
        "--partner",
        "Studio Nord",
        "--kind",
        "web_designer",
        "--starts",
        "2025-01-01",
        "--ends",
        "2025-12-31",
        "--dataset",
        "response_times",
        "--dataset",
        "funnel_dropoffs",
        "--json",
        home_dir=demo_copy,
    )
    assert created.exit_code == 0, created.stderr
    out = tmp_path / "studio.zip"
    result = cli("share", "export", "--out", str(out), "--plan", "1", "--json", home_dir=demo_copy)
    assert result.exit_code == 0, result.stderr
    document = result.json()
    assert (document["plan_id"], sorted(document["datasets"])) == (1, ["funnel_dropoffs", "response_times"])
    with zipfile.ZipFile(out) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    assert sorted(files) == ["data_dictionary.md", "funnel_dropoffs.csv", "manifest.json", "response_times.csv"]
    whole = demo_packages[10]
    for name in ("funnel_dropoffs", "response_times"):
        shared = pacsv.read_csv(io.BytesIO(files[f"{name}.csv"]))
        # the same cells as the whole package's, so the k rule holds as it does there: k people behind every row
        assert shared.num_rows == whole.table(name).num_rows > 0
        assert min(shared.column("people").to_pylist()) >= 10
        assert shared.column("people").to_pylist() == whole.table(name).column("people").to_pylist()
    manifest = json.loads(files["manifest.json"])
    assert sorted(manifest["datasets"]) == ["funnel_dropoffs", "response_times"]
    dictionary = files["data_dictionary.md"].decode()
    assert "## funnel_dropoffs" in dictionary
    assert "## segment_preferences" not in dictionary
    assert "## product_affinity" not in dictionary
    assert "min_pair_orders" not in dictionary
    entries = cli("audit", "list", "--json", home_dir=demo_copy).json()["entries"]
    assert [e["action"] for e in entries] == ["share.export", "plan.create"]
    assert entries[0]["details"]["plan_id"] == 1
    assert sorted(entries[0]["details"]["datasets"]) == ["funnel_dropoffs", "response_times"]
    unknown = cli("share", "export", "--out", str(tmp_path / "x.zip"), "--plan", "7", home_dir=demo_copy)
    assert (unknown.exit_code, unknown.stderr.strip()) == (2, "error: no plan 7 (see shoplens plans list)")
    assert not (tmp_path / "x.zip").exists()
