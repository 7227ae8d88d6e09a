"""The one exception tree of shoplens.

Every error shoplens raises on purpose is a :class:`ShoplensError`. The command line turns an
:class:`InputError` into exit code 2 with its message as the one-line reason; any other
``ShoplensError`` exits 1 with its message. Messages never contain personal data: they name
files, columns, row numbers and rules, not customers.

    ShoplensError
    ├── InputError                 the user gave us something we cannot use (exit 2)
    │   ├── UnknownProfileError    --profile names no registered source profile
    │   ├── MissingColumnsError    a file lacks columns its profile needs
    │   ├── UnreadableFileError    a file is missing, empty or not in a format we read
    │   └── MappingError           a generic mapping file is invalid
    ├── ConfigError                settings are unsafe or inconsistent
    └── WarehouseError             the warehouse or app database cannot be used
"""

from __future__ import annotations

from collections.abc import Sequence


class ShoplensError(Exception):
    """Base of every error shoplens raises on purpose."""

    exit_code = 1


class InputError(ShoplensError):
    """Bad input from the user: a bad argument, file or mapping. The CLI exits 2."""

    exit_code = 2


class UnknownProfileError(InputError):
    def __init__(self, name: str, known: Sequence[str]) -> None:
        super().__init__(f"unknown profile {name!r}; choose one of: {', '.join(sorted(known))}")


class MissingColumnsError(InputError):
    def __init__(self, path: str, profile: str, missing: Sequence[str]) -> None:
        self.missing = list(missing)
        super().__init__(f"{path}: not a {profile} export, missing column(s): {', '.join(self.missing)}")


class UnreadableFileError(InputError):
    """A whole file cannot be read (absent, empty, unknown format)."""


class MappingError(InputError):
    """A mapping file for the generic profile is invalid."""


class ConfigError(ShoplensError):
    """Settings that are unsafe or inconsistent."""


class WarehouseError(ShoplensError):
    """The warehouse or the app database cannot be opened or migrated."""
