"""The notimpl/notyet markers: on the named engine the test runs and must raise the named exception.

Each test runs a small suite in a fresh pytest (``pytester``) with the same two hooks as tests/conftest.py and an
``engine`` fixture over DuckDB and PostgreSQL that needs no database, then checks the outcome of every item.
"""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

CONFTEST = """
import pytest
from engine_gaps import check_gap_markers, mark_known_gaps


def pytest_collection_modifyitems(items):
    check_gap_markers(items)


def pytest_runtest_call(item):
    mark_known_gaps(item)


@pytest.fixture(params=["duckdb", "postgres"])
def engine(request):
    return request.param


@pytest.fixture(params=["postgres"])
def other_engine(request):
    return request.param
"""
INI = """
[pytest]
addopts = --strict-markers -p no:cacheprovider
markers =
    notimpl: a gap of shoplens on the named engines
    notyet: a gap of the named engines
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makeini(INI)
    return pytester


def run(suite: pytest.Pytester, tests: str) -> pytest.RunResult:
    suite.makepyfile(test_gaps="import pytest\n\n" + textwrap.dedent(tests))
    return suite.runpytest("-rxX", "-v")


@pytest.mark.parametrize("marker", ["notimpl", "notyet"])
def test_a_gap_that_raises_the_named_exception_is_an_expected_failure_only_there(
    suite: pytest.Pytester, marker: str
) -> None:
    result = run(
        suite,
        f"""
        @pytest.mark.{marker}(["postgres"], raises=ZeroDivisionError, reason="no division on postgres")
        def test_divide(engine):
            assert (1 / 0 if engine == "postgres" else 1.0) == 1.0
        """,
    )
    result.assert_outcomes(passed=1, xfailed=1)
    result.stdout.fnmatch_lines(
        ["*test_divide?duckdb? PASSED*", "*test_divide?postgres? XFAIL*", f"*{marker} on postgres: no division*"]
    )


def test_a_gap_that_closed_fails_the_run(suite: pytest.Pytester) -> None:
    result = run(
        suite,
        """
        @pytest.mark.notimpl(["postgres"], raises=ZeroDivisionError, reason="no division on postgres")
        def test_divide(engine):
            assert 1 / 1 == 1.0
        """,
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*[[]XPASS(strict)[]] notimpl on postgres: no division on postgres*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_gap_that_raises_another_exception_fails_as_itself(suite: pytest.Pytester) -> None:
    result = run(
        suite,
        """
        @pytest.mark.notyet("postgres", raises=ZeroDivisionError)
        def test_lookup(engine):
            assert {"duckdb": 1}[engine] == 1
        """,
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_lookup?postgres? FAILED*", "E * KeyError: 'postgres'"])


def test_the_exception_can_be_matched_by_message_and_the_other_engine_parameter_counts(
    suite: pytest.Pytester,
) -> None:
    result = run(
        suite,
        """
        @pytest.mark.notimpl(["postgres"], raises=pytest.RaisesExc(ValueError, match="rounding"))
        def test_rounding(other_engine):
            raise ValueError("rounding differs")

        @pytest.mark.notimpl(["postgres"], raises=pytest.RaisesExc(ValueError, match="rounding"))
        def test_other_message(other_engine):
            raise ValueError("timezone differs")
        """,
    )
    result.assert_outcomes(xfailed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_rounding?postgres? XFAIL*",
            "*test_other_message?postgres? FAILED*",
            "*notimpl on postgres: shoplens does not answer this right on postgres yet*",
        ]
    )


@pytest.mark.parametrize(
    ("marker", "problem"),
    [
        ('notimpl(["postgress"], raises=ValueError)', "notimpl names unknown engine(s) ['postgress']"),
        ("notyet([], raises=ValueError)", "notyet names no engine"),
        ('notimpl(["spark"])', "notimpl needs raises=, the exception the engine gives"),
    ],
)
def test_a_malformed_marker_stops_the_run_before_any_test(suite: pytest.Pytester, marker: str, problem: str) -> None:
    result = run(
        suite,
        f"""
        @pytest.mark.{marker}
        def test_anything(engine):
            pass
        """,
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    literal_problem = problem.replace("[", "[[]")  # fnmatch reads [ as a character class
    result.stderr.fnmatch_lines(
        ["*malformed engine gap markers:*", f"*test_gaps.py::test_anything?duckdb?: {literal_problem}*"]
    )
    assert "PASSED" not in result.stdout.str()


def test_a_marker_on_a_test_without_an_engine_stops_the_run(suite: pytest.Pytester) -> None:
    result = run(
        suite,
        """
        @pytest.mark.notimpl(["postgres"], raises=ValueError)
        def test_no_engine():
            pass
        """,
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*test_gaps.py::test_no_engine: notimpl is on a test without an engine or other_engine parameter*"]
    )
