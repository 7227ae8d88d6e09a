"""Typed settings: the store's own settings file, the environment (``SHOPLENS_*``) and the command line.

The store's home directory holds everything shoplens writes: the DuckDB warehouse, the SQLite app
database, quarantine files, the store secret used for pseudonymous customer keys and lookup hashes, the vault key
that encrypts personal data (``vault.key``, unless ``SHOPLENS_VAULT_KEY_ENV`` names an environment variable that
holds it, as a key service provides it), and ``settings.json``,
the store settings kept with the store (``shoplens config set KEY VALUE``):

    timezone       IANA zone whose days, weeks and months the analyses count in (default UTC)
    currency       ISO 4217 code the store reports in (default USD)
    store_name     the shop's name as reports and the dashboard show it (default "My shop")
    locale         language and region, such as en_GB or zh_HK (default en_US)
    warehouse_url  where the warehouse lives; absent means the DuckDB file in the home

A value is taken from, first to last: what the caller passes to :class:`Settings`, the environment variable
``SHOPLENS_<KEY>`` (``SHOPLENS_STORE_TIMEZONE`` still works for the time zone, deprecated), the home's
settings file, the default.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import locale
import os
import re
import secrets
import tempfile
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from shoplens.errors import ConfigError, InputError, VaultKeyError

# DuckDB's memory while importing: past it the rows spill to disk, so an import's memory does not grow with the
# file. With 768 MiB a 10-million-line export peaked at 1.42 GB in all (1.67 GB with 1 GiB, 4.5 GB unbounded).
DEFAULT_IMPORT_MEMORY_BYTES = 768 * 1024**2

MAX_RETENTION_DAYS = 36_500

SECRET_FILE = "store.secret"
VAULT_KEY_FILE = "vault.key"
VAULT_KEY_NEXT_FILE = "vault.key.next"  # a rotation's new key, until every vault row is encrypted with it
VAULT_KEY_BYTES = 32  # AES-256
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SETTINGS_FILE = "settings.json"
STORE_SETTING_KEYS = ("timezone", "currency", "store_name", "locale", "warehouse_url")
WAREHOUSE_URL_SCHEMES = ("postgresql://", "postgresql+psycopg://", "spark://", "sc://")
DEPRECATED_ENV_NAMES = {"SHOPLENS_STORE_TIMEZONE": "timezone"}
MASK = "***"
_SECRET_PARAMETERS = frozenset({"password", "token"})

_CURRENCY_SHAPE = re.compile(r"[A-Z]{3}")
# language (ISO 639), optional script (ISO 15924), optional region (ISO 3166 or a UN M49 number): en_GB,
# zh_Hant_HK, es_419.
_LOCALE_SHAPE = re.compile(r"[a-z]{2,3}(_[A-Z][a-z]{3})?(_([A-Z]{2}|[0-9]{3}))?")
_LONGEST_STORE_NAME = 200


def known_timezone(value: str) -> str:
    """``value`` if it names an IANA time zone; a ValueError that says so otherwise (for pydantic validators)."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


def currency_code(value: str) -> str:
    """``value`` in upper case if it has the shape of an ISO 4217 code (three letters).

    The shape only: without a currency database installed, ``XYZ`` passes, ``US$`` and ``EURO`` do not.
    """
    code = value.strip().upper()
    if not _CURRENCY_SHAPE.fullmatch(code):
        raise ValueError(f"currency must be an ISO 4217 code of three letters such as USD or EUR, not {value!r}")
    return code


def locale_name(value: str) -> str:
    """``value`` as ``language[_Script][_REGION]`` (``en-gb`` becomes ``en_GB``) if it has that shape."""
    parts = value.strip().replace("-", "_").split("_")
    parts = [parts[0].lower(), *(part.title() if len(part) == 4 else part.upper() for part in parts[1:])]
    name = "_".join(parts)
    if not _LOCALE_SHAPE.fullmatch(name):
        raise ValueError(f"locale must be a language and region such as en_GB or zh_HK, not {value!r}")
    if parts[0] not in _known_languages():
        raise ValueError(
            f"locale must be a language and region such as en_GB or zh_HK, not {value!r}: "
            f"{parts[0]!r} is not a language code the system's locale table knows"
        )
    return name


