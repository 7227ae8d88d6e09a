"""The ``shoplens`` command: global options, error handling, and the sub-commands."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from typer.exceptions import TyperException

from shoplens.cli._format import use_store_style
from shoplens.cli._output import stderr
from shoplens.config import Settings, StoreSettingsFile
from shoplens.errors import ConfigError, FieldError, InputError, ShoplensError
from shoplens.reports import NumberStyle

app = typer.Typer(
    name="shoplens",
    help="Customer intelligence for online shops: import your store's exports, then ask who buys, why, and who leaves.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _global(
    ctx: typer.Context,
    home: Annotated[
        Path,
        typer.Option(
            "--home",
            envvar="SHOPLENS_HOME",
            help="Store directory: warehouse, app database, settings, quarantine files.",
            show_default=True,
        ),
    ] = Path("shoplens-data"),
) -> None:
    """Global options; every command also takes --json for one JSON document on stdout."""
    try:
        ctx.obj = Settings(home=home)
        use_store_style(NumberStyle(locale=ctx.obj.locale, currency=ctx.obj.currency))
    except (ValidationError, ConfigError) as exc:
        if ctx.invoked_subcommand == "config":  # so that `config set` and `config unset` can repair a bad setting
            return
        raise settings_error(exc, home) from None


def settings_error(exc: ValidationError | ConfigError, home: Path) -> ShoplensError:
    """A bad store setting as bad input (exit 2) in one line that names the setting and where it was set."""
    if isinstance(exc, ConfigError):
        return exc
    error = exc.errors()[0]
    key = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    settings_file = StoreSettingsFile(home)
    origin = settings_file.origins().get(key, "")
    if origin.startswith("environment"):
        return InputError(f"settings: {key} from the {origin}: {message}")
    if origin == "settings file":
        return InputError(f"settings: {key} in {settings_file.path}: {message} (change it with shoplens config set)")
    return InputError(f"settings: {key}: {message}" if key else f"settings: {message}")


def settings(ctx: typer.Context) -> Settings:
    value = ctx.find_root().obj
    assert isinstance(value, Settings)
    return value


# Fields of a question whose option is not simply --field-name.
OPTION_NAMES = {
    "start": "--from",
    "end": "--to",
    "annual_discount_rate": "--discount-rate",
    "n_themes": "--themes",
    "by_category": "--by",
    "first_day": "--date",
    "last_day": "--until",
}


def option_name(field: str) -> str:
    """The command-line option of a question's field."""
    return OPTION_NAMES.get(field, "--" + field.replace("_", "-"))


JsonOption = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]


def main(argv: list[str] | None = None) -> None:
    """Entry point: bad input exits 2 with one line on stderr, never a traceback."""
    from shoplens.cli import (
        _analytics,  # noqa: F401  (registers the analytics commands)
        _audit,  # noqa: F401  (registers audit verify and audit list)
        _campaign,  # noqa: F401  (registers campaign create, measure, audience and list)
        _collect,  # noqa: F401  (registers collect serve and collect load)
        _commands,  # noqa: F401  (registers the commands)
        _config,  # noqa: F401  (registers config show, set and unset)
        _consent,  # noqa: F401  (registers privacy consent set and show)
        _events,  # noqa: F401  (registers events)
        _guard,  # noqa: F401  (registers guard)
        _loyalty,  # noqa: F401  (registers loyalty)
        _market,  # noqa: F401  (registers market competitor, size, own and position)
        _models,  # noqa: F401  (registers clv and forecast)
        _plans,  # noqa: F401  (registers plans)
        _preferences,  # noqa: F401  (registers preferences)
        _pricing,  # noqa: F401  (registers pricing check, simulate and export)
        _privacy,  # noqa: F401  (registers privacy export)
        _profit,  # noqa: F401  (registers profit)
        _purge,  # noqa: F401  (registers privacy purge)
        _recommend,  # noqa: F401  (registers recommend)
        _report,  # noqa: F401  (registers report)
        _service,  # noqa: F401  (registers service)
        _share,  # noqa: F401  (registers share export)
        _suggest,  # noqa: F401  (registers suggest)
        _suppliers,  # noqa: F401  (registers suppliers)
        _survey,  # noqa: F401  (registers survey)
        _targets,  # noqa: F401  (registers targets, budget and acquisition)
        _voice,  # noqa: F401  (registers voice)
        _web,  # noqa: F401  (registers serve)
    )

    args = sys.argv[1:] if argv is None else argv
    try:
        code = app(args=args or ["--help"], standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        stderr.print("aborted")
        sys.exit(130)
    except TyperException as exc:  # usage errors: unknown option, missing argument, bad value
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        stderr.print(f"error: {message}", markup=False, soft_wrap=True)
        sys.exit(2)
    except FieldError as exc:  # the fields named as this command line's options
        stderr.print(f"error: {exc.render(option_name)}", markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except ShoplensError as exc:
        stderr.print(f"error: {exc}", markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        stderr.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # a bug: one line for the user, the traceback only when asked for
        if os.environ.get("SHOPLENS_DEBUG"):
            raise
        first = (str(exc).splitlines() or [""])[0][:200]
        stderr.print(
            f"error: internal error ({type(exc).__name__}): {first} — rerun with SHOPLENS_DEBUG=1", markup=False
        )
        sys.exit(1)
