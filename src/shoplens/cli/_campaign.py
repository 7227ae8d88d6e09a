"""``shoplens campaign create|measure|audience|list``: retention campaigns with a seeded holdout."""

from __future__ import annotations

import csv
import getpass
import re
import secrets
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, cast

import typer

from shoplens.actions import (
    AUDIENCE_COLUMNS,
    AUDIENCE_FORMATS,
    AUDIENCE_ROLES,
    PRE_PERIOD_DAYS,
    Member,
    Window,
    activity,
    assign_holdout,
    audience_rows,
    balance_check,
    group_keys,
    last_day_with_data,
    lifecycle_group,
    measure,
    minimum_detectable_effect,
    pre_period,
    segment_name,
)
from shoplens.actions._campaigns import DEFAULT_EXPECTED_UPLIFT, Arm, AudienceFormat
from shoplens.appdb import (
    AppDatabase,
    Campaign,
    CampaignMember,
    all_campaigns,
    campaign_by_id,
    campaign_members,
    save_campaign,
    user_by_email,
)
from shoplens.cli._app import JsonOption, app, settings
from shoplens.cli._output import emit_json, stderr, stdout
from shoplens.config import Settings
from shoplens.errors import InputError, UnreadableFileError
from shoplens.privacy import audit_sink, consent_book, contacts, csv_record
from shoplens.warehouse import Warehouse, connect, warehouse_exists

campaign_app = typer.Typer(
    name="campaign",
    help=(
        "Retention campaigns with an honest holdout: pick an RFM segment, split it by a stored seed, export the "
        "consented treatment to your e-mail tool, and measure the uplift against the holdout afterwards."
    ),
    no_args_is_help=True,
)
app.add_typer(campaign_app)

MAX_SEED = 2**31 - 1
_OS_USER = re.compile(r"[A-Za-z0-9_.-]{1,64}")
AUDIENCE_PURPOSE = "retention campaign audience"


def _app_db(config: Settings) -> AppDatabase:
    config.ensure_home()
    return AppDatabase.for_store(config)


def _require_warehouse(config: Settings) -> None:
    if not warehouse_exists(config):
        raise InputError("the store has no data yet: import orders first (shoplens import ... or shoplens demo)")


def _campaign(db: AppDatabase, campaign_id: str) -> Campaign:
    found = campaign_by_id(db, campaign_id)
    if found is None:
        raise InputError(f"no campaign {campaign_id!r}; see shoplens campaign list")
    return found


CHURN_PREFIX = "churn risk: "
CHURN_BANDS = ("low", "medium", "high")
CHURN_HORIZON_DAYS = 90


LIST_PREFIX = "list: "
KEY_PATTERN = re.compile(r"^c_[0-9a-f]{20}$")


def _group(segment: str | None, lifecycle_state: str | None, churn_risk: str | None, keys_file: Path | None) -> str:
    given = [option for option in (segment, lifecycle_state, churn_risk, keys_file) if option is not None]
    if len(given) != 1:
        raise InputError(
            "give the group to target: --segment NAME, --lifecycle STATE, --churn-risk BAND or --keys FILE "
            "(one of them)"
        )
    if keys_file is not None:
        return LIST_PREFIX + keys_file.name
    if segment is not None:
        return segment_name(segment)
    if lifecycle_state is not None:
        return lifecycle_group(lifecycle_state)
    band = " ".join((churn_risk or "").casefold().split())
    if band not in CHURN_BANDS:
        raise InputError(f"unknown churn-risk band {churn_risk!r}; choose one of: {', '.join(CHURN_BANDS)}")
    return CHURN_PREFIX + band


