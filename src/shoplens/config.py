"""Typed settings, read from the environment (``SHOPLENS_*``) and the command line.

The store's home directory holds everything shoplens writes: the DuckDB warehouse, the SQLite app
database, quarantine files and the store secret used for pseudonymous customer keys.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shoplens.errors import ConfigError

SECRET_FILE = "store.secret"
WAREHOUSE_SCHEMES = ("postgresql://", "postgresql+psycopg://", "spark://", "sc://")


def known_timezone(value: str) -> str:
    """``value`` if it names an IANA time zone; a ValueError that says so otherwise (for pydantic validators)."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


class Settings(BaseSettings):
    """Where the store lives and how it is configured."""

    model_config = SettingsConfigDict(env_prefix="SHOPLENS_", extra="ignore")

    home: Path = Path("shoplens-data")
    database_url: str | None = None
    store_timezone: str = "UTC"
    # Absent: the DuckDB file in the home. Else postgresql://user@host:port/db, spark://local or sc://host:port.
    warehouse_url: str | None = None

    _known_timezone = field_validator("store_timezone")(lambda value: known_timezone(value))

    @field_validator("warehouse_url")
    @classmethod
    def _known_warehouse(cls, value: str | None) -> str | None:
        value = value.strip() if value else None
        if value and not value.startswith(WAREHOUSE_SCHEMES):
            raise ValueError(f"warehouse_url must start with one of {', '.join(WAREHOUSE_SCHEMES)}")
        return value or None

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def quarantine_dir(self) -> Path:
        return self.home / "quarantine"

    @property
    def app_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'app.db').resolve()}"

    def ensure_home(self) -> Path:
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create home directory {self.home}: {exc.strerror}") from exc
        return self.home

    def store_secret(self) -> bytes:
        """The per-store key for pseudonymous customer keys, created on first use (mode 0600).

        Losing it means new imports get new keys for the same customers, so it lives in the home
        directory next to the data it protects and is never printed.
        """
        path = self.ensure_home() / SECRET_FILE
        if not path.exists():
            path.touch(mode=0o600)
            path.write_text(secrets.token_hex(32))
        secret = path.read_text().strip()
        if len(secret) < 32:
            raise ConfigError(f"{path} is too short to be a store secret; restore it from a backup")
        return secret.encode()
