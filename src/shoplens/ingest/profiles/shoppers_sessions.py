"""The UCI "Online Shoppers Purchasing Intention" sessions (Sakar et al., 2019): one row per web session with
page counts and durations by page type, web-analytics bounce, exit and page values, and ``Revenue`` (whether
the session ended in a purchase). They fill the ``sessions`` table.

The data gives a month (``Feb`` … ``Dec``, June spelled ``June``) but neither a year nor a day, so sessions
keep their month (as ``Jun`` for June) and no start time: no date is invented. It has no session id either;
rows that are identical are still different sessions (each row is a different user), so the id is a
fingerprint of the row and its occurrence among identical rows: every row loads once, and a re-import adds
nothing. There is no customer, so ``customer_key`` stays empty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shoplens.ingest._profile import FilePlan, RowRule, SourceProfile, TablePlan, col, register_profile

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
VISITOR_TYPES = {"Returning_Visitor": "returning", "New_Visitor": "new", "Other": "other"}
_COLUMNS = {
    "administrative_pages": "Administrative",
    "administrative_seconds": "Administrative_Duration",
    "informational_pages": "Informational",
    "informational_seconds": "Informational_Duration",
    "product_pages": "ProductRelated",
    "product_seconds": "ProductRelated_Duration",
    "bounce_rate": "BounceRates",
    "exit_rate": "ExitRates",
    "page_value": "PageValues",
    "special_day": "SpecialDay",
    "operating_system": "OperatingSystems",
    "browser": "Browser",
    "region": "Region",
    "traffic_type": "TrafficType",
    "weekend": "Weekend",
    "converted": "Revenue",
}


def _build(header: Sequence[str], mapping: Mapping[str, object] | None) -> FilePlan:
    visitor = " ".join(f"WHEN '{source}' THEN '{name}'" for source, name in VISITOR_TYPES.items())
    visitor_type = col("VisitorType")
    return TablePlan(
        table="sessions",
        expressions={
            **{column: col(source) for column, source in _COLUMNS.items()},
            "month": f"left(trim({col('Month')}), 3)",
            "visitor_type": f"CASE trim({visitor_type}) {visitor} ELSE {visitor_type} END",
        },
        layout="online-shoppers-intention",
        rules=(RowRule("Month", "not a month name", f"month NOT IN ({', '.join(repr(m) for m in MONTHS)})"),),
        content_id="session_id",
    )


PROFILE = register_profile(
    SourceProfile(
        name="shoppers-sessions",
        description="UCI Online Shoppers Purchasing Intention sessions (page counts, bounce/exit rates, Revenue)",
        required=("Administrative_Duration", "ProductRelated_Duration", "BounceRates", "PageValues", "Revenue"),
        build=_build,
        target="table",
    )
)
