"""Web events from any tracking or analytics export, described by a YAML ``--mapping`` (or named like the
``events`` table's own columns)::

    columns:
      session_id: Session
      at: Timestamp
      type: Event            # view | cart | checkout | shipping_view | order | registration, or any other name
      page: URL
      source: utm_source
      medium: utm_medium
      campaign: utm_campaign
      device: Device
      customer_id: User      # optional: the shop's customer id, or `email`; keyed, never stored as written
      event_id: Event ID     # optional
    date_format: "%Y-%m-%d %H:%M:%S"
    timezone: Europe/Berlin

Without an ``event_id`` column each event's id is a fingerprint of its content (the customer's id and e-mail
left out) plus its occurrence number among identical rows of the file: a re-import of the same file adds
nothing, and two identical rows of one file are two events.
"""

from __future__ import annotations

from shoplens.ingest.profiles._tables import table_profile

PROFILE = table_profile(
    "events",
    "events",
    "Web events of any tracker, by a --mapping (session, time, type, page, source/medium/campaign, device)",
    content_id="event_id",
)