@functools.cache
def _known_languages() -> frozenset[str]:
    """The language codes of the C library's locale names (Python's ``locale.locale_alias``): about 200, every
    language with a locale of its own; ``zz`` or ``xx`` are not among them."""
    languages = (re.split(r"[_.@]", name)[0] for name in locale.locale_alias)
    return frozenset(language for language in languages if re.fullmatch(r"[a-z]{2,3}", language))


def store_name_text(value: str) -> str:
    """``value`` without surrounding spaces, if it is one line of 1 to 200 characters."""
    name = value.strip()
    if not name:
        raise ValueError("store_name must not be empty")
    if len(name) > _LONGEST_STORE_NAME or any(not character.isprintable() for character in name):
        raise ValueError(f"store_name must be one line of at most {_LONGEST_STORE_NAME} printable characters")
    return name


def masked_url(url: str) -> str:
    """``url`` with any secret in it replaced by ``***``: the password of ``user:PASSWORD@host``, and
    ``password=`` or ``token=`` parameters (``?password=…`` for PostgreSQL, ``/;token=…`` for Spark Connect)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not even the shape of a URL: show nothing of it
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        user_info, host = netloc.rsplit("@", 1)
        if ":" in user_info:
            netloc = f"{user_info.split(':', 1)[0]}:{MASK}@{host}"
    path = ";".join(
        f"{piece.split('=', 1)[0]}={MASK}" if piece.split("=", 1)[0].lower() in _SECRET_PARAMETERS else piece
        for piece in parts.path.split(";")
    )
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = parts.query
    if any(name.lower() in _SECRET_PARAMETERS for name, _ in pairs):
        query = urlencode([(n, MASK if n.lower() in _SECRET_PARAMETERS else v) for n, v in pairs], safe="*")
    return urlunsplit(parts._replace(netloc=netloc, path=path, query=query))


def warehouse_address(value: str) -> str:
    """``value`` if it names a warehouse shoplens can use (PostgreSQL, a local Spark session, Spark Connect)."""
    url = value.strip()
    if not url.startswith(WAREHOUSE_URL_SCHEMES) or url in WAREHOUSE_URL_SCHEMES:
        schemes = ", ".join(WAREHOUSE_URL_SCHEMES[:-1]) + f" or {WAREHOUSE_URL_SCHEMES[-1]}"
        # The message may be printed: never with the password in it.
        raise ValueError(f"warehouse_url must start with {schemes} and name a server, not {masked_url(url)!r}")
    return url


STORE_SETTING_RULES: dict[str, Callable[[str], str]] = {
    "timezone": known_timezone,
    "currency": currency_code,
    "store_name": store_name_text,
    "locale": locale_name,
    "warehouse_url": warehouse_address,
}


def store_setting_value(key: str, value: str) -> str:
    """``value`` checked and normalised for the store setting ``key``; an InputError naming what is wrong."""
    if key not in STORE_SETTING_RULES:
        raise InputError(f"unknown setting {key!r}; the settings are: {', '.join(STORE_SETTING_KEYS)}")
    try:
        return STORE_SETTING_RULES[key](value)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def env_names(key: str) -> list[str]:
    """The environment variables that set the store setting ``key``, the current name first."""
    return [f"SHOPLENS_{key.upper()}", *(name for name, old in DEPRECATED_ENV_NAMES.items() if old == key)]


def overriding_variable(key: str) -> str | None:
    """The environment variable that sets the store setting ``key`` now, if any (the current name first)."""
    return next((name for name in env_names(key) if _environment_value(name) is not None), None)


def _environment_value(name: str) -> str | None:
    # pydantic-settings reads the environment case-insensitively; so does this.
    wanted = name.lower()
    return next((value for env, value in os.environ.items() if env.lower() == wanted), None)


class StoreSettingsFile:
    """``<home>/settings.json``: the store settings kept with the store, written whole and atomically.

    The file is created with mode 0600 because a warehouse address can hold a password.
    """

    def __init__(self, home: Path) -> None:
        self.path = home / SETTINGS_FILE

    def read(self) -> dict[str, str]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ConfigError(f"cannot read {self.path}: {exc.strerror}") from None
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{self.path} is not valid JSON (line {exc.lineno}); fix it or delete it") from None
        if not isinstance(document, dict) or not all(isinstance(value, str) for value in document.values()):
            raise ConfigError(f"{self.path} must hold one JSON object of text values; fix it or delete it")
        return {key: value for key, value in document.items() if key in STORE_SETTING_KEYS}

    def set(self, key: str, value: str) -> str:
        """Check ``value`` for ``key``, keep it, and return it as stored (normalised)."""
        return self.set_many({key: value})[key]

    def set_many(self, values: Mapping[str, str]) -> dict[str, str]:
        """Check every value (:meth:`check_many`), then keep them all in one write; returns them as stored."""
        stored = self.check_many(values)
        self._write({**self.read(), **stored})
        return stored

    @staticmethod
    def check_many(values: Mapping[str, str]) -> dict[str, str]:
        """Every value checked and normalised for its key, or one InputError naming each bad one, on one line."""
        checked: dict[str, str] = {}
        problems: list[str] = []
        for key, value in values.items():
            try:
                checked[key] = store_setting_value(key, value)
            except InputError as exc:
                problems.append(str(exc))
        if problems:
            raise InputError("; ".join(problems))
        return checked

    def unset(self, key: str) -> bool:
        """Forget ``key`` (its default applies again); False when it was not set."""
        if key not in STORE_SETTING_KEYS:
            raise InputError(f"unknown setting {key!r}; the settings are: {', '.join(STORE_SETTING_KEYS)}")
        values = self.read()
        if key not in values:
            return False
        del values[key]
        self._write(values)
        return True

    def _write(self, values: Mapping[str, str]) -> None:
        home = self.path.parent
        try:
            home.mkdir(parents=True, exist_ok=True)
            # A temporary file in the same directory, then a rename: a reader sees the old file or the new one.
            handle, temporary = tempfile.mkstemp(dir=home, prefix=".settings-", suffix=".json")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:  # mkstemp creates it with mode 0600
                    json.dump(dict(sorted(values.items())), out, indent=2)
                    out.write("\n")
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, self.path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise ConfigError(f"cannot write {self.path}: {exc.strerror}") from None

    def origins(self) -> dict[str, str]:
        """Where each store setting's value comes from: ``environment (NAME)``, ``settings file`` or ``default``."""
        stored = self.read()
        found: dict[str, str] = {}
        for key in STORE_SETTING_KEYS:
            if name := overriding_variable(key):
                found[key] = f"environment ({name}{', deprecated' if name in DEPRECATED_ENV_NAMES else ''})"
            else:
                found[key] = "settings file" if key in stored else "default"
        return found


