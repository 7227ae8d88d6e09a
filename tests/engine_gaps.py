"""Known engine gaps, marked the ibis way: a marker names the engines and the exception they raise.

    @pytest.mark.notimpl(["postgres"], raises=ResultsDiffer, reason="...")  # shoplens gets it wrong there
    @pytest.mark.notyet(["spark"], raises=SomeEngineError, reason="...")    # the engine (or ibis) cannot yet

On a named engine the test still runs and must raise that exception: the marker becomes a strict
``xfail(raises=...)`` just before the call, as ibis' ``pytest_runtest_call`` does. An unexpected pass fails as
``XPASS(strict)`` and another exception fails as itself, so a gap that closes, or changes, is noticed. ``raises``
may also be a ``pytest.RaisesExc`` to match the message. The engine is the value of the test's ``engine`` or
``other_engine`` fixture parameter (tests/metrics/conftest.py); on every other engine the test runs as usual.

A marker that names an unknown engine, gives no ``raises`` or sits on a test without an engine parameter stops
the run at collection, so a typo cannot silently turn a check off. tests/conftest.py calls the two hooks below.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

ENGINES = frozenset({"duckdb", "postgres", "spark"})
ENGINE_PARAMETERS = ("engine", "other_engine")
DEFAULT_REASONS = {
    "notimpl": "shoplens does not answer this right on {engine} yet",
    "notyet": "{engine} (or ibis on it) cannot answer this yet",
}


def engine_of(item: pytest.Item) -> str | None:
    """The engine a test item runs on, from its ``engine``/``other_engine`` parameter; None for other tests."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    for name in ENGINE_PARAMETERS:
        if name in callspec.params:
            return str(callspec.params[name])
    return None


def _gap_markers(item: pytest.Item) -> Iterable[pytest.Mark]:
    for name in DEFAULT_REASONS:
        yield from item.iter_markers(name=name)


def _named_engines(marker: pytest.Mark) -> list[str]:
    engines = marker.args[0] if marker.args else []
    return [engines] if isinstance(engines, str) else list(engines)


def _problems(item: pytest.Item) -> Iterable[str]:
    for marker in _gap_markers(item):
        engines = _named_engines(marker)
        if not engines:
            yield f"{item.nodeid}: {marker.name} names no engine"
        if unknown := sorted(set(engines) - ENGINES):
            yield f"{item.nodeid}: {marker.name} names unknown engine(s) {unknown}; known: {sorted(ENGINES)}"
        if "raises" not in marker.kwargs:
            yield f"{item.nodeid}: {marker.name} needs raises=, the exception the engine gives"
        if engine_of(item) is None:
            yield f"{item.nodeid}: {marker.name} is on a test without an {' or '.join(ENGINE_PARAMETERS)} parameter"


def check_gap_markers(items: list[pytest.Item]) -> None:
    """Refuse the run when a ``notimpl``/``notyet`` marker is malformed (collection hook)."""
    problems = [problem for item in items for problem in _problems(item)]
    if problems:
        raise pytest.UsageError("malformed engine gap markers:\n" + "\n".join(problems))


def mark_known_gaps(item: pytest.Item) -> None:
    """Turn the markers naming this item's engine into strict xfails with their exception (call hook)."""
    engine = engine_of(item)
    if engine is None:
        return
    for marker in _gap_markers(item):
        if engine in _named_engines(marker):
            reason = marker.kwargs.get("reason", DEFAULT_REASONS[marker.name].format(engine=engine))
            item.add_marker(
                pytest.mark.xfail(
                    raises=marker.kwargs["raises"], reason=f"{marker.name} on {engine}: {reason}", strict=True
                )
            )
