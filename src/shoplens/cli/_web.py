"""``shoplens serve``: run the web app (public survey pages and the API) with uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._output import emit_json, stderr


@app.command("serve")
def serve_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    as_json: JsonOption = False,
) -> None:
    """Serve the web app: survey answer pages at /s/<token>, the API under /api/v1, OpenAPI at /openapi.json.

    Non-public API routes need the header "Authorization: Bearer <token>" with the token from the environment
    variable SHOPLENS_API_TOKEN; without it they all answer 401. With --json the address is printed as one JSON
    document before the server starts; the server's log goes to stderr.
    """
    import uvicorn

    from shoplens.web import create_app

    web_app = create_app(settings(ctx), api_token=os.environ.get("SHOPLENS_API_TOKEN"))
    url = f"http://{host}:{port}"
    if as_json:
        emit_json({"url": url, "openapi": f"{url}/openapi.json"})
    else:
        stderr.print(f"shoplens serving on {url} (Ctrl-C stops)")
    uvicorn.run(web_app, host=host, port=port, log_level="warning")
