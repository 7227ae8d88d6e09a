"""``shoplens serve`` (the web app with uvicorn), ``shoplens user add|list|role|remove`` and
``shoplens token create|list|revoke``."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from pydantic import ValidationError

from shoplens.appdb import ROLES, AppDatabase
from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._audit import audit_entry
from shoplens.cli._output import emit_json, stderr, stdout
from shoplens.errors import InputError

user_app = typer.Typer(
    name="user",
    help=(
        "Dashboard accounts: add people with a role (owner, analyst, marketer, vendor), list them, change a "
        "role, remove an account. The store keeps at least one owner."
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
)
token_app = typer.Typer(
    name="token",
    help="API tokens for scripts, sent as 'Authorization: Bearer <token>': create, list and revoke them.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")

RoleOption = Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}.")]


def _database(ctx: typer.Context) -> AppDatabase:
    config = settings(ctx)
    config.ensure_home()
    return AppDatabase.for_store(config)


@app.command("serve")
def serve_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    as_json: JsonOption = False,
) -> None:
    """Serve the web app: the dashboard at /, the API under /api/v1, OpenAPI at /openapi.json.

    Log in with an account from 'shoplens user add'; scripts send "Authorization: Bearer <token>" with a token
    from 'shoplens token create' (or SHOPLENS_API_TOKEN, which acts as the owner). Listening beyond localhost
    needs SHOPLENS_SECRET_KEY (32+ random characters) and then marks cookies Secure (serve behind HTTPS).
    With --json the address is printed as one JSON document before the server starts.
    """
    import uvicorn

    from shoplens.web import WebSettings, create_app

    try:
        web_settings = WebSettings(host=host, port=port)
    except ValidationError as exc:
        raise InputError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from None
    web_app = create_app(settings(ctx), api_token=os.environ.get("SHOPLENS_API_TOKEN"), web_settings=web_settings)
    url = f"http://{host}:{port}"
    if as_json:
        emit_json({"url": url, "openapi": f"{url}/openapi.json"})
    else:
        stderr.print(f"shoplens serving on {url} (Ctrl-C stops)")
    # uvicorn's own X-Forwarded-For handling would trust any local client; the app trusts only
    # SHOPLENS_TRUSTED_PROXIES (WebSettings.client_address)
    uvicorn.run(web_app, host=host, port=port, log_level="warning", proxy_headers=False)


@user_app.command("add")
def user_add_command(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The person's e-mail address (their login name).")],
    role: RoleOption = "analyst",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Add a dashboard account with a role; the password is asked for (or read from stdin), never an argument."""
    from shoplens.web import add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    user = add_user(_database(ctx), email, password, role)
    entry = audit_entry(settings(ctx), "account.user_add", {"user_id": user.user_id, "role": user.role})
    if as_json:
        emit_json({"email": user.email, "role": user.role, "user_id": user.user_id, "audit_entry": entry})
    else:
        stdout.print(f"added {user.email} as {user.role}")


@user_app.command("list")
def user_list_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List dashboard accounts with their roles (never their password hashes)."""
    from shoplens.web import list_users

    users = [
        {"email": u.email, "role": u.role, "active": u.active, "created_at": u.created_at}
        for u in list_users(_database(ctx))
    ]
    if as_json:
        emit_json({"users": users})
        return
    for user in users:
        stdout.print(f"{user['email']}\t{user['role']}\t{'active' if user['active'] else 'disabled'}")


@token_app.command("create")
def token_create_command(
    ctx: typer.Context,
    role: RoleOption = "analyst",
    name: Annotated[str, typer.Option("--name", help="What the token is for (shown in listings).")] = "",
    as_json: JsonOption = False,
) -> None:
    """Create an API token with a role; it is shown once, only its hash is kept."""
    from shoplens.web import create_token

    secret, record = create_token(_database(ctx), role, name)
    entry = audit_entry(settings(ctx), "account.token_create", {"token_id": record.token_id, "role": record.role})
    if as_json:
        emit_json(
            {
                "token": secret,
                "token_id": record.token_id,
                "role": record.role,
                "name": record.name,
                "audit_entry": entry,
            }
        )
    else:
        stdout.print(secret)


EmailArgument = Annotated[str, typer.Argument(help="The account's e-mail address.")]


@user_app.command("role")
def user_role_command(
    ctx: typer.Context,
    email: EmailArgument,
    role: Annotated[str, typer.Argument(help=f"The new role, one of: {', '.join(ROLES)}.")],
    as_json: JsonOption = False,
) -> None:
    """Change an account's role; it applies at the account's next request. The last owner stays owner.

    Prints {"email", "user_id", "previous_role", "role", "audit_entry"} with --json. Example: shoplens user role
    sam@shop.example marketer
    """
    from shoplens.web import change_role

    change = change_role(_database(ctx), email, role)
    details = {"user_id": change.user_id, "role": change.role, "previous_role": change.previous_role}
    entry = audit_entry(settings(ctx), "account.user_role", details)
    if as_json:
        emit_json({"email": change.email, **details, "audit_entry": entry})
    else:
        stdout.print(f"{change.email} is now {change.role} (was {change.previous_role})", markup=False)


@user_app.command("remove")
def user_remove_command(ctx: typer.Context, email: EmailArgument, as_json: JsonOption = False) -> None:
    """Remove an account: it can no longer log in and its open sessions end. The last owner cannot be removed.

    The account is kept disabled (its id names it in the audit log). Prints {"email", "user_id", "role",
    "audit_entry"} with --json. Example: shoplens user remove sam@shop.example
    """
    from shoplens.web import remove_user

    user = remove_user(_database(ctx), email)
    entry = audit_entry(settings(ctx), "account.user_remove", {"user_id": user.user_id, "role": user.role})
    if as_json:
        emit_json({"email": user.email, "user_id": user.user_id, "role": user.role, "audit_entry": entry})
    else:
        stdout.print(f"removed {user.email}", markup=False)


@token_app.command("list")
def token_list_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List API tokens: id, name, role, when created, whether revoked (never the token itself).

    Prints {"tokens": [{"token_id", "name", "role", "created_at", "revoked"}]} with --json, oldest first.
    """
    from shoplens.web import list_tokens

    tokens = [
        {"token_id": t.token_id, "name": t.name, "role": t.role, "created_at": t.created_at, "revoked": t.revoked}
        for t in list_tokens(_database(ctx))
    ]
    if as_json:
        emit_json({"tokens": tokens})
        return
    for token in tokens:
        state = "revoked" if token["revoked"] else "active"
        stdout.print(f"{token['token_id']}\t{token['role']}\t{state}\t{token['name']}", markup=False)


@token_app.command("revoke")
def token_revoke_command(
    ctx: typer.Context,
    token_id: Annotated[str, typer.Argument(help="The token's id, as 'shoplens token list' shows it.")],
    as_json: JsonOption = False,
) -> None:
    """Revoke an API token: from now on it answers 401. Prints {"token_id", "role", "audit_entry"} with --json."""
    from shoplens.web import revoke_token

    record = revoke_token(_database(ctx), token_id)
    entry = audit_entry(settings(ctx), "account.token_revoke", {"token_id": record.token_id, "role": record.role})
    if as_json:
        emit_json({"token_id": record.token_id, "role": record.role, "audit_entry": entry})
    else:
        stdout.print(f"revoked {record.token_id}", markup=False)
