"""The dashboard's tables as people read them: headers in words with a one-line meaning, cells written in the
store's currency and locale, sortable by any column, paginated when long, downloadable as CSV.

Sorting, paging and the download are links (``?table=ID&sort=COLUMN&order=desc&page=2``, ``?csv=ID``) answered by
the server, so they work with the keyboard and with the pages' ``script-src 'none'``. The other query parameters
of the page (its filters) are kept in every link. The CSV holds the values as the API gives them, not the text
shown, so a spreadsheet reads numbers as numbers; text a spreadsheet would run as a formula is escaped.

A cell that holds a pseudonymous customer key in a column that names customers (``customer_key`` unless the table
says which) links to that customer's page, so every list of customers leads to each of them.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import Depends, Query, Request
from fastapi.responses import Response

from shoplens.config import Settings
from shoplens.ingest import KEY_HEX_CHARS, KEY_PREFIX
from shoplens.privacy import csv_row
from shoplens.reports import NumberStyle, explanation, header, kind_of

PAGE_ROWS = 50  # a longer table is shown a page at a time
TABLE_PARAMS = ("table", "sort", "order", "page", "csv")  # the parameters of table_params
NUMERIC_KINDS = frozenset({"money", "count", "share", "change", "points", "number", "score", "days"})
CUSTOMER_COLUMNS = ("customer_key",)  # columns whose customer keys link to the customer's page, unless a table says
CUSTOMER_KEY = re.compile(rf"{KEY_PREFIX}[0-9a-f]{{{KEY_HEX_CHARS}}}")


TableId = Annotated[
    str | None, Query(max_length=64, description="the table that ``sort``, ``order``, ``page`` apply to")
]


def table_params(
    table: TableId = None,
    sort: Annotated[str | None, Query(max_length=64, description="the column to sort the table by")] = None,
    order: Annotated[Literal["asc", "desc"] | None, Query()] = None,
    page: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    csv: Annotated[str | None, Query(max_length=64, description="download this table as CSV")] = None,
) -> None:
    """The query parameters every page with tables accepts (read back from the request by :func:`shown_table`)."""


TABLE_PARAMS_DEPENDENCY = Depends(table_params)


def number_style(request: Request) -> NumberStyle:
    """The store's locale and currency: the app's settings, which the Settings page reloads after a change (so a
    page is drawn without reading the settings file again)."""
    settings: Settings = request.app.state.settings
    return NumberStyle(locale=settings.locale, currency=settings.currency)


@dataclass(frozen=True)
class Heading:
    column: str
    label: str
    explanation: str
    numeric: bool
    sort_link: str
    sorted: str  # "ascending", "descending" or "" (the aria-sort of the header)


@dataclass(frozen=True)
class ShownTable:
    title: str
    id: str
    headings: list[Heading]
    rows: list[list[tuple[str, bool, str | None, str | None]]]  # each cell's text, whether it is a number, its
    # value as the API gives it (the cell's data-value; None for no value) and the page it links to (None for none)
    total_rows: int
    page: int
    pages: int
    previous_link: str
    next_link: str
    csv_link: str

    @property
    def legend(self) -> list[tuple[str, str]]:
        return [(h.label, h.explanation) for h in self.headings if h.explanation]


def _sort_value(value: Any) -> tuple[int, Any]:
    """Unknown values last; numbers by size, dates by day, text alphabetically."""
    if value is None or value == "":
        return (2, "")
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, (int, float, Decimal)):
        return (0, float(value))
    if isinstance(value, datetime):
        return (1, value.isoformat())
    if isinstance(value, date):
        return (1, value.isoformat())
    return (1, str(value).casefold())


def _link(request: Request, **chosen: Any) -> str:
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in TABLE_PARAMS]
    return "?" + urlencode(kept + [(k, str(v)) for k, v in chosen.items() if v not in (None, "")])


def _chosen(request: Request, table_id: str) -> tuple[str, str, int]:
    params = request.query_params
    if params.get("table") != table_id:
        return "", "asc", 1
    order = "desc" if params.get("order") == "desc" else "asc"
    try:
        page = max(1, int(params.get("page") or 1))
    except ValueError:
        page = 1
    return params.get("sort") or "", order, page


def shown_table(request: Request, style: NumberStyle, table: dict[str, Any]) -> ShownTable:
    """One of a page's tables (``title``, ``id``, ``columns``, ``rows`` as :func:`shoplens.web._pages.table` makes
    them), sorted and paged as the request asks, its cells written for people."""
    table_id, columns, records = table["id"], list(table["columns"]), list(table["rows"])
    sort, order, page = _chosen(request, table_id)
    if sort in columns:
        present = [r for r in records if r.get(sort) not in (None, "")]
        absent = [r for r in records if r.get(sort) in (None, "")]
        present.sort(key=lambda r: _sort_value(r.get(sort)), reverse=order == "desc")
        records = present + absent  # unknown values stay last either way
    pages = max(1, -(-len(records) // PAGE_ROWS))
    page = min(page, pages)
    shown = records[(page - 1) * PAGE_ROWS : page * PAGE_ROWS]
    samples = {c: next((r.get(c) for r in records if r.get(c) is not None), None) for c in columns}
    headings = []
    for column in columns:
        now_sorted = column == sort
        next_order = "desc" if now_sorted and order == "asc" else "asc"
        headings.append(
            Heading(
                column=column,
                label=header(column),
                explanation=explanation(column),
                numeric=kind_of(column, samples[column]) in NUMERIC_KINDS,
                sort_link=_link(request, table=table_id, sort=column, order=next_order) + f"#{table_id}",
                sorted=("descending" if order == "desc" else "ascending") if now_sorted else "",
            )
        )
    customer_columns = set(table.get("customer_columns", CUSTOMER_COLUMNS))
    named_by = table.get("value_named_by")  # a measure/value table: each value is written as its row's measure

    def written(column: str, row: dict[str, Any]) -> str:
        if named_by and column == "value":
            return style.cell(str(row.get(named_by) or column), row.get(column))
        return style.cell(column, row.get(column))

    rows = [
        [
            (
                written(h.column, r),
                h.numeric,
                _raw(r.get(h.column)),
                customer_link(r.get(h.column)) if h.column in customer_columns else None,
            )
            for h in headings
        ]
        for r in shown
    ]

    def page_link(number: int) -> str:
        return _link(request, table=table_id, sort=sort, order=order if sort else "", page=number) + f"#{table_id}"

    return ShownTable(
        title=table["title"],
        id=table_id,
        headings=headings,
        rows=rows,
        total_rows=len(records),
        page=page,
        pages=pages,
        previous_link=page_link(page - 1) if page > 1 else "",
        next_link=page_link(page + 1) if page < pages else "",
        csv_link=_link(request, csv=table_id),
    )


def customer_link(value: Any) -> str | None:
    """The page of the customer whose pseudonymous key ``value`` is (None for anything else)."""
    if isinstance(value, str) and CUSTOMER_KEY.fullmatch(value):
        return f"/customers/{quote(value)}"
    return None


def _raw(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, (date, datetime)) else str(value)


def csv_download(table: dict[str, Any], filename: str) -> Response:
    """A page's table as CSV: headers in words, values as the API gives them."""
    out = io.StringIO()
    writer = csv.writer(out)
    columns = list(table["columns"])
    writer.writerow([header(c) for c in columns])
    for record in table["rows"]:
        writer.writerow(csv_row(_csv_value(record.get(c)) for c in columns))
    headers = {"Content-Disposition": f'attachment; filename="{filename}.csv"', "Cache-Control": "no-store"}
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def _csv_value(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return "" if value is None else value
