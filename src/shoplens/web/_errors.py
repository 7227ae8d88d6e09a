"""One error shape for the whole API: ``{"error": {"code": "...", "message": "..."}}``.

Messages say what was wrong with the request; they never contain personal data or internals. HTML pages (the
public survey form) render their own friendly page instead, from the same exceptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shoplens.errors import FieldError, InputError, NotFoundError, ShoplensError

API_PREFIX = "/api/v1"
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "payload_too_large",
    422: "invalid_request",
    500: "internal_error",
}


class ApiError(Exception):
    """An error answer of the API with its HTTP status, a stable code and a message for people."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status, headers=dict(headers) if headers else None)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        from shoplens.web._deps import has_credentials, unauthorized  # here: _deps imports this module

        if exc.status_code == 404 and request.url.path.startswith(API_PREFIX) and not has_credentials(request):
            # Without credentials the API does not tell which private routes exist: unknown is unauthorized.
            denied = unauthorized()
            return error_response(denied.status, denied.code, denied.message, denied.headers)
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        return error_response(exc.status_code, _CODES.get(exc.status_code, "error"), message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "request"
        return error_response(422, "invalid_request", f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(FieldError)
    async def _bad_field(request: Request, exc: FieldError) -> JSONResponse:
        # a parameter's value the question cannot use; the message names the parameters as the API spells them
        return error_response(422, "invalid_request", str(exc))

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        return error_response(404, "not_found", str(exc))

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> JSONResponse:
        return error_response(400, "bad_request", str(exc))

    @app.exception_handler(ShoplensError)
    async def _shoplens_error(request: Request, exc: ShoplensError) -> JSONResponse:
        return error_response(500, "internal_error", str(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return error_response(500, "internal_error", "internal error; see the server log")
