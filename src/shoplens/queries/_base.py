"""Typed questions, typed answers, and the one registry that ties each question to its computation.

Every question shoplens answers is a small frozen pydantic :class:`Query`; its answer is a :class:`Result`. A
question is registered once, with :func:`answers`, next to the function that computes it from a
:class:`QueryContext` (the warehouse's tables for one data version). The command line, the API, the dashboard and
the reports never compute a number: they build a query, hand it to :class:`shoplens.queries.QueryRunner` and render
what comes back. Adding a question means adding its query, its result and its computation; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from shoplens.errors import InputError

if TYPE_CHECKING:
    from shoplens.queries._context import QueryContext

Row = dict[str, Any]


class Query(BaseModel):
    """Base of every question: immutable, no unknown fields, named by ``kind`` (unique across the registry)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: ClassVar[str] = "query"
    # False for questions whose answer depends on more than the warehouse (saved model fits, files written)
    kept_on_disk: ClassVar[bool] = True


class Result(BaseModel):
    """Base of every answer: which data it describes and whether it came from a cache."""

    data_version: int | None = None
    store_timezone: str = "UTC"
    cached: bool = False


Q = TypeVar("Q", bound=Query)
R = TypeVar("R", bound=Result)
Compute = Callable[["QueryContext", Any], Result]


@dataclass(frozen=True)
class Registered:
    """One registered question: its query type, its result type and the function that computes it."""

    query_type: type[Query]
    result_type: type[Result]
    compute: Compute


_REGISTRY: dict[str, Registered] = {}


def answers(query_type: type[Q], result_type: type[R]) -> Callable[[Callable[[QueryContext, Q], R]], Callable[..., R]]:
    """Register the decorated function as the one computation of ``query_type``."""

    def register(compute: Callable[[QueryContext, Q], R]) -> Callable[..., R]:
        kind = query_type.kind
        known = _REGISTRY.get(kind)
        if known is not None and known.query_type is not query_type:
            raise ValueError(f"two queries are named {kind!r}: {known.query_type.__name__} and {query_type.__name__}")
        _REGISTRY[kind] = Registered(query_type, result_type, compute)
        return compute

    return register


def registered() -> dict[str, Registered]:
    """Every question shoplens answers, by kind."""
    _load_questions()
    return dict(_REGISTRY)


def registration(query: Query | type[Query]) -> Registered:
    """The registration of a query (or query type); an InputError for a type nobody registered."""
    _load_questions()
    query_type = query if isinstance(query, type) else type(query)
    found = _REGISTRY.get(query_type.kind)
    if found is None or found.query_type is not query_type:
        raise InputError(f"no computation is registered for {query_type.__name__}")
    return found


def _load_questions() -> None:
    # The question modules register themselves on import; importing the package imports them all.
    import shoplens.queries  # noqa: F401
