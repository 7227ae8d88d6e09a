"""Ad platforms' spend reports into ``marketing_spend``: Google Ads and Meta (Facebook) Ads, as their web
interfaces download them and as data connectors (the Google Ads API, Meta's Insights API) deliver them.

One row of ``marketing_spend`` is a campaign's spend on one day in one channel. Files that split that day
further (per ad, device or network) are summed to it. Amounts stay in the currency the file gives (a
``Currency code`` column, or the one named in Meta's ``Amount spent (EUR)``): they are not converted.

The channel of a campaign is :func:`spend_channel_sql`, the one rule every spend profile uses:

============================================  =================
campaign                                      channel
============================================  =================
Google Ads Search                             ``paid_search``
Google Ads Shopping, Performance Max          ``shopping``
Google Ads Display, Demand Gen (Discovery)    ``display``
Google Ads Video (YouTube)                    ``video``
Google Ads of another or no stated type       ``paid_search``
any Meta (Facebook, Instagram) campaign       ``paid_social``
============================================  =================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shoplens.errors import MissingColumnsError
from shoplens.ingest._profile import (
    CsvDialect,
    FilePlan,
    RowRule,
    SourceProfile,
    TablePlan,
    col,
    register_profile,
    text_literal,
)

SPEND_TABLE = "marketing_spend"
SUMMED = ("amount", "impressions", "clicks")
# Google Ads campaign types (as the web interface writes them, or the API's enum with _ for spaces), lower case.
GOOGLE_ADS_CHANNELS: dict[str, str] = {
    "search": "paid_search",
    "shopping": "shopping",
    "performance max": "shopping",
    "display": "display",
    "demand gen": "display",
    "discovery": "display",
    "video": "video",
    "youtube": "video",
}
GOOGLE_ADS_DEFAULT_CHANNEL = "paid_search"
META_ADS_CHANNEL = "paid_social"
REPORT_DATE_FORMATS = ("%Y-%m-%d", "%b %d, %Y", "%d %b %Y")
NOT_A_DAY = "spend over several days (Reporting starts to Reporting ends): export with the breakdown by day"
IDS_FOR_NAMES = "the file has no campaign names: the campaign is its {column}"
ADS_FOR_CAMPAIGNS = "the file does not link ads to campaigns: each ad's id stands for its campaign"
TOTAL_ROW = "a report total, not a campaign's day (the rows above add up to it)"

GOOGLE_ADS_REPORT = ("Day", "Campaign", "Cost")
GOOGLE_ADS_API = ("date", "cost_micros")
META_ADS_REPORT = ("Campaign name", "Reporting starts")
META_ADS_API = ("date", "spend", "ad_id")


def spend_channel_sql(platform: str, campaign_type: str | None = None) -> str:
    """SQL giving the channel of a campaign of ``platform`` whose type is the SQL ``campaign_type`` (if any)."""
    if platform == "meta_ads":
        return text_literal(META_ADS_CHANNEL)
    if platform != "google_ads":
        raise ValueError(f"no channel rule for the platform {platform!r}")
    if campaign_type is None:
        return text_literal(GOOGLE_ADS_DEFAULT_CHANNEL)
    kind = f"replace(lower(trim({campaign_type})), '_', ' ')"
    cases = " ".join(f"WHEN {text_literal(k)} THEN {text_literal(v)}" for k, v in GOOGLE_ADS_CHANNELS.items())
    return f"CASE {kind} {cases} ELSE {text_literal(GOOGLE_ADS_DEFAULT_CHANNEL)} END"


def _first(header: Sequence[str], *names: str) -> str | None:
    return next((n for n in names if n in header), None)


def _optional(header: Sequence[str], *names: str) -> str:
    name = _first(header, *names)
    return col(name) if name else "NULL"


def _not_a_number(raw: str) -> str:
    """Google Ads writes "--" where a report has no value for a metric (an empty field for the loader)."""
    return f"nullif(trim({raw}), '--')"


def _micros(raw: str) -> str:
    """An amount in millionths (the API's ``cost_micros``) in units, rounded to the cent here (the loader
    rejects an amount written with more decimal places than it keeps); text that is not a whole number is passed
    on unchanged, so the loader quarantines it as "not a number"."""
    whole = f"TRY_CAST(trim({raw}) AS DECIMAL(38,0))"
    cents = f"round({whole} * CAST(0.000001 AS DECIMAL(7,6)), 2)"
    return f"CASE WHEN {whole} IS NOT NULL THEN CAST({cents} AS VARCHAR) ELSE {raw} END"


def _total_rows(header: Sequence[str], *names: str) -> RowRule:
    columns = list(dict.fromkeys([header[0], *(n for n in names if n in header)]))
    condition = " OR ".join(f"regexp_matches(lower(trim({col(c)})), '^total(:|$)')" for c in columns)
    return RowRule(columns[0], TOTAL_ROW, condition)


def _google_ads(header: Sequence[str], mapping: Mapping[str, object] | None) -> FilePlan:
    if all(c in header for c in GOOGLE_ADS_REPORT):
        impressions = _optional(header, "Impressions", "Impr.")
        return TablePlan(
            table=SPEND_TABLE,
            layout="google-ads report",
            expressions={
                "date": col("Day"),
                "channel": spend_channel_sql("google_ads", _first_col(header, "Campaign type")),
                "amount": col("Cost"),
                "campaign": col("Campaign"),
                "platform": text_literal("google_ads"),
                "impressions": _not_a_number(impressions),
                "clicks": _not_a_number(_optional(header, "Clicks")),
                "currency": _optional(header, "Currency code", "Currency"),
            },
            date_formats=REPORT_DATE_FORMATS,
            sum_columns=SUMMED,
            source_rules=(_total_rows(header, "Day", "Campaign"),),
        )
    campaign = _first(header, "campaign_name", "campaign_id", "id")
    if all(c in header for c in GOOGLE_ADS_API) and campaign:
        return TablePlan(
            table=SPEND_TABLE,
            layout="google-ads api",
            expressions={
                "date": col("date"),
                "channel": spend_channel_sql(
                    "google_ads", _first_col(header, "advertising_channel_type", "campaign_type")
                ),
                "amount": _micros(col("cost_micros")),
                "campaign": col(campaign),
                "platform": text_literal("google_ads"),
                "impressions": _optional(header, "impressions"),
                "clicks": _optional(header, "clicks"),
                "currency": _optional(header, "currency_code", "currency"),
            },
            sum_columns=SUMMED,
            notes=() if campaign == "campaign_name" else (IDS_FOR_NAMES.format(column=campaign),),
        )
    raise MissingColumnsError("input", "google-ads", _missing(header, GOOGLE_ADS_REPORT, GOOGLE_ADS_API))


def _meta_ads(header: Sequence[str], mapping: Mapping[str, object] | None) -> FilePlan:
    spent = next((c for c in header if c.startswith("Amount spent")), None)
    if all(c in header for c in META_ADS_REPORT) and spent:
        # "Amount spent (EUR)": the currency is in the column's name when there is no Currency column.
        named = spent.partition("(")[2].rstrip(")").strip()
        currency = _optional(header, "Currency") if "Currency" in header else text_literal(named) if named else "NULL"
        day = _first(header, "Day") or "Reporting starts"
        rules = () if "Day" in header else (RowRule("Reporting ends", NOT_A_DAY, _several_days()),)
        return TablePlan(
            table=SPEND_TABLE,
            layout="meta-ads report",
            expressions={
                "date": col(day),
                "channel": spend_channel_sql("meta_ads"),
                "amount": col(spent),
                "campaign": col("Campaign name"),
                "platform": text_literal("meta_ads"),
                "impressions": _optional(header, "Impressions"),
                "clicks": _optional(header, "Link clicks", "Clicks (all)"),
                "currency": currency,
            },
            date_formats=REPORT_DATE_FORMATS,
            sum_columns=SUMMED,
            source_rules=rules,
        )
    if all(c in header for c in META_ADS_API):
        # Per ad. Summed to the campaign when the file names it; otherwise the ad stands for its campaign.
        campaign = str(_first(header, "campaign_name", "campaign_id", "ad_id"))
        notes = {
            "campaign_name": (),
            "campaign_id": (IDS_FOR_NAMES.format(column=campaign),),
            "ad_id": (ADS_FOR_CAMPAIGNS,),
        }
        return TablePlan(
            table=SPEND_TABLE,
            layout="meta-ads api",
            expressions={
                "date": col("date"),
                "channel": spend_channel_sql("meta_ads"),
                "amount": col("spend"),
                "campaign": col(campaign),
                "platform": text_literal("meta_ads"),
                "impressions": _optional(header, "impressions"),
                "clicks": _optional(header, "inline_link_clicks", "clicks"),
                "currency": _optional(header, "account_currency", "currency"),
            },
            sum_columns=SUMMED,
            notes=notes[campaign],
        )
    raise MissingColumnsError(
        "input", "meta-ads", _missing(header, (*META_ADS_REPORT, "Amount spent (…)"), META_ADS_API)
    )


def _first_col(header: Sequence[str], *names: str) -> str | None:
    name = _first(header, *names)
    return col(name) if name else None


def _several_days() -> str:
    return f"trim({col('Reporting starts')}) <> trim({col('Reporting ends')})"


def _missing(header: Sequence[str], *layouts: Sequence[str]) -> list[str]:
    """The missing columns of the layout the file comes closest to."""
    gaps = [[c for c in layout if c not in header] for layout in layouts]
    return min(gaps, key=len)


GOOGLE_ADS = register_profile(
    SourceProfile(
        name="google-ads",
        description="Google Ads campaign report by day (web interface download, or the API's campaign stats "
        "with cost_micros) into marketing spend",
        required=(),
        signatures=(GOOGLE_ADS_REPORT, GOOGLE_ADS_API),
        build=_google_ads,
        dialect=CsvDialect(header_with=GOOGLE_ADS_REPORT),
        target="table",
    )
)
META_ADS = register_profile(
    SourceProfile(
        name="meta-ads",
        description="Meta (Facebook) Ads Manager export by day, or the Insights API's basic_ad rows, "
        "into marketing spend",
        required=(),
        signatures=(META_ADS_REPORT, META_ADS_API),
        build=_meta_ads,
        target="table",
    )
)
