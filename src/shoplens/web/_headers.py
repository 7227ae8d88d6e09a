"""Security headers on every answer: a content security policy, no framing, no type sniffing, no referrer.

The dashboard's pages load no script and only inline styles and inline SVG charts, so their policy allows no
script at all. The API docs page (Swagger UI) loads its script and styles from a CDN and starts them inline, so
only that page gets a policy naming the CDN.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import Response

PAGE_POLICY = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
DOCS_CDN = "https://cdn.jsdelivr.net"
DOCS_POLICY = (
    f"default-src 'none'; script-src {DOCS_CDN} 'unsafe-inline'; style-src {DOCS_CDN} 'unsafe-inline'; "
    "img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)
FIXED_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def install_security_headers(app: FastAPI, *, docs_path: str) -> None:
    """Add the security headers to every answer of ``app``."""

    @app.middleware("http")
    async def _security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        policy = DOCS_POLICY if request.url.path == docs_path else PAGE_POLICY
        response.headers.setdefault("Content-Security-Policy", policy)
        for name, value in FIXED_HEADERS.items():
            response.headers.setdefault(name, value)
        return response
