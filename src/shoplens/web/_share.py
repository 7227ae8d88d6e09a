"""Sharing with vendors and web designers: the k-anonymous export package, as a download page and an API route.

Every role may download the package (it holds aggregates only, see :mod:`shoplens.reports._share`); over the web
k is at least the default of 10, and each download is one entry in the audit log, naming who downloaded it (a user
or token id, never an e-mail), the format, k, what was released and suppressed, and the zip's SHA-256.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from shoplens.privacy import DEFAULT_K, consent_book, recent_audit, record_audit
from shoplens.reports import SharePackage, SharePackageQuery, SharePackageResult
from shoplens.web._api import store_of
from shoplens.web._auth import Principal
from shoplens.web._deps import EVERYONE, app_database, principal_of, require_roles
from shoplens.web._errors import API_PREFIX

ShareK = Annotated[int, Query(ge=DEFAULT_K, le=10_000, description="people behind every released row, at least 10")]
ShareFormatQuery = Annotated[Literal["csv", "parquet"], Query(alias="format")]
EXPORTS_SHOWN = 20


def withdrawn_from_sharing(request: Request) -> tuple[str, ...]:
    """The sorted keys of customers whose newest consent record refuses sharing, read now."""
    return tuple(sorted(consent_book(app_database(request), "sharing").withdrawn))


def package_of(
    request: Request, k: int, *, wait: float | None = None, withdrawn: tuple[str, ...] | None = None
) -> SharePackage:
    """The package for this k, the current data and the customers who withdrew consent to sharing (read now when
    not given), built once while kept (see :meth:`StoreReader.answer`)."""
    left_out = withdrawn if withdrawn is not None else withdrawn_from_sharing(request)
    query = SharePackageQuery(k=k, withdrawn=left_out)
    return store_of(request).answer(query, SharePackageResult, wait=wait).package


def download(
    request: Request,
    principal: Principal,
    k: int,
    output_format: Literal["csv", "parquet"],
    *,
    wait: float | None = None,
) -> Response:
    """The package as a zip (packed once per data version), with one audit entry for this download; with ``wait``,
    :class:`StillComputingError` when the package is not built by then."""
    store = store_of(request)
    version = store.version()
    withdrawn = withdrawn_from_sharing(request)
    package = package_of(request, k, wait=wait, withdrawn=withdrawn)

    def packed() -> tuple[bytes, str]:
        data = package.to_zip(output_format)
        return data, hashlib.sha256(data).hexdigest()

    withdrawals = hashlib.sha256(",".join(withdrawn).encode()).hexdigest()[:16]
    described = f"{k}|{output_format}|{withdrawals}"
    data, digest = store.remember("share-zip", described, version, packed)
    name = f"shoplens-share-{datetime.now(UTC):%Y%m%d}-k{k}-{output_format}.zip"
    entry = record_audit(
        app_database(request),
        actor=principal.actor,
        action="share.export",
        details={
            "file": name,
            "format": output_format,
            "k": k,
            "datasets": {dataset: found.summary() for dataset, found in package.datasets.items()},
            "sha256": digest,
            "via": "web",
        },
        secret=store.settings.store_secret(),
    )
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
        "X-Audit-Entry": str(entry.id),
        "X-Content-SHA256": digest,
    }
    return Response(data, media_type="application/zip", headers=headers)


def share_exports(request: Request) -> list[Any]:
    """The latest share exports in the audit log, newest first."""
    found = [entry for entry in recent_audit(app_database(request), limit=200) if entry.action == "share.export"]
    return found[:EXPORTS_SHOWN]


def _principal(request: Request) -> Principal:
    found = principal_of(request)
    assert found is not None, "require_roles ran first"
    return found


def api_router() -> APIRouter:
    routes = APIRouter(prefix=API_PREFIX, tags=["sharing"])

    @routes.get("/share/package", dependencies=[require_roles(*EVERYONE)])
    def share_package(request: Request, output_format: ShareFormatQuery = "csv", k: ShareK = DEFAULT_K) -> Response:
        """The vendor and web-designer package (zip: funnel drop-offs, segment preferences, product affinity,
        response times, data dictionary, manifest), k-anonymous; each download is written to the audit log."""
        return download(request, _principal(request), k, output_format)

    return routes
