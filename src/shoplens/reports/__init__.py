"""Reports: the monthly online customer report as HTML and PDF, and the server-side charts they share with the
dashboard. Numbers come from :class:`shoplens.metrics.MetricsRunner`; nothing is computed here but the layout.
"""

from shoplens.reports._charts import bar_chart, heatmap, sparkline
from shoplens.reports._monthly import MonthlyReport, build_monthly_report, parse_month, render_html, render_pdf

__all__ = [
    "MonthlyReport",
    "bar_chart",
    "build_monthly_report",
    "heatmap",
    "parse_month",
    "render_html",
    "render_pdf",
    "sparkline",
]
