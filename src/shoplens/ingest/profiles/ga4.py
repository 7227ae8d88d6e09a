"""Google Analytics 4 events as its BigQuery export writes them (one row per event, nested fields), from a
JSON-lines file (``bq extract --destination_format NEWLINE_DELIMITED_JSON``) or a Parquet file.

Nested fields (``event_params``, ``traffic_source``, ``device``, ``items``) reach the plan as JSON text,
from either format, and are read with DuckDB's JSON functions.

* ``event_id``: a fingerprint of ``user_pseudo_id``, ``event_timestamp``, ``event_name`` and the event's
  occurrence among the file's events with those three values. A re-import of the file (in either format)
  adds nothing; two events of one user with the same name in the same microsecond are both kept. (A later
  file holding only the second of two such events would take it for the first.)
* ``session_id``: ``user_pseudo_id`` and the ``ga_session_id`` parameter; an event without one cannot be
  placed in a session and is quarantined ("missing session id").
* ``type``: the funnel steps by their GA4 names (:data:`EVENT_TYPES`); every other event (``session_start``,
  ``scroll``, ``view_item_list`` ...) is kept under its GA4 name, so nothing is dropped. ``page_view`` is a
  ``view`` wherever it is, so a product page counts as viewed by its ``page_view`` and its ``view_item``.
* ``product_id``: ``items[0].item_id`` of events that carry items (the first item only).
* ``at``: ``event_timestamp``, microseconds since the epoch (UTC).
* ``page``: the ``page_location`` parameter; ``source``, ``medium``, ``campaign``: the event's own
  ``source``, ``medium``, ``campaign`` parameters, else ``collected_traffic_source`` (the event's UTM values,
  in exports since 2023: ``manual_source``, ``manual_medium``, ``manual_campaign_name``), else
  ``traffic_source`` (the user's first source; its ``name`` is the campaign); ``device``: ``device.category``;
  the customer: ``user_id`` when set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shoplens.ingest._profile import FilePlan, SourceProfile, TablePlan, col, register_profile, text_literal

EVENT_TYPES = {
    "page_view": "view",
    "view_item": "view",
    "add_to_cart": "cart",
    "begin_checkout": "checkout",
    "add_shipping_info": "shipping_view",
    "purchase": "order",
    "sign_up": "registration",
}
REQUIRED = ("event_date", "event_timestamp", "event_name", "event_params", "user_pseudo_id")
PARAM_VALUES = ("string_value", "int_value", "double_value", "float_value")
ID_CHARS = 24


def _build(header: Sequence[str], mapping: Mapping[str, object] | None) -> FilePlan:
    present = set(header)

    def source(name: str) -> str:
        return col(name) if name in present else "CAST(NULL AS VARCHAR)"

    def field(column: str, path: str) -> str:
        json = source(column)
        return f"CASE WHEN json_valid({json}) THEN json_extract_string({json}, {text_literal(path)}) END"

    params = source("event_params")

    def param(key: str) -> str:
        entry = (
            f"list_filter(json_extract({params}, '$[*]'), "
            f"lambda p: json_extract_string(p, '$.key') = {text_literal(key)})[1]"
        )
        values = ", ".join(f"json_extract_string({entry}, '$.value.{v}')" for v in PARAM_VALUES)
        return f"CASE WHEN json_valid({params}) THEN coalesce({values}) END"

    def attribution(key: str, collected: str, first_user: str) -> str:
        """The event's own parameter, else the event's collected UTM value, else the user's first source."""
        own, utm = param(key), field("collected_traffic_source", f"$.{collected}")
        return f"coalesce({own}, {utm}, {field('traffic_source', f'$.{first_user}')})"

    user, timestamp, name = col("user_pseudo_id"), col("event_timestamp"), col("event_name")
    occurrence = f"row_number() OVER (PARTITION BY {user}, {timestamp}, {name} ORDER BY rowid)"
    event_id = f"'ga4_' || left(md5(concat_ws(chr(31), {user}, {timestamp}, {name}, {occurrence})), {ID_CHARS})"
    types = " ".join(f"WHEN {text_literal(ga4)} THEN {text_literal(ours)}" for ga4, ours in EVENT_TYPES.items())
    micros = f"trim({timestamp})"
    return TablePlan(
        table="events",
        expressions={
            "event_id": event_id,
            "session_id": f"{user} || '.' || {param('ga_session_id')}",
            "type": f"CASE {name} {types} ELSE {name} END",
            # Microseconds since the epoch; anything else stays as written, to be quarantined as unparseable.
            "at": (
                f"CASE WHEN regexp_full_match({micros}, '[0-9]{{1,17}}') "
                f"THEN CAST(make_timestamp(CAST({micros} AS BIGINT)) AS VARCHAR) ELSE {timestamp} END"
            ),
            "page": param("page_location"),
            "product_id": field("items", "$[0].item_id"),
            "source": attribution("source", "manual_source", "source"),
            "medium": attribution("medium", "manual_medium", "medium"),
            "campaign": attribution("campaign", "manual_campaign_name", "name"),
            "device": field("device", "$.category"),
            "customer_id": source("user_id"),
        },
        layout="ga4-bigquery-export",
        date_formats=("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"),
        personal_columns=("user_id",),
    )


PROFILE = register_profile(
    SourceProfile(
        name="ga4",
        description="Google Analytics 4 BigQuery export events (JSON lines or Parquet), one row per event",
        required=REQUIRED,
        build=_build,
        target="table",
    )
)
