"""Settings of the web server that refuse to be unsafe.

Listening on anything but the local machine without a configured secret key (``SHOPLENS_SECRET_KEY``, at least
32 characters) is refused at start, as is a key that is a known placeholder. On localhost a random key per run
is fine: sessions then end when the server stops.
"""

from __future__ import annotations

import secrets

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
PLACEHOLDER_KEYS = frozenset({"changethis", "change-me", "changeme", "secret", "dev"})
MIN_SECRET_LENGTH = 32


class WebSettings(BaseSettings):
    """Where the server listens and the key that guards its sessions."""

    model_config = SettingsConfigDict(env_prefix="SHOPLENS_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    secret_key: str | None = None

    @property
    def is_local(self) -> bool:
        return self.host in LOCAL_HOSTS

    @property
    def secure_cookies(self) -> bool:
        """Cookies marked Secure (sent over HTTPS only) whenever the server is reachable from elsewhere."""
        return not self.is_local

    @model_validator(mode="after")
    def _safe(self) -> WebSettings:
        key = self.secret_key
        if key is not None and (key.lower() in PLACEHOLDER_KEYS or len(key) < MIN_SECRET_LENGTH):
            raise ValueError(f"SHOPLENS_SECRET_KEY must be a random string of at least {MIN_SECRET_LENGTH} characters")
        if key is None and not self.is_local:
            raise ValueError(
                f"listening on {self.host} needs SHOPLENS_SECRET_KEY (a random string of at least "
                f"{MIN_SECRET_LENGTH} characters, e.g. from `python -c 'import secrets; print(secrets.token_hex(32))'`)"
            )
        if key is None:
            self.secret_key = secrets.token_hex(32)
        return self
