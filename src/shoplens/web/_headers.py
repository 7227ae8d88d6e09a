"""Security headers on every answer, and the largest request body the app reads.

The dashboard's pages run no script: they are server-rendered HTML with inline styles and inline SVG charts, and a
page that waits for a result reloads itself with ``<meta http-equiv="refresh">``, which a content security policy
does not govern. So their policy allows no script at all. The API docs page (Swagger UI) loads its script and styles
from a CDN and starts them with one inline script; only that page gets a policy naming the CDN, with the inline
script allowed by its SHA-256 hash (computed from the page itself), never by ``'unsafe-inline'``.

This is plain ASGI middleware (not ``BaseHTTPMiddleware``): it only adds headers to the answer's start message and
counts body bytes as they arrive, so streamed answers and file downloads pass through unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shoplens.web._errors import ApiError, error_response

PAGE_POLICY = (
    "default-src 'none'; script-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
DOCS_CDN = "https://cdn.jsdelivr.net"
DOCS_POLICY = (
    f"default-src 'none'; script-src {DOCS_CDN} {{hashes}}; style-src {DOCS_CDN} 'unsafe-inline'; "
    "img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)
FIXED_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # same-origin: no address leaves the site, and the browser still sends Origin on the dashboard's own forms
    "Referrer-Policy": "same-origin",
}
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def inline_script_hashes(html: bytes) -> str:
    """The CSP source list allowing exactly the inline scripts of ``html``."""
    found = [base64.b64encode(hashlib.sha256(body).digest()).decode() for body in _INLINE_SCRIPT.findall(html)]
    return " ".join(f"'sha256-{digest}'" for digest in found) or "'none'"


def _body_too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"the request body is larger than {limit} bytes")


class SecurityHeaders:
    """Adds the security headers to every HTTP answer and refuses bodies over ``max_body_bytes`` (413), or over
    the limit ``large_bodies`` gives a path for its POST requests (the Import page's upload, which streams the body
    to disk)."""

    def __init__(
        self, app: ASGIApp, *, docs_path: str, max_body_bytes: int, large_bodies: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.docs_path = docs_path
        self.max_body_bytes = max_body_bytes
        self.large_bodies = dict(large_bodies or {})
        self._docs_policy: str | None = None

    def _limit(self, scope: Scope) -> int:
        if scope.get("method") == "POST":
            return self.large_bodies.get(scope["path"], self.max_body_bytes)
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        length = Headers(scope=scope).get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            if length.isdigit():
                answer = self._too_large(scope, limit)
            else:
                answer = error_response(400, "bad_request", "the Content-Length header is not a number")
            await answer(scope, receive, self._with_headers(send, PAGE_POLICY))
            return
        if scope["path"] == self.docs_path:
            await self._docs(scope, receive, send)
            return
        await self._limited(scope, receive, self._with_headers(send, PAGE_POLICY), limit)

    async def _limited(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """The app, reading at most ``limit`` bytes of a body sent without a length: past that, the app is told
        the client went away, whatever it answers is dropped, and the client gets 413."""
        received = 0
        too_large = False
        started = False

        async def counted() -> Message:
            nonlocal received, too_large
            if too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            if too_large:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except Exception:
            if not too_large:
                raise
        if too_large and not started:
            await self._too_large(scope, limit)(scope, receive, send)

    def _too_large(self, scope: Scope, limit: int) -> Response:
        """The 413 answer: the one error shape, or for a form of the dashboard (an upload) a page saying why."""
        refused = _body_too_large(limit)
        if scope["path"] in self.large_bodies:
            text = html.escape(
                f"Not uploaded: the files are larger than {limit:,} bytes in all, the most this server takes."
            )
            page = f'<!doctype html><html lang="en"><title>Not uploaded</title><p class="error">{text}</p>'
            page += f'<p><a href="{html.escape(scope["path"])}">Back</a></p></html>'
            return HTMLResponse(page, status_code=refused.status)
        return error_response(refused.status, refused.code, refused.message)

    @staticmethod
    def _with_headers(send: Send, policy: str) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = policy
                for name, value in FIXED_HEADERS.items():
                    if name.lower() not in headers:
                        headers[name] = value
            await send(message)

        return sending

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The docs page, held until its body is known so its policy can name its inline script's hash."""
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def holding(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    body = b"".join(chunks)
                    if self._docs_policy is None:
                        self._docs_policy = DOCS_POLICY.format(hashes=inline_script_hashes(body))
                    sending = self._with_headers(send, self._docs_policy)
                    await sending(start)
                    await sending({"type": "http.response.body", "body": body})
            else:
                await send(message)

        await self._limited(scope, receive, holding, self.max_body_bytes)