def vault_key_bytes(text: str, where: str) -> bytes:
    """A vault key from its text (base64 of 32 bytes); a VaultKeyError naming ``where`` when it is not one."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != VAULT_KEY_BYTES:
        raise VaultKeyError(f"the vault key {where} is not {VAULT_KEY_BYTES} bytes of base64; restore it from a backup")
    return key


def vault_key_text(key: bytes) -> str:
    return base64.b64encode(key).decode()


class VaultKeySource:
    """Where the key that encrypts the vault comes from: the key file in the home (mode 0600, made on first use),
    or an environment variable a key service fills. This class reads and writes key material only; what the key
    does is the privacy layer's.

    A rotation first keeps the new key next to the old one (``vault.key.next``), re-encrypts every row, then puts
    it in the old one's place; until then both keys are offered, so a rotation cut short loses nothing.
    """

    def __init__(self, home: Path, env_name: str | None = None) -> None:
        self.home = home
        self.env_name = env_name

    @property
    def from_environment(self) -> bool:
        return self.env_name is not None

    @property
    def where(self) -> str:
        """The key's place, fit for an error message (never the key)."""
        if self.env_name is not None:
            return f"in the environment variable {self.env_name}"
        return f"file {self.home / VAULT_KEY_FILE}"

    def keys(self) -> list[bytes] | None:
        """The current key first, then a rotation's new key if one was cut short; None when there is no key."""
        if self.env_name is not None:
            value = _environment_value(self.env_name)
            return None if not value else [vault_key_bytes(value, self.where)]
        found: list[bytes] = []
        for name in (VAULT_KEY_FILE, VAULT_KEY_NEXT_FILE):
            path = self.home / name
            try:
                text = path.read_text(encoding="ascii")
            except FileNotFoundError:
                continue
            except (OSError, UnicodeDecodeError) as exc:
                raise VaultKeyError(f"cannot read the vault key file {path}: {exc}") from None
            found.append(vault_key_bytes(text, f"file {path}"))
        if found and not (self.home / VAULT_KEY_FILE).exists():
            return None  # only a rotation's leftover: the key itself is gone
        return found or None

    def create(self) -> bytes:
        """A new random key in the key file (for a vault that holds nothing encrypted yet)."""
        if self.env_name is not None:
            raise VaultKeyError(f"no vault key {self.where}; set it from the key service")
        key = secrets.token_bytes(VAULT_KEY_BYTES)
        self._write(VAULT_KEY_FILE, key)
        return key

    def begin_rotation(self, new_key: bytes) -> None:
        """Keep ``new_key`` next to the current key file, before any row is encrypted with it."""
        if self.env_name is None:
            self._write(VAULT_KEY_NEXT_FILE, new_key)

    def finish_rotation(self) -> None:
        """Every row is encrypted with the new key: it replaces the old key file, and the old key is gone."""
        if self.env_name is None:
            os.replace(self.home / VAULT_KEY_NEXT_FILE, self.home / VAULT_KEY_FILE)

    def _write(self, name: str, key: bytes) -> None:
        path = self.home / name
        try:
            self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
            handle, temporary = tempfile.mkstemp(dir=self.home, prefix=".vault-", suffix=".key")  # mode 0600
            try:
                with os.fdopen(handle, "w", encoding="ascii") as out:
                    out.write(vault_key_text(key) + "\n")
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise ConfigError(f"cannot write the vault key file {path}: {exc.strerror}") from None


