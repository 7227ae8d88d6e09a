"""Voice of the customer as questions: the themes of the store's feedback, and its hidden needs.

The computations are in :mod:`shoplens.voice`. With ``method="auto"`` the answer depends on whether sentence
embeddings are installed, not only on the warehouse, so these answers are kept in memory only.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from shoplens.queries._base import Query, Result, Row, answers
from shoplens.queries._context import QueryContext
from shoplens.voice import DEFAULT_SAMPLE, DEFAULT_SENTIMENT_METHOD, DEFAULT_THEMES, ThemeMethod, run_needs, run_themes


class ThemesQuery(Query):
    """Themes of the feedback in the warehouse (``shoplens voice themes``)."""

    kind: ClassVar[str] = "voice_themes"
    kept_on_disk: ClassVar[bool] = False

    n_themes: int = Field(default=DEFAULT_THEMES, ge=1, le=50)
    seed: int = 0
    method: ThemeMethod = "auto"
    sample: int = Field(default=DEFAULT_SAMPLE, ge=1)
    source: str | None = None
    sentiment_method: str = DEFAULT_SENTIMENT_METHOD


class ThemesResult(Result):
    query: ThemesQuery
    method: str
    encoder: str | None
    seed: int
    texts: int
    texts_with_theme: int
    units: int
    themes: list[Row]
    sampled_from: int
    sentiment_method: str
    value_at_risk_is: str


class NeedsQuery(Query):
    """The hidden-needs report (``shoplens voice needs``)."""

    kind: ClassVar[str] = "voice_needs"
    kept_on_disk: ClassVar[bool] = False

    n_themes: int = Field(default=6, ge=1, le=50)
    seed: int = 0
    method: ThemeMethod = "auto"
    sample: int = Field(default=DEFAULT_SAMPLE, ge=1)
    sentiment_method: str = DEFAULT_SENTIMENT_METHOD


class NeedsResult(Result):
    query: NeedsQuery
    texts: int
    sampled_from: int
    critical_texts: int
    critical_is: str
    method: str
    seed: int
    value_at_risk_is: str
    ranked_by: str
    complaint_themes: list[Row]
    upgrade_wishes: list[Row]
    silent_dissatisfaction: dict[str, Any] | None


@answers(ThemesQuery, ThemesResult)
def answer_themes(context: QueryContext, query: ThemesQuery) -> ThemesResult:
    return ThemesResult.model_validate(run_themes(context.backend, query) | {"query": query})


@answers(NeedsQuery, NeedsResult)
def answer_needs(context: QueryContext, query: NeedsQuery) -> NeedsResult:
    document = run_needs(context.backend, query, zone=context.store_timezone)
    return NeedsResult.model_validate(document | {"query": query})
