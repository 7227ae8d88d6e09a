"""A demo store on PostgreSQL or Spark answers the analyses through the command line as it does on DuckDB.

One small demo store (300 customers, seed 3) is built into a DuckDB home, and into a second home whose
warehouse is a fresh PostgreSQL database (``postgres`` marker) or a local Spark session (``spark`` marker),
with the DuckDB home's store secret, so customer keys agree. Each engine's store is imported once per module
(a local Spark session takes a while to start) and then asked ``kpis``, ``rfm``, ``cohorts``, ``clv fit`` and
``voice themes``; every document must equal DuckDB's, field by field.

Only fields that say where or when an answer was made are left out of the comparison (``WHERE_AND_WHEN``):
``saved_to`` names the fitted model's file in each home. Everything else, ``data_version`` and ``cached``
included, must agree; floats to a relative 1e-9 (sums run in another order on another engine).
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import DEMO_END, fresh_postgres_database, run_cli

from shoplens.config import SECRET_FILE

DEMO = ("demo", "--customers", "300", "--seed", "3", "--end-date", DEMO_END, "--no-serve", "--json")
ANALYSES = {
    "kpis": ("kpis", "--json"),
    "rfm": ("rfm", "--json"),
    "cohorts": ("cohorts", "--json"),
    "clv fit": ("clv", "fit", "--model", "bgnbd", "--json"),
    "voice themes": ("voice", "themes", "--method", "keywords", "--json"),
}
WHERE_AND_WHEN = {"saved_to"}  # the model file of each home: <home>/models/bgnbd.json


def _is_on(location: str, engine: str) -> bool:
    """Whether ``status``'s warehouse location is on ENGINE (so the environment really moved the store)."""
    if engine == "duckdb":
        return location.endswith("warehouse.duckdb")
    return location.startswith({"postgres": "postgresql://", "spark": "spark://local"}[engine])


def _answers(home: Path, engine: str) -> dict[str, Any]:
    """Build the demo store in HOME (on the engine the environment names) and ask it every analysis."""
    built = run_cli(home, *DEMO)
    assert built.exit_code == 0, built.stderr
    assert _is_on(built.json()["status"]["warehouse"], engine)
    answers: dict[str, Any] = {}
    for name, args in ANALYSES.items():
        result = run_cli(home, *args)
        assert result.exit_code == 0, f"{name} on {engine}: {result.stderr}"
        answers[name] = {key: value for key, value in result.json().items() if key not in WHERE_AND_WHEN}
    return answers


@pytest.fixture(scope="module")
def duckdb_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    home = tmp_path_factory.mktemp("duckdb") / "home"
    with pytest.MonkeyPatch.context() as env:
        env.delenv("SHOPLENS_WAREHOUSE_URL", raising=False)
        return home, _answers(home, "duckdb")


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.slow]),
    ],
)
def engine_answers(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    duckdb_store: tuple[Path, dict[str, Any]],
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The same demo store on PostgreSQL or Spark, asked the same analyses: (engine, answers)."""
    engine = str(request.param)
    if engine == "spark":
        pytest.importorskip("pyspark")
    duckdb_home, _ = duckdb_store
    home = tmp_path_factory.mktemp(engine) / "home"
    home.mkdir()
    shutil.copy(duckdb_home / SECRET_FILE, home / SECRET_FILE)
    with pytest.MonkeyPatch.context() as env:
        if engine == "postgres":
            with fresh_postgres_database() as url:
                env.setenv("SHOPLENS_WAREHOUSE_URL", url)
                yield engine, _answers(home, engine)
        else:
            env.setenv("SHOPLENS_WAREHOUSE_URL", "spark://local")
            yield engine, _answers(home, engine)


def differences(expected: Any, found: Any, where: str = "") -> list[str]:
    """Where two JSON documents differ: values and types exactly, floats to a relative 1e-9."""
    if isinstance(expected, dict) and isinstance(found, dict) and expected.keys() == found.keys():
        return [line for key in expected for line in differences(expected[key], found[key], f"{where}.{key}")]
    if isinstance(expected, list) and isinstance(found, list) and len(expected) == len(found):
        pairs = enumerate(zip(expected, found, strict=True))
        return [line for i, (one, other) in pairs for line in differences(one, other, f"{where}[{i}]")]
    if isinstance(expected, float) and isinstance(found, float):
        same = math.isclose(expected, found, rel_tol=1e-9)
    else:
        same = type(expected) is type(found) and expected == found
    return [] if same else [f"{where}: {_shown(expected)} != {_shown(found)}"]


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return f"keys {sorted(value)}"
    if isinstance(value, list):
        return f"{len(value)} items"
    return f"{value!r} ({type(value).__name__})"


def test_the_comparison_notices_a_difference() -> None:
    document = {"rows": [{"orders": 3, "revenue": 1799.1}], "model": "bgnbd"}
    assert differences(document, document) == []
    assert differences(document, {"rows": [{"orders": 3, "revenue": 1799.1 * (1 + 1e-12)}], "model": "bgnbd"}) == []
    assert differences(document, {"rows": [{"orders": 3, "revenue": 1799.2}], "model": "bgnbd"}) == [
        ".rows[0].revenue: 1799.1 (float) != 1799.2 (float)"
    ]
    assert differences(document, {"rows": [{"orders": 3.0, "revenue": 1799.1}], "model": "bgnbd"}) == [
        ".rows[0].orders: 3 (int) != 3.0 (float)"
    ]
    assert differences(document, {"rows": [], "model": "bgnbd"}) == [".rows: 1 items != 0 items"]
    assert differences(document, {"rows": document["rows"]}) == [": keys ['model', 'rows'] != keys ['rows']"]


def test_the_demo_store_has_something_to_answer(duckdb_store: tuple[Path, dict[str, Any]]) -> None:
    """Guards the comparison against agreeing on empty answers."""
    _, answers = duckdb_store
    assert sum(row["orders"] for row in answers["kpis"]["rows"]) > 300
    assert answers["rfm"]["customers"] > 250
    assert answers["cohorts"]["rows"]
    assert answers["clv fit"]["converged"] is True
    assert answers["clv fit"]["n_repeat_buyers"] > 0
    assert answers["voice themes"]["texts"] > 0
    assert answers["voice themes"]["themes"]


@pytest.mark.parametrize("analysis", ANALYSES)
def test_the_analysis_answers_as_on_duckdb(
    engine_answers: tuple[str, dict[str, Any]], duckdb_store: tuple[Path, dict[str, Any]], analysis: str
) -> None:
    engine, answers = engine_answers
    _, on_duckdb = duckdb_store
    assert differences(on_duckdb[analysis], answers[analysis]) == [], f"{analysis} on {engine}"
