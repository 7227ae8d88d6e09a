"""``shoplens privacy consent``: what a customer agreed to, per purpose, and changing it (the newest record wins)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

import typer

from shoplens.appdb import AppDatabase, consent_state
from shoplens.cli._app import JsonOption, settings
from shoplens.cli._output import emit_json, stdout
from shoplens.cli._privacy import EmailOption, person_key, privacy_app
from shoplens.config import Settings
from shoplens.errors import InputError
from shoplens.privacy import (
    ConsentRecord,
    audit_sink,
    check_purpose,
    platform_consent_records,
)
from shoplens.warehouse import connect, warehouse_exists

consent_app = typer.Typer(
    name="consent",
    help=(
        "Consent per purpose (analytics, marketing, sharing): each decision is a record with its source and time, "
        "and the newest one wins at once everywhere."
    ),
    no_args_is_help=True,
)
privacy_app.add_typer(consent_app)

PurposeOption = Annotated[str, typer.Option("--purpose", help="analytics, marketing or sharing.")]
GrantedOption = Annotated[str, typer.Option("--granted", help="yes (agrees) or no (refuses or withdraws).")]
_PROFILE_NAME = re.compile(r"[^a-z0-9_-]+")


def _platform_flags(config: Settings, keys: list[str] | None = None) -> dict[str, tuple[bool, str]]:
    """The warehouse's marketing flag and source profile of each customer whose flag is known (only ``keys``)."""
    if not warehouse_exists(config):
        return {}
    with connect(config, read_only=True) as warehouse:
        customers = warehouse.backend.table("customers")
        known = customers.filter(customers.consent_marketing.notnull())
        if keys is not None:
            known = known.filter(known.customer_key.isin(keys))
        rows = known.select("customer_key", "consent_marketing", "source_profile").to_pyarrow().to_pylist()
    return {str(r["customer_key"]): (bool(r["consent_marketing"]), str(r["source_profile"] or "")) for r in rows}


def _source_profile(name: str) -> str:
    return _PROFILE_NAME.sub("-", name.lower()).strip("-")[:48] or "unknown"


def seed_platform_consent(config: Settings, database: AppDatabase, *, profile: str | None = None) -> int:
    """Add the platform's marketing flags that are new or changed since the last import as consent records.

    ``profile`` names the import that brought them (else each customer's own source profile). How many records
    were added."""
    flags = _platform_flags(config)
    at = datetime.now(UTC)
    by_profile: dict[str, dict[str, bool]] = {}
    for key, (granted, own_profile) in flags.items():
        by_profile.setdefault(_source_profile(profile or own_profile), {})[key] = granted
    records = [
        record
        for name, chosen in by_profile.items()
        for record in platform_consent_records(database, chosen, profile=name, at=at)
    ]
    return database.add_consent(records) if records else 0


def _known_customer(config: Settings, key: str) -> bool:
    if not warehouse_exists(config):
        return False
    with connect(config, read_only=True) as warehouse:
        customers = warehouse.backend.table("customers")
        return int(customers.filter(customers.customer_key == key).count().execute()) > 0


def _granted(text: str) -> bool:
    answer = text.strip().lower()
    if answer not in ("yes", "no"):
        raise InputError(f"--granted is yes or no, not {text[:20]!r}")
    return answer == "yes"


@consent_app.command("set")
def set_command(
    ctx: typer.Context,
    email: EmailOption,
    purpose: PurposeOption,
    granted: GrantedOption,
    as_json: JsonOption = False,
) -> None:
    """Record that the customer with this e-mail agrees (yes) or not (no) to one purpose, from now on.

    The newest record per customer and purpose wins, at once: a withdrawal of marketing leaves them out of the
    next campaign audience, survey sample for consented customers and contact export; of sharing, out of the next
    share package; of analytics, out of campaign groups and survey samples. The change is an audit entry (key,
    purpose, yes or no). Prints {"customer_key", "purpose", "granted", "source", "at", "audit_entry"}.
    """
    chosen = check_purpose(purpose.strip().lower())
    agreed = _granted(granted)
    config = settings(ctx)
    secret = config.store_secret()
    key = person_key(config, email)
    if not _known_customer(config, key):
        raise InputError("--email: the store holds no customer with that e-mail")
    database = AppDatabase.for_store(config)
    try:
        platform = _platform_flags(config, [key]).get(key)
        if platform is not None:  # keep the platform's flag as the baseline this decision overrides
            database.add_consent(
                platform_consent_records(
                    database, {key: platform[0]}, profile=_source_profile(platform[1]), at=datetime.now(UTC)
                )
            )
        record = ConsentRecord(key, chosen, agreed, "cli", datetime.now(UTC))
        database.add_consent([record])
        entry = audit_sink(database, actor="cli", secret=secret)(
            "privacy.consent_set", {"customer_key": key, "purpose": chosen, "granted": agreed, "source": "cli"}
        )
    finally:
        database.close()
    document = {**record.as_dict(), "customer_key": key, "audit_entry": entry.id}
    if as_json:
        emit_json(document)
        return
    stdout.print(f"{key}: {chosen} {'granted' if agreed else 'withdrawn'} (audit entry {entry.id})")


@consent_app.command("show")
def show_command(ctx: typer.Context, email: EmailOption, as_json: JsonOption = False) -> None:
    """What the customer with this e-mail agrees to now, per purpose, and every consent record, oldest first.

    Prints {"customer_key", "found", "consent": {purpose: {"granted", "source", "at"}}, "records": [...]}. A
    purpose with no record shows its default (source "platform flag" for marketing, "default" otherwise).
    """
    config = settings(ctx)
    key = person_key(config, email)
    found = _known_customer(config, key)
    platform = _platform_flags(config, [key]).get(key) if found else None
    database = AppDatabase.for_store(config)
    try:
        records = database.consent_history(key)
        state = consent_state(database, key, platform[0] if platform else None)
    finally:
        database.close()
    document = {
        "customer_key": key,
        "found": found,
        "consent": state if found else {},
        "records": [record.as_dict() for record in records],
    }
    if as_json:
        emit_json(document)
        return
    if not found:
        stdout.print("the store holds no customer with that e-mail")
        return
    for purpose, now in state.items():
        stdout.print(f"{purpose}: {'yes' if now['granted'] else 'no'} ({now['source']}, {now['at'] or 'no record'})")
