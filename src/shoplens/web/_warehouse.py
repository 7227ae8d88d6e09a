"""The warehouse as the web app sees it: read-only, one runner per request, ETags from query and data version."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from shoplens.config import Settings
from shoplens.metrics import MetricQuery, MetricsRunner
from shoplens.warehouse import Warehouse
from shoplens.web._errors import ApiError

NO_STORE = "no store yet: import the store's exports first (shoplens import FILE --profile P, or shoplens demo)"


@contextmanager
def read_only_warehouse(settings: Settings) -> Iterator[Warehouse]:
    """The store's warehouse, opened read-only for the length of one request."""
    if not settings.warehouse_path.exists():
        raise ApiError(404, "not_found", NO_STORE)
    with Warehouse(settings.warehouse_path, read_only=True) as warehouse:
        yield warehouse


@contextmanager
def metrics_runner(settings: Settings) -> Iterator[MetricsRunner]:
    """A runner over the store's warehouse, opened read-only for the length of one request."""
    with read_only_warehouse(settings) as warehouse:
        yield MetricsRunner.for_warehouse(
            warehouse, store_timezone=settings.store_timezone, cache_dir=settings.home / "cache" / "metrics"
        )


def etag(kind: str, query: MetricQuery | str, runner: MetricsRunner | None) -> str:
    """A strong validator for a result: the query, the data it was computed from and the store's time zone.

    Without a runner, ``query`` must already name the data version.
    """
    described = query if isinstance(query, str) else query.model_dump_json()
    version = f"{runner.data_version}|{runner.store_timezone}" if runner is not None else ""
    digest = hashlib.sha256(f"{kind}|{described}|{version}".encode())
    return f'"{digest.hexdigest()[:32]}"'
