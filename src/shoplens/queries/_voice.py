"""Voice of the customer as questions: the themes of the store's feedback, and its hidden needs.

The computations are in :mod:`shoplens.voice`. With ``method="auto"`` the answer depends on whether sentence
embeddings are installed, not only on the warehouse, so these answers are kept in memory only (the sentence
vectors, the slow part, are kept on disk). The hidden-needs answer asks the themes question with the same
parameters, so its complaint themes are the very themes ``voice themes``, the API, the dashboard and the monthly
report show.
"""

from __future__ import annotations

from typing import Any, ClassVar

from shoplens.queries._base import Query, Result, Row, answers
from shoplens.queries._context import QueryContext
from shoplens.voice import NeedsParameters, ThemesParameters, run_needs, run_themes


class ThemesQuery(ThemesParameters, Query):
    """Themes of the feedback in the warehouse (``shoplens voice themes``)."""

    kind: ClassVar[str] = "voice_themes"
    kept_on_disk: ClassVar[bool] = False


class ThemesResult(Result):
    query: ThemesQuery
    method: str
    encoder: str | None
    seed: int
    texts: int
    texts_with_theme: int
    units: int
    embedded_units: int
    themes: list[Row]
    sampled_from: int
    critical_texts: int
    critical_is: str
    polarity_is: str
    sentiment_method: str
    value_at_risk_is: str

    def of_polarity(self, polarity: str) -> list[Row]:
        return [theme for theme in self.themes if theme["polarity"] == polarity]


class NeedsQuery(NeedsParameters, Query):
    """The hidden-needs report (``shoplens voice needs``)."""

    kind: ClassVar[str] = "voice_needs"
    kept_on_disk: ClassVar[bool] = False


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
    document = run_themes(context.backend, query, voice_cache_dir=context.voice_cache_dir)
    return ThemesResult.model_validate(document | {"query": query})


def themes_of(query: NeedsQuery) -> ThemesQuery:
    """The themes question whose complaint themes the hidden-needs answer shows."""
    return ThemesQuery(**query.model_dump())


@answers(NeedsQuery, NeedsResult)
def answer_needs(context: QueryContext, query: NeedsQuery) -> NeedsResult:
    themes = context.run(themes_of(query), ThemesResult).model_dump(mode="json")
    document = run_needs(context.backend, query, themes, zone=context.store_timezone)
    return NeedsResult.model_validate(document | {"query": query})