def _listed_keys(path: Path) -> list[str]:
    """The customer keys of a saved list: one per line, or the customer_key column of a CSV; sorted, distinct."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--keys {path.name}: cannot read it ({type(exc).__name__})") from None
    rows = list(csv.reader(lines))
    column = rows[0].index("customer_key") if rows and "customer_key" in rows[0] else None
    values = [row[column] if column is not None and len(row) > column else row[0] for row in rows if row]
    if column is not None:
        values = values[1:]
    keys = sorted({value.strip() for value in values if value.strip()})
    bad = [key for key in keys if not KEY_PATTERN.match(key)]
    if bad:
        raise InputError(f"--keys {path.name}: {len(bad)} line(s) are not customer keys (c_ and 20 hex digits)")
    return keys


def _check_known(warehouse: Warehouse, keys: list[str], path: Path) -> None:
    customers = warehouse.backend.table("customers")
    found = customers.filter(customers.customer_key.isin(keys)).select("customer_key").to_pyarrow()
    unknown = len(keys) - len(set(found.column("customer_key").to_pylist()))
    if unknown:
        raise InputError(f"--keys {path.name}: {unknown} of {len(keys)} keys are not customers of this store")


def _given_keys(config: Settings, group: str, *, as_of: datetime | None, keys_file: Path | None) -> list[str] | None:
    """The keys of a churn-risk band or a saved list (None for the groups read off the warehouse as of a day)."""
    if keys_file is not None:
        return _listed_keys(keys_file)
    if group.startswith(CHURN_PREFIX):
        if as_of is not None:
            raise InputError("--churn-risk bands are predicted as of the data end: leave out --as-of")
        return _churn_keys(config, group)
    return None


def _members(
    warehouse: Warehouse,
    config: Settings,
    group: str,
    given: list[str] | None,
    *,
    as_of: date,
    keys_file: Path | None,
) -> list[str]:
    """The group's keys: those given (a churn band, a saved list, checked against the customers) or the group's,
    less the customers who withdrew consent to analytics (their data is not used to pick them)."""
    if given is None:
        found = group_keys(warehouse.backend, group, as_of=as_of, zone=config.timezone)
    else:
        if keys_file is not None:
            _check_known(warehouse, given, keys_file)
        found = given
    db = _app_db(config)
    try:
        withdrawn = consent_book(db, "analytics").withdrawn
    finally:
        db.close()
    return [key for key in found if key not in withdrawn]


def _churn_keys(config: Settings, group: str) -> list[str]:
    """The customers the 90-day CLV prediction puts in a churn-risk band (as of the data end), sorted."""
    from shoplens.queries import ClvPredictQuery, ClvPredictResult, QueryRunner

    predicted = QueryRunner.for_store(config).run(ClvPredictQuery(horizon=CHURN_HORIZON_DAYS), ClvPredictResult)
    band = group.removeprefix(CHURN_PREFIX)
    return sorted(str(row["customer_key"]) for row in predicted.rows if row.get("churn_risk") == band)


def _check_split(holdout: float, window_days: int, expected_uplift: float) -> None:
    if not 0 < holdout < 1:
        raise InputError("--holdout must be between 0 and 1 (e.g. 0.2 for a fifth)")
    if not 1 <= window_days <= 366:
        raise InputError("--window-days must be between 1 and 366")
    if not 0 < expected_uplift <= 10:
        raise InputError("--expected-uplift is a relative uplift above 0, e.g. 0.1 for 10 %")


@campaign_app.command("create")
def create_command(
    ctx: typer.Context,
    segment: Annotated[
        str | None, typer.Option("--segment", help='The RFM segment to target, e.g. "At risk" (see shoplens rfm).')
    ] = None,
    lifecycle_state: Annotated[
        str | None,
        typer.Option(
            "--lifecycle", help='Or a lifecycle state to target: new, active, reactivated, "at risk" or lapsed.'
        ),
    ] = None,
    keys_file: Annotated[
        Path | None,
        typer.Option(
            "--keys",
            help="Or a saved list: a file of customer keys, one per line or a CSV with a customer_key column.",
        ),
    ] = None,
    churn_risk: Annotated[
        str | None,
        typer.Option("--churn-risk", help="Or a churn-risk band of the 90-day CLV prediction: low, medium or high."),
    ] = None,
    holdout: Annotated[
        float, typer.Option("--holdout", help="Share of the segment kept out of the campaign, to compare against.")
    ] = 0.2,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="Seed of the random split (stored; the same seed gives the same split)."),
    ] = None,
    window_days: Annotated[
        int, typer.Option("--window-days", help="Days after the start over which the campaign is measured.")
    ] = 30,
    name: Annotated[
        str | None, typer.Option("--name", help="A name for the campaign (default: segment and date).")
    ] = None,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            help="Last day before the campaign (default: the data end); an earlier day measures a past campaign.",
        ),
    ] = None,
    expected_uplift: Annotated[
        float,
        typer.Option(
            "--expected-uplift",
            help="Relative uplift you hope for (0.1 = 10 %); a warning says when the group is too small for it.",
        ),
    ] = DEFAULT_EXPECTED_UPLIFT,
    as_json: JsonOption = False,
) -> None:
    """Freeze an RFM segment (--segment), a lifecycle state (--lifecycle), a churn-risk band of the 90-day CLV
    prediction (--churn-risk) or a saved list of customer keys (--keys FILE) as a campaign's group and split it
    into treatment and a random holdout.

    The split sorts the customer keys and applies one numpy permutation drawn from the seed, so it can be
    reproduced. It checks that the groups match on pre-period revenue and orders (standardised mean difference,
    warning above 0.1) and prints the minimum detectable effect (80 % power, 5 % two-sided) on repeat rate and
    revenue per customer. Customers who withdrew consent to analytics are left out of the group. Prints
    {"campaign_id", "treatment", "holdout", "seed", "mde", "balance", "warnings"}.
    """
    config = settings(ctx)
    chosen = _group(segment, lifecycle_state, churn_risk, keys_file)
    _check_split(holdout, window_days, expected_uplift)
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise InputError(f"--seed must be between 0 and {MAX_SEED}")
    if name is not None and not 1 <= len(name.strip()) <= 200:
        raise InputError("--name must have 1 to 200 characters")
    used_seed = seed if seed is not None else secrets.randbelow(MAX_SEED)
    _require_warehouse(config)
    given_keys = _given_keys(config, chosen, as_of=as_of, keys_file=keys_file)
    with connect(config, read_only=True) as warehouse:
        end = last_day_with_data(warehouse.backend, config.timezone)
        if end is None:
            raise InputError("the store has no purchases yet: import orders first")
        start = as_of.date() if as_of is not None else end
        if start > end:
            raise InputError(f"--as-of {start} is after the data end {end}")
        keys = _members(warehouse, config, chosen, given_keys, as_of=start, keys_file=keys_file)
        if len(keys) < 2:
            raise InputError(f"the segment {chosen!r} has {len(keys)} customer(s) as of {start}: too few to split")
        treatment, held = assign_holdout(keys, holdout, used_seed)
        if len(treatment) < 2 or len(held) < 2:  # a group of one has no spread to put an interval on
            raise InputError(
                f"a holdout of {holdout} of {len(keys)} customers leaves fewer than 2 in a group: too few to measure"
            )
        before = pre_period(warehouse.backend, keys, as_of=start, zone=config.timezone)
    balance = balance_check([before[k] for k in treatment], [before[k] for k in held])
    mde = minimum_detectable_effect(
        [before[k] for k in treatment],
        [before[k] for k in held],
        window_days=window_days,
        expected_uplift=expected_uplift,
    )
    warnings = [*balance.pop("warnings"), *mde.pop("warnings")]
    campaign_id = "cmp-" + secrets.token_hex(6)
    campaign = Campaign(
        campaign_id=campaign_id,
        name=(name or f"{chosen} {start.isoformat()}").strip(),
        segment=chosen,
        holdout_share=holdout,
        seed=used_seed,
        as_of=start,
        window_days=window_days,
        created_at=datetime.now(UTC),
        details={
            "balance": balance,
            "mde": mde,
            "warnings": warnings,
            "treatment": len(treatment),
            "holdout": len(held),
            "pre_period_days": PRE_PERIOD_DAYS,
        },
    )
    arms = {**dict.fromkeys(treatment, "treatment"), **dict.fromkeys(held, "holdout")}
    members = [
        CampaignMember(
            campaign_id=campaign_id,
            customer_key=key,
            arm=arms[key],
            pre_orders=before[key].orders,
            pre_revenue=before[key].revenue,
        )
        for key in keys
    ]
    db = _app_db(config)
    try:
        save_campaign(db, campaign, members)
    finally:
        db.close()
    last_day = start + timedelta(days=window_days)
    if as_json:
        emit_json(
            {
                "campaign_id": campaign_id,
                "name": campaign.name,
                "segment": chosen,
                "as_of": start.isoformat(),
                "window": {"first_day": (start + timedelta(days=1)).isoformat(), "last_day": last_day.isoformat()},
                "treatment": treatment,
                "holdout": held,
                "seed": used_seed,
                "mde": mde,
                "balance": balance,
                "warnings": warnings,
            }
        )
        return
    stdout.print(
        f"created {campaign_id}: {len(treatment):,} customers to contact, {len(held):,} held out (seed {used_seed}); "
        f"measure after {last_day} with: shoplens campaign measure {campaign_id}"
    )
    repeat = mde["repeat_rate"]
    stdout.print(
        f"smallest detectable uplift in repeat rate: {repeat['absolute']:.1%} points "
        f"(baseline {repeat['baseline']:.1%})"
    )
    for warning in warnings:
        stderr.print(f"warning: {warning}", markup=False)


@campaign_app.command("measure")
def measure_command(
    ctx: typer.Context,
    campaign_id: Annotated[str, typer.Argument(help="The campaign id printed by create (see campaign list).")],
    as_json: JsonOption = False,
) -> None:
    """The campaign's uplift: treatment minus holdout in the window after its start, with 95 % intervals.

    Repeat rate (share who ordered), revenue per customer and, when every product cost is known, margin per
    customer; CUPED-adjusted with the pre-period orders or revenue, with the unadjusted interval beside it.
    Before the window ends it measures to date and says so (complete: false). Prints {"uplift": {...},
    "significant", "complete", "window", "message", ...}.
    """
    config = settings(ctx)
    db = _app_db(config)
    try:
        campaign = _campaign(db, campaign_id)
        stored = campaign_members(db, campaign_id)
    finally:
        db.close()
    members = [Member(m.customer_key, cast(Arm, m.arm), int(m.pre_orders), float(m.pre_revenue)) for m in stored]
    first_day = campaign.as_of + timedelta(days=1)
    last_day = campaign.as_of + timedelta(days=campaign.window_days)
    _require_warehouse(config)
    with connect(config, read_only=True) as warehouse:
        end = last_day_with_data(warehouse.backend, config.timezone)
        window = Window(first_day, last_day, end)
        outcomes: dict[str, dict[str, float]] = {}
        if window.days_measured:
            outcomes = activity(
                warehouse.backend,
                [m.customer_key for m in members],
                first_day=first_day,
                last_day=min(last_day, end) if end is not None else last_day,
                zone=config.timezone,
            )
    document = {
        "campaign_id": campaign.campaign_id,
        "name": campaign.name,
        "segment": campaign.segment,
        "as_of": campaign.as_of.isoformat(),
        **measure(members, outcomes, window),
    }
    if as_json:
        emit_json(document)
        return
    stdout.print(f"{campaign.campaign_id} ({campaign.name}): {document['message']}")
    for outcome, found in document["uplift"].items():
        stdout.print(
            f"  {outcome}: {found['estimate']:+.4g} [{found['low']:+.4g}, {found['high']:+.4g}] "
            f"(unadjusted width {found['unadjusted_width']:.4g}, CUPED width {found['width']:.4g})"
        )


def _exporter(db: AppDatabase, account: str | None) -> tuple[str, dict[str, str]]:
    """The audit actor and context of an audience export, and a refusal for roles that may not export one.

    With ``--as`` the account must be an active dashboard user with an audience role; without it the person at
    the shell (who holds the store's files and secret) exports as the owner, named by their OS user."""
    if account is None:
        who = getpass.getuser()
        context = {"role": "owner", "os_user": who if _OS_USER.fullmatch(who) else "unknown"}
        return "cli", context
    with db.session() as session:
        user = user_by_email(session, account.strip().lower())
    if user is None or not user.active:
        raise InputError("--as names no active account; see shoplens user list")
    if user.role not in AUDIENCE_ROLES:
        raise InputError(f"the role {user.role!r} may not export audiences; only {' and '.join(AUDIENCE_ROLES)} may")
    return f"user:{user.user_id}", {"role": user.role}


@campaign_app.command("audience")
def audience_command(
    ctx: typer.Context,
    campaign_id: Annotated[str, typer.Argument(help="The campaign id printed by create (see campaign list).")],
    out: Annotated[Path, typer.Option("--out", help="CSV file to write (personal data: readable by you only).")],
    output_format: Annotated[
        str, typer.Option("--format", help="klaviyo (tags as a list) or mailchimp (comma-separated tags).")
    ] = "klaviyo",
    account: Annotated[
        str | None,
        typer.Option("--as", help="The dashboard account (e-mail) exporting; it must have the owner or marketer role."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write the treatment's contacts for an e-mail tool: customer_key, email, first_name, segment, tags.

    Only treatment customers who agreed to marketing and have an e-mail are written, never the holdout; the
    release is one entry in the audit log naming who exported and how many (never an address). Only the owner
    and marketer roles may export. Prints {"campaign_id", "path", "customers", "left_out_without_consent",
    "audit_entry"}.
    """
    config = settings(ctx)
    if output_format not in AUDIENCE_FORMATS:
        raise InputError(f"--format must be one of {', '.join(AUDIENCE_FORMATS)}")
    db = _app_db(config)
    try:
        actor, context = _exporter(db, account)
        campaign = _campaign(db, campaign_id)
        treatment = [m.customer_key for m in campaign_members(db, campaign_id) if m.arm == "treatment"]
        _require_warehouse(config)
        with connect(config, read_only=True) as warehouse:
            release = contacts(
                warehouse.backend,
                treatment,
                purpose=AUDIENCE_PURPOSE,
                action="campaign.audience_export",
                audit=audit_sink(db, actor=actor, secret=config.store_secret()),
                consent=consent_book(db, "marketing"),
                keys=warehouse.vault_keys(),
                with_name=True,
                context={**context, "campaign_id": campaign_id, "file": out.name, "format": output_format},
            )
    finally:
        db.close()
    rows = audience_rows(
        [(c.customer_key, c.email, c.name) for c in release.contacts],
        segment=campaign.segment,
        campaign_id=campaign_id,
        output_format=cast(AudienceFormat, output_format),
    )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(AUDIENCE_COLUMNS))
            writer.writeheader()
            writer.writerows(csv_record(row) for row in rows)
        out.chmod(0o600)  # personal data: readable by the owner only
    except OSError as exc:
        raise UnreadableFileError(f"{out}: cannot write ({exc.strerror})") from None
    document = {
        "campaign_id": campaign_id,
        "path": str(out),
        "format": output_format,
        "customers": len(rows),
        "treatment": len(treatment),
        "left_out_without_consent": release.left_out,
        "audit_entry": release.audit_entry.id,
        "exported_by": actor,
    }
    if as_json:
        emit_json(document)
        return
    stdout.print(
        f"wrote {len(rows):,} of {len(treatment):,} treatment customers to {out} "
        f"({release.left_out:,} left out: no marketing consent or no e-mail); audit entry {release.audit_entry.id}"
    )


@campaign_app.command("list")
def list_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the campaigns, newest first: id, name, segment, start, window, group sizes and seed."""
    config = settings(ctx)
    db = _app_db(config)
    try:
        found = all_campaigns(db)
    finally:
        db.close()
    rows = [
        {
            "campaign_id": c.campaign_id,
            "name": c.name,
            "segment": c.segment,
            "as_of": c.as_of.isoformat(),
            "window_days": c.window_days,
            "window_ends": (c.as_of + timedelta(days=c.window_days)).isoformat(),
            "holdout_share": c.holdout_share,
            "seed": c.seed,
            "treatment": int(c.details.get("treatment", 0)),
            "holdout": int(c.details.get("holdout", 0)),
            "created_at": c.created_at,
        }
        for c in found
    ]
    if as_json:
        emit_json({"campaigns": rows})
        return
    if not rows:
        stdout.print("no campaigns yet; create one with shoplens campaign create --segment ...")
    for row in rows:
        stdout.print(
            f"{row['campaign_id']}\t{row['segment']}\t{row['as_of']} + {row['window_days']} days\t"
            f"{row['treatment']:,} treatment / {row['holdout']:,} holdout\t{row['name']}"
        )
