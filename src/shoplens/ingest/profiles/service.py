"""Files of the shop's other tables, by their column names or a YAML ``--mapping``: marketing spend given per
channel or campaign (``spend``), stock snapshots (``inventory``) and support tickets (``tickets``).

A ticket's customer is found by ``customer_id`` and/or ``email``, keyed like orders; the e-mail itself is
never stored in the tickets table. A ticket's subject is free text a customer may have written: it is
redacted in quarantine files. A first response or a solution dated before the ticket was opened is
quarantined.
"""

from __future__ import annotations

from shoplens.ingest._profile import RowRule
from shoplens.ingest.profiles._tables import table_profile

TICKET_RULES = (
    RowRule("first_response_at", "first response before the ticket was created", "first_response_at < created_at"),
    RowRule("solved_at", "solved before the ticket was created", "solved_at < created_at"),
)

SPEND = table_profile(
    "spend",
    "marketing_spend",
    "marketing spend by day and channel (date, channel, amount; optional campaign, platform, impressions, "
    "clicks, currency), by column names or a --mapping",
)
INVENTORY = table_profile(
    "inventory",
    "inventory",
    "stock snapshots (product_id, date, on_hand; optional location), by column names or a --mapping",
)
TICKETS = table_profile(
    "tickets",
    "tickets",
    "support tickets (ticket_id, created_at; optional first_response_at, solved_at, channel, status, subject, "
    "tags, customer_id or email), by column names or a --mapping",
    rules=TICKET_RULES,
    free_text=("subject",),
)
