"""Reports: the monthly online customer report as HTML and PDF, the server-side charts they share with the
dashboard, and the k-anonymous data package for vendors and web designers. Numbers come from
:class:`shoplens.queries.QueryRunner` (the share package's aggregates are Ibis expressions over its tables; it is
a question of its own, :class:`SharePackageQuery`).
"""

from shoplens.reports._charts import bar_chart, heatmap, line_chart, sparkline
from shoplens.reports._monthly import MonthlyReport, build_monthly_report, parse_month, render_html, render_pdf
from shoplens.reports._numbers import MEASURES, Measure, NumberStyle, explanation, header, kind_of
from shoplens.reports._share import (
    SHARE_FORMATS,
    SharedDataset,
    ShareFormat,
    SharePackage,
    SharePackageQuery,
    SharePackageResult,
    build_share_package,
    share_package,
)
from shoplens.reports._share_dictionary import DATASETS as SHARE_DATASETS
from shoplens.reports._share_dictionary import check_share_datasets, dataset_descriptions

__all__ = [
    "MEASURES",
    "SHARE_DATASETS",
    "SHARE_FORMATS",
    "Measure",
    "MonthlyReport",
    "NumberStyle",
    "ShareFormat",
    "SharePackage",
    "SharePackageQuery",
    "SharePackageResult",
    "SharedDataset",
    "bar_chart",
    "build_monthly_report",
    "build_share_package",
    "check_share_datasets",
    "dataset_descriptions",
    "explanation",
    "header",
    "heatmap",
    "kind_of",
    "line_chart",
    "parse_month",
    "render_html",
    "render_pdf",
    "share_package",
    "sparkline",
]
