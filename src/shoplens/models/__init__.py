"""Predictive customer models: who will buy again, how often, for how much, and what a customer is worth.

One module per model, each with ``fit(data) -> Fitted…`` and predictions on the fitted object:

* :mod:`shoplens.models.bgnbd` — BG/NBD (Fader, Hardie & Lee 2005), purchases and P(alive);
* :mod:`shoplens.models.pareto_nbd` — Pareto/NBD (Schmittlein, Morrison & Colombo 1987);
* :mod:`shoplens.models.gamma_gamma` — Gamma-Gamma spend per purchase (Fader, Hardie & Lee 2005; Fader & Hardie 2013);
* :mod:`shoplens.models.clv` — lifetime value, churn-risk bands and next-purchase timing combining them;
* :mod:`shoplens.models.forecast` — demand forecast per day or week with the events calendar, and its backtest;
* :mod:`shoplens.models.events_calendar` — the user-edited calendar of sales, festivals and closures;
* :mod:`shoplens.models.runners` — the questions the CLI (and API) ask, answered from the store's warehouse.

Their input is the per-customer summary built by :func:`rfm_summary`, an Ibis expression over the orders table.
"""

from shoplens.models import bgnbd, clv, events_calendar, forecast, gamma_gamma, pareto_nbd, runners
from shoplens.models._fitting import BootstrapIntervals
from shoplens.models._summary import rfm_summary
from shoplens.models.bgnbd import FittedBGNBD
from shoplens.models.clv import (
    churn_risk_band,
    customer_lifetime_value,
    expected_time_to_next_purchase,
    holdout_comparison,
    predict_customers,
)
from shoplens.models.gamma_gamma import FittedGammaGamma
from shoplens.models.pareto_nbd import FittedParetoNBD

__all__ = [
    "BootstrapIntervals",
    "FittedBGNBD",
    "FittedGammaGamma",
    "FittedParetoNBD",
    "bgnbd",
    "churn_risk_band",
    "clv",
    "customer_lifetime_value",
    "events_calendar",
    "expected_time_to_next_purchase",
    "forecast",
    "gamma_gamma",
    "holdout_comparison",
    "pareto_nbd",
    "predict_customers",
    "rfm_summary",
    "runners",
]
