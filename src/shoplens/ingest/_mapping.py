"""The part of a YAML ``--mapping`` file that every mapped profile shares: columns, constants, dates, CSV dialect."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, field_validator

from shoplens.config import known_timezone


class FileMapping(BaseModel):
    """``columns`` (field: source column), ``constants``, date formats, time zone, CSV dialect, redacted columns."""

    model_config = ConfigDict(extra="forbid")
    known_fields: ClassVar[tuple[str, ...]] = ()
    field_kind: ClassVar[str] = "field"

    columns: dict[str, str]
    constants: dict[str, str | int | float | bool] = {}
    date_format: str | list[str] | None = None
    timezone: str = "UTC"
    delimiter: str | None = None
    encoding: str = "utf-8"
    personal_columns: list[str] = []

    @field_validator("columns", "constants")
    @classmethod
    def _known_fields(cls, value: dict[str, object]) -> dict[str, object]:
        unknown = sorted(set(value) - set(cls.known_fields))
        if unknown:
            raise ValueError(f"unknown {cls.field_kind}(s) {', '.join(unknown)}; known: {', '.join(cls.known_fields)}")
        return value

    _known_zone = field_validator("timezone")(lambda value: known_timezone(value))


class NumberMapping(FileMapping):
    """A mapping of a file whose amounts may be written with a decimal comma ("1.234,50")."""

    decimal_separator: str = "."

    @field_validator("decimal_separator")
    @classmethod
    def _separator(cls, value: str) -> str:
        if value not in (".", ","):
            raise ValueError("decimal_separator must be '.' or ','")
        return value
