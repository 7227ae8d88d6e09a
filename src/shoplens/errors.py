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
    │   ├── MappingError           a generic mapping file is invalid
    │   ├── FieldError             a field of a question has a bad value (named as each front end names it)
    │   └── NotFoundError          a question names something the store does not have, or may not show (404)
    ├── ConfigError                settings are unsafe or inconsistent
    │   └── VaultKeyError          the vault key is missing or cannot decrypt the vault (exit 2)
    └── WarehouseError             the warehouse or app database cannot be used
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence


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


class FieldError(InputError):
    """A bad value of a field of a question: ``{field}`` placeholders in the message name the fields.

    Each front end names a field its own way when it shows the message: the command line as its option
    (``--calibration-end``), the API as its parameter (``calibration_end``, also what ``str()`` gives), so the
    layers below never speak in command-line flags.
    """

    _FIELD = re.compile(r"\{([a-z][a-z0-9_]*)\}")

    def __init__(self, template: str) -> None:
        self.template = template
        super().__init__(self.render(lambda field: field))

    @property
    def fields(self) -> list[str]:
        return self._FIELD.findall(self.template)

    def render(self, name_of: Callable[[str], str]) -> str:
        """The message with each field named by ``name_of``."""
        return self._FIELD.sub(lambda found: name_of(found.group(1)), self.template)


class NotFoundError(InputError):
    """A question names a thing the store does not have (or may not show, such as the profile of a customer who
    refused consent). The CLI exits 2; the API answers 404."""


class ConfigError(ShoplensError):
    """Settings that are unsafe or inconsistent."""


class VaultKeyError(ConfigError):
    """The vault key is missing, malformed, or not the key the vault was encrypted with. The CLI exits 2: the
    store's owner must restore the key (a backup of the key file, the key service); nothing is wrong with the data."""

    exit_code = 2


class WarehouseError(ShoplensError):
    """The warehouse or the app database cannot be opened or migrated."""
