"""A guard flag, and the guard that reads the audit log: unusual export volumes by a user.

An export releases people when it names them: a contact export releases its ``released`` count, a person's
data export (``privacy.export``) one person. Per actor and UTC day, the people released are summed; a day over
``people_per_day`` is flagged, scored by how many times over the limit it is. Aggregated share packages release
no one and are not counted.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from shoplens.privacy import AuditRow


class Flag(BaseModel):
    kind: str
    subject: str = Field(description="a pseudonymous customer key, a product id, a discount code or an actor")
    evidence: dict[str, Any]
    score: float = Field(description="how far past its threshold, in the rule's own unit (see the rule)")


def _people(action: str, details: dict[str, Any]) -> int:
    if action == "privacy.export":
        return 1
    released = details.get("released")
    return int(released) if isinstance(released, int) else 0


def export_flags(entries: Iterable[AuditRow], *, people_per_day: int) -> list[Flag]:
    """One flag per actor and day whose exports released more than ``people_per_day`` people."""
    per_day: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0])
    for entry in entries:
        if not entry.action.endswith("export"):
            continue
        cell = per_day[(entry.actor, entry.at.date())]
        cell[0] += _people(entry.action, json.loads(entry.details))
        cell[1] += 1
    return [
        Flag(
            kind="export_volume",
            subject=actor,
            evidence={"day": day.isoformat(), "people": people, "exports": exports, "limit": people_per_day},
            score=round(people / people_per_day, 4),
        )
        for (actor, day), (people, exports) in sorted(per_day.items())
        if people > people_per_day
    ]
