"""Voice of the customer: what customers say (sentiment, themes, wishes), what they do not say (silent
dissatisfaction), and how to ask them well (surveys and a question linter).

* :mod:`~shoplens.voice._sentiment` — VADER and shipped regressions on TF-IDF or sentence embeddings, judged on
  labelled reviews and service messages;
* :mod:`~shoplens.voice._themes` — complaint and praise themes from sentence embeddings (MiniLM) or keywords,
  with plain names (:mod:`~shoplens.voice._naming`);
* :mod:`~shoplens.voice._wishes` and :mod:`~shoplens.voice._silent` — service-upgrade wishes and behaviour signals;
* :mod:`~shoplens.voice._runner` — the themes and hidden-needs reports over the warehouse;
* :mod:`~shoplens.voice._lint` — the question linter;
* :mod:`~shoplens.voice._surveys` — the survey life cycle (create, sample, distribute, remind), with the
  definition (``_survey_spec``), the answer form (``_survey_form``) and the analysis (``_survey_results``,
  ``_survey_statistics``) beside it.
"""

from shoplens.voice._customers import customer_profiles, customer_spend
from shoplens.voice._embeddings import CachedEncoder, SentenceEncoder, load_sentence_encoder
from shoplens.voice._lint import (
    RULE_NAMES,
    LintResult,
    Problem,
    lint_document,
    lint_method,
    lint_question,
    lint_questions,
)
from shoplens.voice._progress import reporting_progress
from shoplens.voice._reviews import read_labelled_reviews, split_reviews
from shoplens.voice._runner import (
    DEFAULT_SAMPLE,
    NeedsParameters,
    ThemesParameters,
    feedback_sources,
    load_feedback,
    run_needs,
    run_themes,
)
from shoplens.voice._sentiment import (
    DEFAULT_SENTIMENT_METHOD,
    SENTIMENT_METHODS,
    Sentiment,
    analyse_sentiment,
    analyse_sentiment_with,
    macro_f1,
    sentiment_method,
    shipped_review_model,
)
from shoplens.voice._survey_form import DONT_KNOW, SurveyForm, SurveyFormError, submit_response, survey_form
from shoplens.voice._survey_results import analyse_survey
from shoplens.voice._survey_spec import SurveySpec, parse_survey_spec
from shoplens.voice._survey_statistics import customer_satisfaction, net_promoter_score
from shoplens.voice._surveys import (
    close_survey,
    create_survey,
    due_reminders,
    invitation_token,
    list_surveys,
    recipients,
    sample_survey,
)
from shoplens.voice._themes import (
    DEFAULT_THEMES,
    FeedbackItem,
    Theme,
    ThemeMethod,
    ThemeResult,
    is_critical,
    mine_themes,
)
from shoplens.voice._wishes import upgrade_wishes

__all__ = [
    "DEFAULT_SAMPLE",
    "DEFAULT_SENTIMENT_METHOD",
    "DEFAULT_THEMES",
    "DONT_KNOW",
    "RULE_NAMES",
    "SENTIMENT_METHODS",
    "CachedEncoder",
    "FeedbackItem",
    "LintResult",
    "NeedsParameters",
    "Problem",
    "SentenceEncoder",
    "Sentiment",
    "SurveyForm",
    "SurveyFormError",
    "SurveySpec",
    "Theme",
    "ThemeMethod",
    "ThemeResult",
    "ThemesParameters",
    "analyse_sentiment",
    "analyse_sentiment_with",
    "analyse_survey",
    "close_survey",
    "create_survey",
    "customer_profiles",
    "customer_satisfaction",
    "customer_spend",
    "due_reminders",
    "feedback_sources",
    "invitation_token",
    "is_critical",
    "lint_document",
    "lint_method",
    "lint_question",
    "lint_questions",
    "list_surveys",
    "load_feedback",
    "load_sentence_encoder",
    "macro_f1",
    "mine_themes",
    "net_promoter_score",
    "parse_survey_spec",
    "read_labelled_reviews",
    "recipients",
    "reporting_progress",
    "run_needs",
    "run_themes",
    "sample_survey",
    "sentiment_method",
    "shipped_review_model",
    "split_reviews",
    "submit_response",
    "survey_form",
    "upgrade_wishes",
]