class _DeprecatedEnvironment(PydanticBaseSettingsSource):
    """Old environment names that still work, below the current ones."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads the whole environment at once

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, key in DEPRECATED_ENV_NAMES.items():
            value = _environment_value(name)
            if value is not None and key not in self.current_state:
                values[key] = value
        return values


class _HomeSettingsFile(PydanticBaseSettingsSource):
    """The home's ``settings.json``; the home itself comes from the sources above it (argument, environment)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads the whole file at once

    def __call__(self) -> dict[str, Any]:
        home = self.current_state.get("home", self.settings_cls.model_fields["home"].default)
        return dict(StoreSettingsFile(Path(home)).read())


class Settings(BaseSettings):
    """Where the store lives and how it is configured."""

    model_config = SettingsConfigDict(env_prefix="SHOPLENS_", extra="ignore")

    home: Path = Path("shoplens-data")
    database_url: str | None = None
    timezone: str = "UTC"
    currency: str = "USD"
    store_name: str = "My shop"
    locale: str = "en_US"
    warehouse_url: str | None = None
    # Limits of one import (environment SHOPLENS_IMPORT_...): the longest record read, how far a compressed file
    # may expand (ratio, judged past 1 GiB, and absolute bytes), how long an import waits for another, and the
    # memory DuckDB may use while importing (past it the rows spill to disk, so an import's memory does not grow with
    # the file).
    import_max_record_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    import_max_expansion: int = Field(default=1000, ge=1)
    import_max_decompressed_bytes: int = Field(default=64 * 1024**3, ge=1)
    import_wait_seconds: float = Field(default=600.0, ge=0)
    import_memory_limit_bytes: int = Field(default=DEFAULT_IMPORT_MEMORY_BYTES, ge=64 * 1024**2)
    # Retention (``shoplens privacy purge``): days after which each kind of data goes. Environment variables
    # SHOPLENS_RETENTION_<KIND>_DAYS set them; each must be 1 to 36,500 days.
    retention_customer_days: int = Field(default=1095, ge=1, le=MAX_RETENTION_DAYS)  # inactive customers' data
    retention_quarantine_days: int = Field(default=90, ge=1, le=MAX_RETENTION_DAYS)  # quarantined rows' files
    retention_cache_days: int = Field(default=30, ge=1, le=MAX_RETENTION_DAYS)  # result caches
    retention_web_event_days: int = Field(default=395, ge=1, le=MAX_RETENTION_DAYS)  # web events and sessions
    # Costs beyond the goods, for the contribution margin (``shoplens profit``, CLV on that margin): a payment fee
    # in percent of what the customer paid (steps of 0.01) plus a fixed amount per order, and what one shipment
    # costs the shop (absent: the shipping charged is passed through at cost). Environment variables
    # SHOPLENS_PAYMENT_FEE_PERCENT, SHOPLENS_PAYMENT_FEE_FIXED, SHOPLENS_SHIPPING_COST_PER_ORDER; a command's
    # options override them for one run.
    payment_fee_percent: Decimal = Field(default=Decimal(0), ge=0, le=100, decimal_places=2)
    payment_fee_fixed: Decimal = Field(default=Decimal(0), ge=0, decimal_places=2)
    shipping_cost_per_order: Decimal | None = Field(default=None, ge=0, decimal_places=2)
    # The name of an environment variable holding the vault key (base64 of 32 bytes), as a key service or secret
    # manager sets it; absent means the key file in the home. Environment only, never in settings.json.
    vault_key_env: str | None = None

    _known_timezone = field_validator("timezone")(lambda value: known_timezone(value))
    _currency_code = field_validator("currency")(lambda value: currency_code(value))
    _store_name_text = field_validator("store_name")(lambda value: store_name_text(value))
    _locale_name = field_validator("locale")(lambda value: locale_name(value))
    _warehouse_address = field_validator("warehouse_url")(
        lambda value: None if value is None else warehouse_address(value)
    )

    @field_validator("vault_key_env")
    @classmethod
    def _environment_variable_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.fullmatch(value):
            raise ValueError(f"vault_key_env must name an environment variable (letters, digits, _), not {value!r}")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            _DeprecatedEnvironment(settings_cls),
            dotenv_settings,
            _HomeSettingsFile(settings_cls),
            file_secret_settings,
        )

    def store_settings(self) -> dict[str, str | None]:
        """The five store settings as ``config show --json`` prints them: a warehouse password masked."""
        return {
            "timezone": self.timezone,
            "currency": self.currency,
            "store_name": self.store_name,
            "locale": self.locale,
            "warehouse_url": None if self.warehouse_url is None else masked_url(self.warehouse_url),
        }

    def retention(self) -> dict[str, int]:
        """Days kept per kind of data: customers (personal data of those inactive that long), quarantine, cache,
        web_events."""
        return {
            "customers": self.retention_customer_days,
            "quarantine": self.retention_quarantine_days,
            "cache": self.retention_cache_days,
            "web_events": self.retention_web_event_days,
        }

    @property
    def cache_dir(self) -> Path:
        """Result caches (the query runner's disk cache): no personal data, no audit, deleted when old."""
        return self.home / "cache"

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def quarantine_dir(self) -> Path:
        return self.home / "quarantine"

    @property
    def spool_dir(self) -> Path:
        """Where the event collector keeps accepted events until ``shoplens collect load`` moves them."""
        return self.home / "spool" / "events"

    @property
    def app_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'app.db').resolve()}"

    def ensure_home(self) -> Path:
        """The home directory, created owner-only (0700); from here on this process creates files owner-only.

        The store holds personal data (the vault in the warehouse, the app database, the key files, quarantined
        rows), so the process's umask is set to 077 here, the one place every command passes before it writes:
        every file the store creates is then 0600 and every folder 0700, whichever module creates it.
        """
        os.umask(0o077)
        try:
            self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.home.chmod(0o700)
        except OSError as exc:
            raise ConfigError(f"cannot create home directory {self.home}: {exc.strerror}") from exc
        return self.home

    def vault_key_source(self) -> VaultKeySource:
        """Where the vault key is: ``vault_key_env``'s variable, else the key file in the home."""
        return VaultKeySource(self.home, self.vault_key_env)

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
