"""Result cache on disk: one JSON file per (query, data version, time zone) under ``<home>/cache/queries``.

A key is the SHA-256 of the query's kind and JSON form, the store's time zone, :data:`CACHE_FORMAT` and the
fingerprint of the installed code (:func:`code_fingerprint`: an upgrade that changes how anything is computed never
serves an answer computed the old way);
the warehouse's data version is part of the file name, so an import (which bumps the version) makes every
older entry stale, and the next write of that kind removes them. Values keep their types through the file:
money stays Decimal and days stay dates. A file that cannot be read is ignored and recomputed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from shoplens.metrics import CostRules
from shoplens.queries._base import Query, Result, registration

CACHE_FORMAT = 3  # bump when a definition changes, so stale results are not served (3: purchases only)


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(item) for item in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            ((tag, text),) = value.items()
            if tag == "$decimal":
                return Decimal(text)
            if tag == "$datetime":
                return datetime.fromisoformat(text)
            if tag == "$date":
                return date.fromisoformat(text)
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


@functools.cache
def code_fingerprint() -> str:
    """SHA-256 over the path and bytes of every Python file and shipped model of the installed package."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in {".py", ".json"} and p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def question_key(query: Query, store_timezone: str, costs: CostRules | None = None) -> str:
    """What was asked, as a short stable name: the query's kind and a hash of its fields, the time zone, the cost
    settings and the code that answers it."""
    rules = costs or CostRules()
    text = json.dumps(
        {
            "kind": query.kind,
            "query": query.model_dump(mode="json"),
            "tz": store_timezone,
            "costs": [str(rules.payment_fee_percent), str(rules.payment_fee_fixed), str(rules.shipping_cost_per_order)],
            "format": CACHE_FORMAT,
            "code": code_fingerprint(),
        },
        sort_keys=True,
    )
    return f"{query.kind}-{hashlib.sha256(text.encode()).hexdigest()[:24]}"


class ResultCache:
    """Results on disk; a file that cannot be read is ignored (and recomputed)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: str, data_version: int) -> Path:
        return self.directory / f"{key}-v{data_version}.json"

    def get(self, key: str, query: Query, data_version: int) -> Result | None:
        path = self._path(key, data_version)
        try:
            document = _decode(json.loads(path.read_text(encoding="utf-8")))
            result_type = registration(query).result_type
            result = result_type.model_validate(document)
        except (OSError, ValueError, KeyError, ValidationError):
            return None
        result.cached = True
        return result

    def put(self, key: str, result: Result, data_version: int) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            kind = key.split("-")[0]
            for stale in self.directory.glob(f"{kind}-*.json"):
                if not stale.name.endswith(f"-v{data_version}.json"):
                    stale.unlink(missing_ok=True)
            document = _encode(result.model_dump(exclude={"cached"}))
            handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(document, out, allow_nan=False)
            os.replace(temporary, self._path(key, data_version))
        except OSError:
            return  # a read-only home still answers, just without caching
