"""``shoplens config``: the store settings kept in the home (time zone, currency, name, locale, warehouse)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from shoplens.cli._app import JsonOption, app, settings_error
from shoplens.cli._output import emit_json, stderr, stdout
from shoplens.config import STORE_SETTING_KEYS, Settings, StoreSettingsFile, masked_url, overriding_variable
from shoplens.errors import ConfigError

config_app = typer.Typer(
    name="config",
    help=(
        "The store's settings, kept in the home (settings.json) so that nobody repeats them on every command: "
        f"{', '.join(STORE_SETTING_KEYS)}. An environment variable SHOPLENS_<KEY> overrides the file for as long "
        "as it is set. Examples: shoplens config set timezone America/New_York; shoplens config show --json"
    ),
    no_args_is_help=True,
)
app.add_typer(config_app)

KeyArgument = Annotated[str, typer.Argument(help=f"One of: {', '.join(STORE_SETTING_KEYS)}.")]


def _home(ctx: typer.Context) -> Path:
    # From the global option rather than the Settings object, which a bad setting may have kept from being built.
    home = ctx.find_root().params["home"]
    assert isinstance(home, Path)
    return home


def _audit_change(ctx: typer.Context, action: str, key: str, **details: bool) -> int:
    """The audit entry of a setting change: which key, never its value (a URL may name a database user)."""
    from shoplens.cli._audit import audit_entry

    try:
        config = Settings(home=_home(ctx))
    except (ValidationError, ConfigError) as exc:
        raise settings_error(exc, _home(ctx)) from None
    return audit_entry(config, action, {"key": key, **details})


@config_app.command("show")
def show_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """The store settings in force and where each comes from (environment, settings file or default).

    --json prints {"timezone", "currency", "store_name", "locale", "warehouse_url"}; warehouse_url is null for
    the DuckDB file in the home, and a password in it is shown as ***. Example: shoplens config show --json
    """
    home = _home(ctx)
    try:
        config = Settings(home=home)
    except (ValidationError, ConfigError) as exc:
        raise settings_error(exc, home) from None
    values = config.store_settings()
    if as_json:
        emit_json(values)
        return
    origins = StoreSettingsFile(home).origins()
    shown = {key: f"DuckDB file {config.warehouse_path}" if values[key] is None else str(values[key]) for key in values}
    # Plain aligned columns rather than a boxed table: a long path or URL must not be wrapped or cut.
    key_width = max(len(key) for key in STORE_SETTING_KEYS) + 2
    value_width = max(len(text) for text in shown.values()) + 2
    lines = [f"store settings of {home}", f"{'setting':<{key_width}}{'value':<{value_width}}from"]
    lines += [f"{key:<{key_width}}{shown[key]:<{value_width}}{origins[key]}" for key in STORE_SETTING_KEYS]
    stdout.print("\n".join(lines), markup=False, soft_wrap=True)


@config_app.command("set")
def set_command(
    ctx: typer.Context,
    key: KeyArgument,
    value: Annotated[str, typer.Argument(help="The new value; it is checked before it is kept.")],
    as_json: JsonOption = False,
) -> None:
    """Check a store setting and keep it in the home's settings.json (mode 0600).

    timezone: an IANA zone such as Europe/London (days, weeks and months of every analysis are this zone's).
    currency: an ISO 4217 code of three letters such as EUR. store_name: one line of text. locale: a language
    and region such as en_GB. warehouse_url: postgresql://user@host:5432/db, spark://local or sc://host:15002.
    A bad key or value exits 2 and changes nothing. Prints {"key", "value", "overridden_by"} with --json.
    Examples: shoplens config set timezone Asia/Hong_Kong; shoplens config set store_name "Tea & Co"
    """
    stored = StoreSettingsFile(_home(ctx)).set(key, value)
    shown = masked_url(stored) if key == "warehouse_url" else stored
    overridden_by = overriding_variable(key)
    entry = _audit_change(ctx, "config.set", key)
    if as_json:
        emit_json({"key": key, "value": shown, "overridden_by": overridden_by, "audit_entry": entry})
        return
    stdout.print(f"{key} = {shown}", markup=False)
    if overridden_by:
        stderr.print(f"note: {overridden_by} is set and overrides this until it is unset", markup=False)


@config_app.command("unset")
def unset_command(ctx: typer.Context, key: KeyArgument, as_json: JsonOption = False) -> None:
    """Remove a store setting from the home's settings.json, so that its default applies again.

    Prints {"key", "removed"} with --json ("removed" is false when it was not set). Example: shoplens config
    unset warehouse_url (back to the DuckDB file in the home)
    """
    removed = StoreSettingsFile(_home(ctx)).unset(key)
    entry = _audit_change(ctx, "config.unset", key, removed=removed)
    if as_json:
        emit_json({"key": key, "removed": removed, "audit_entry": entry})
        return
    stdout.print(f"{key} removed; the default applies" if removed else f"{key} was not set", markup=False)
    if removed and (overridden_by := overriding_variable(key)):
        stderr.print(f"note: {overridden_by} is still set and overrides the default", markup=False)
