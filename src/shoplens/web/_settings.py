"""Settings of the web server that refuse to be unsafe.

Listening on anything but the local machine without a configured secret key (``SHOPLENS_SECRET_KEY``, at least
32 characters) is refused at start, as is a key that is a known placeholder. On localhost a random key per run
is fine: sessions then end when the server stops. The event collector's settings (allowed origins, limits) are
here too.
"""

from __future__ import annotations

import ipaddress
import json
import re
import secrets
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shoplens.privacy import DEFAULT_K

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
PLACEHOLDER_KEYS = frozenset({"changethis", "change-me", "changeme", "secret", "dev"})
MIN_SECRET_LENGTH = 32


IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_BODY_BYTES = 16 * 1024 * 1024
# the Import page's uploads stream to disk, so they may be far larger than any other request body
MAX_UPLOAD_BYTES = 4 * 1024**3


class WebSettings(BaseSettings):
    """Where the server listens, the key that guards its sessions, the proxies it trusts and the vendor rule.

    ``SHOPLENS_TRUSTED_PROXIES`` takes a comma-separated list (or a JSON list) of proxy addresses or networks
    (``10.0.0.5``, ``10.0.0.0/8``); only a request that arrives from one of them has its ``X-Forwarded-For``
    believed. The default is none: the client address is the address the connection comes from.
    """

    model_config = SettingsConfigDict(env_prefix="SHOPLENS_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    secret_key: str | None = None
    trusted_proxies: Annotated[list[IpNetwork], NoDecode] = Field(default_factory=list)
    vendor_k: int = Field(DEFAULT_K, ge=DEFAULT_K, le=10_000, description="people behind every row a vendor sees")
    max_body_bytes: int = Field(MAX_BODY_BYTES, ge=1024, description="largest request body (413 beyond)")
    warm_pages: bool = Field(True, description="after an import, compute the dashboard's answers in the background")
    max_upload_bytes: int = Field(
        MAX_UPLOAD_BYTES, ge=1024, description="largest upload of store exports on the Import page (413 beyond)"
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_list(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                value = json.loads(text)
            else:
                value = [part.strip() for part in text.split(",") if part.strip()]
        if isinstance(value, list):
            try:
                return [ipaddress.ip_network(str(item).strip(), strict=False) for item in value]
            except ValueError as exc:
                raise ValueError(f"a trusted proxy is an IP address or network such as 10.0.0.0/8: {exc}") from None
        return value

    def client_address(self, peer: str | None, forwarded_for: str | None) -> str:
        """The client's address: ``peer`` (the connection's), or, when ``peer`` is a trusted proxy, the nearest
        address in ``X-Forwarded-For`` that is not a trusted proxy itself (read from the right, as each proxy
        appends the address it saw)."""
        address = peer or "unknown"
        if not self.trusted_proxies or not forwarded_for or not self._trusted(address):
            return address
        for hop in reversed([part.strip() for part in forwarded_for.split(",") if part.strip()]):
            try:
                ipaddress.ip_address(hop)
            except ValueError:
                return address  # a hop that is not an address: the header was forged before our proxy
            if not self._trusted(hop):
                return hop
            address = hop
        return address

    def _trusted(self, address: str) -> bool:
        try:
            found = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(found in network for network in self.trusted_proxies)

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


def web_origin(value: str) -> str:
    """``value`` if it is the origin of a web page, ``scheme://host[:port]`` (http or https, no path); lower case."""
    origin = value.strip().rstrip("/").lower()
    if not _ORIGIN_SHAPE.fullmatch(origin):
        raise ValueError(
            f"an allowed origin must look like https://shop.example or http://localhost:3000, not {value!r}"
        )
    return origin


_ORIGIN_SHAPE = re.compile(r"https?://[a-z0-9.\-]+(:[0-9]{1,5})?|https?://\[[0-9a-f:]+\](:[0-9]{1,5})?")


class CollectorSettings(BaseSettings):
    """The event collector's limits and the web pages that may send it events.

    ``SHOPLENS_COLLECT_ORIGINS`` takes a comma-separated list (or a JSON list) of origins such as
    ``https://shop.example``. A browser request from any other origin is refused (403); requests without an
    ``Origin`` header (a server sending events itself) are let through, since no browser page made them.
    """

    model_config = SettingsConfigDict(env_prefix="SHOPLENS_", extra="ignore")

    collect_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    collect_rate: float = Field(50.0, gt=0, description="requests per second a client address may send, sustained")
    collect_burst: int = Field(100, ge=1, description="requests a client address may send at once")
    collect_max_body_bytes: int = Field(256 * 1024, ge=1024)
    collect_max_events: int = Field(500, ge=1)

    @field_validator("collect_origins", mode="before")
    @classmethod
    def _origin_list(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part for part in text.split(",") if part.strip()]
        return value

    @field_validator("collect_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(web_origin(origin) for origin in value))
