"""Consent per purpose: what each customer agreed to, as records with a source and a time; the latest one wins.

Purposes are ``analytics`` (their data in segments, campaign groups and survey samples), ``marketing`` (being
contacted: campaign audiences, survey invitations by e-mail, any release from the vault) and ``sharing`` (their
rows in the aggregate package for vendors). A record says who decided (``import:<profile>`` when it is the
platform's flag at an import, ``cli`` or ``api`` when someone changed it here) and when.

A customer with no record for a purpose falls back to a default: for marketing the platform's flag in the
warehouse (NULL is unknown, and unknown is no), for analytics and sharing yes (the shop's own aggregate uses, which
a customer may refuse). A withdrawal takes effect at once: every reader builds a :class:`ConsentBook` from the
records when it runs, never from a copy.

The records are kept by a :class:`ConsentStore` (the app database is one); this module holds the rules only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, Protocol, get_args

import ibis
import ibis.expr.types as ir

from shoplens.errors import InputError

Purpose = Literal["analytics", "marketing", "sharing"]
PURPOSES: tuple[Purpose, ...] = get_args(Purpose)
PLATFORM_PREFIX = "import:"
SOURCE_PATTERN = re.compile(r"cli|api|import:[a-z0-9_-]{1,48}")
KEY = "customer_key"
_DECIDED_KEY = "decided_customer_key"


def check_purpose(purpose: str) -> Purpose:
    """``purpose`` when it is one of :data:`PURPOSES`; an InputError (exit 2) naming them otherwise."""
    if purpose not in PURPOSES:
        raise InputError(f"a consent purpose is one of {', '.join(PURPOSES)}, not {purpose[:40]!r}")
    return purpose


def check_source(source: str) -> str:
    if not SOURCE_PATTERN.fullmatch(source):
        raise InputError(f"a consent source is cli, api or import:<profile>, not {source[:40]!r}")
    return source


@dataclass(frozen=True)
class ConsentRecord:
    """One decision: ``customer_key`` agreed (``granted``) or not to ``purpose``, said by ``source`` at ``at``."""

    customer_key: str
    purpose: Purpose
    granted: bool
    source: str
    at: datetime

    def __post_init__(self) -> None:
        check_purpose(self.purpose)
        check_source(self.source)

    def as_dict(self) -> dict[str, str | bool]:
        # SQLite hands back naive datetimes (stored as UTC), PostgreSQL aware ones in the session's zone.
        at = self.at.replace(tzinfo=UTC) if self.at.tzinfo is None else self.at.astimezone(UTC)
        return {"purpose": self.purpose, "granted": self.granted, "source": self.source, "at": at.isoformat()}


@dataclass(frozen=True)
class ConsentBook:
    """The latest decision per customer for one purpose (customers with no record are left out of ``decided``)."""

    purpose: Purpose
    decided: Mapping[str, bool] = field(default_factory=dict)

    @property
    def withdrawn(self) -> frozenset[str]:
        """Customers whose latest record for this purpose says no."""
        return frozenset(key for key, granted in self.decided.items() if not granted)

    def default(self, platform_flag: bool | None) -> bool:
        """The answer for a customer with no record: the platform's flag for marketing, yes otherwise."""
        return bool(platform_flag) if self.purpose == "marketing" else True

    def granted(self, customer_key: str, platform_flag: bool | None = None) -> bool:
        found = self.decided.get(customer_key)
        return found if found is not None else self.default(platform_flag)

    def consenting(self, customers: ir.Table) -> ir.Table:
        """The ``customer_key`` of ``customers`` (the warehouse table) who agree to this purpose now."""
        decided = ibis.memtable(
            {_DECIDED_KEY: list(self.decided), "decided": list(self.decided.values())},
            schema={_DECIDED_KEY: "string", "decided": "boolean"},
        )
        joined = customers.select(KEY, "consent_marketing").left_join(decided, customers[KEY] == decided[_DECIDED_KEY])
        fallback = joined.consent_marketing.fill_null(False) if self.purpose == "marketing" else ibis.literal(True)
        agreed = joined.decided.fill_null(fallback)
        return joined.filter(agreed).select(KEY)


class ConsentStore(Protocol):
    """Where consent records are kept. :class:`shoplens.appdb.AppDatabase` is one."""

    def add_consent(self, records: Sequence[ConsentRecord]) -> int:
        """Store ``records`` in one transaction; how many were stored."""
        ...

    def latest_consent(self, purpose: Purpose, customer_keys: Sequence[str] | None = None) -> dict[str, ConsentRecord]:
        """The newest record per customer for ``purpose`` (only ``customer_keys`` when given)."""
        ...

    def latest_platform_consent(self, purpose: Purpose, customer_keys: Sequence[str]) -> dict[str, bool]:
        """The newest decision that came from an import (source ``import:...``) per customer given."""
        ...


def consent_book(store: ConsentStore, purpose: str) -> ConsentBook:
    """The current decisions for ``purpose``, read now from ``store``."""
    chosen = check_purpose(purpose)
    return ConsentBook(chosen, {key: record.granted for key, record in store.latest_consent(chosen).items()})


def platform_consent_records(
    store: ConsentStore, flags: Mapping[str, bool], *, profile: str, at: datetime
) -> list[ConsentRecord]:
    """The marketing records an import by ``profile`` adds: one per customer whose platform flag is new or changed.

    ``flags`` maps a customer key to the platform's flag as the warehouse now holds it (customers whose flag is
    unknown are left out). A flag equal to the newest record that came from an import adds nothing, so
    re-importing an old export does not undo a withdrawal made here; a flag the platform changed (the customer
    unsubscribed or subscribed there) is a new decision, and the newest decision wins.
    """
    source = check_source(PLATFORM_PREFIX + profile)
    said = store.latest_platform_consent("marketing", list(flags))
    return [
        ConsentRecord(key, "marketing", granted, source, at)
        for key, granted in flags.items()
        if said.get(key) != granted
    ]
