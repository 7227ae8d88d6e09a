"""The one runner: every question the command line, the API, the dashboard and the reports ask goes through it.

``run(query)`` looks the answer up in memory (a long-running process shares a :class:`ResultStore`), then on disk
(``<home>/cache/queries``, shared by every process of the store), and only then opens the warehouse and computes it
with the query's registered computation. Every cache is keyed by the question, the warehouse's data version, the
store's time zone and its cost settings (the contribution margin's fees and shipping cost), so an import (which bumps
the version) makes every older answer stale.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar, overload

from shoplens.config import Settings
from shoplens.errors import InputError
from shoplens.metrics import CostRules
from shoplens.queries._base import Query, Result, registration
from shoplens.queries._cache import ResultCache, question_key
from shoplens.queries._context import QueryContext
from shoplens.queries._memory import ResultStore
from shoplens.queries._store import BackendSource, Source, StoreSource

R = TypeVar("R", bound=Result)


def store_costs(settings: Settings) -> CostRules:
    """The store's cost settings (payment fee, shipping cost per order) as the contribution margin's rules."""
    return CostRules(
        payment_fee_percent=settings.payment_fee_percent,
        payment_fee_fixed=settings.payment_fee_fixed,
        shipping_cost_per_order=settings.shipping_cost_per_order,
    )


class QueryRunner:
    """Answers typed queries from one source, through the memory and disk caches."""

    def __init__(
        self,
        source: Source,
        *,
        store_timezone: str = "UTC",
        models_dir: Path | None = None,
        cache_dir: Path | None = None,
        memory: ResultStore | None = None,
        voice_cache_dir: Path | None = None,
        preferences_dir: Path | None = None,
        costs: CostRules | None = None,
    ) -> None:
        self.source = source
        self.costs = costs or CostRules()
        self.preferences_dir = preferences_dir
        self.voice_cache_dir = voice_cache_dir
        self.store_timezone = store_timezone
        self.models_dir = models_dir
        self.disk = ResultCache(cache_dir) if cache_dir is not None else None
        self.memory = memory

    @classmethod
    def for_store(cls, settings: Settings, *, memory: ResultStore | None = None) -> QueryRunner:
        """The runner of a store home: its warehouse, time zone, saved models and result cache."""
        return cls(
            StoreSource(settings),
            store_timezone=settings.timezone,
            models_dir=settings.home / "models",
            cache_dir=settings.home / "cache" / "queries",
            memory=memory,
            voice_cache_dir=settings.home / "cache" / "voice",
            preferences_dir=settings.home / "cache" / "preferences",
            costs=store_costs(settings),
        )

    @classmethod
    def over(
        cls,
        backend: object,
        *,
        store_timezone: str = "UTC",
        database: str | None = None,
        models_dir: Path | None = None,
        costs: CostRules | None = None,
    ) -> QueryRunner:
        """A runner over a bare Ibis backend holding the canonical tables (nothing is cached)."""
        return cls(
            BackendSource(backend, database=database),
            store_timezone=store_timezone,
            models_dir=models_dir,
            costs=costs,
        )

    def version(self) -> int | None:
        """The data version the next answer would describe (cheap: the warehouse is opened only when it changed)."""
        return self.source.version()

    def key(self, query: Query, version: int | None) -> str:
        """The name under which an answer is kept: the question, the data version, the store's time zone and costs."""
        return f"{question_key(query, self.store_timezone, self.costs)}-v{version}"

    @overload
    def run(self, query: Query, *, wait: float | None = None) -> Result: ...

    @overload
    def run(self, query: Query, result_type: type[R], *, wait: float | None = None) -> R: ...

    def run(self, query: Query, result_type: type[Result] = Result, *, wait: float | None = None) -> Result:
        """The typed answer to ``query``.

        With ``wait`` (seconds; only with a memory store), an answer not ready by then raises
        :class:`shoplens.queries.StillComputingError` while the computation goes on in its own thread.
        """
        registration(query)
        if self.memory is None:
            return self._checked(self._answer(query), result_type)
        version = self.version()
        key = self.key(query, version)

        def compute() -> tuple[Result, str]:
            found = self._answer(query)
            return found, self.key(query, found.data_version)

        return self._checked(self.memory.compute(key, query.kind, compute, wait=wait), result_type)

    def run_in(self, context: QueryContext, query: Query, result_type: type[R]) -> R:
        """``query`` answered over an already open context (a computation asking another question)."""
        return self._checked(self._cached_or_computed(context, query), result_type)

    def _answer(self, query: Query) -> Result:
        with self.source.open() as opened:
            context = QueryContext(
                opened.backend,
                runner=self,
                data_version=opened.data_version,
                store_timezone=self.store_timezone,
                models_dir=self.models_dir,
                database=opened.database,
                voice_cache_dir=self.voice_cache_dir,
                preferences_dir=self.preferences_dir,
                costs=self.costs,
            )
            return self._cached_or_computed(context, query)

    def _cached_or_computed(self, context: QueryContext, query: Query) -> Result:
        found = registration(query)
        version = context.data_version
        on_disk = self.disk is not None and version is not None and query.kept_on_disk
        key = question_key(query, self.store_timezone, self.costs)
        if on_disk and self.disk is not None and version is not None:
            hit = self.disk.get(key, query, version)
            if hit is not None:
                return hit
        result = found.compute(context, query)
        result.data_version = version
        result.store_timezone = self.store_timezone
        if on_disk and self.disk is not None and version is not None:
            self.disk.put(key, result, version)
        return result

    @staticmethod
    def _checked(result: Result, result_type: type[R]) -> R:
        if not isinstance(result, result_type):
            raise InputError(f"{type(result).__name__} answered where {result_type.__name__} was expected")
        return result
