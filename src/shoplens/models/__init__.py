"""Predictive customer models: who will buy again, how often, for how much, and what a customer is worth.

One module per model, each with ``fit(data) -> Fitted…`` and predictions on the fitted object:

* :mod:`shoplens.models.bgnbd` — BG/NBD (Fader, Hardie & Lee 2005), purchases and P(alive);
* :mod:`shoplens.models.pareto_nbd` — Pareto/NBD (Schmittlein, Morrison & Colombo 1987);
* :mod:`shoplens.models.gamma_gamma` — Gamma-Gamma spend per purchase (Fader, Hardie & Lee 2005; Fader & Hardie 2013);
* :mod:`shoplens.models.clv` — lifetime value, churn risk and next-purchase timing combining them;
* :mod:`shoplens.models.churn` — the churn score P(no purchase in a window), its bands cut on a holdout, and
  their validation (AUC, purchase rate per band, calibration);
* :mod:`shoplens.models.forecast` — demand forecast per day or week with the events calendar, and its backtest;
* :mod:`shoplens.models.events_calendar` — the user-edited calendar of sales, festivals and closures;
* ``_clv_fit``, ``_clv_predict``, ``_demand`` — fit, predict and forecast from the store's warehouse, for the query
  layer (:mod:`shoplens.queries`), with fits saved by ``_saved_fits``.

Their input is the per-customer summary built by :func:`rfm_summary`, an Ibis expression over the orders table.
"""

from shoplens.models import bgnbd, churn, clv, events_calendar, forecast, gamma_gamma, pareto_nbd
from shoplens.models._clv_fit import ClvFitParameters, run_clv_fit
from shoplens.models._clv_predict import FLAT_MARGIN, ClvPredictParameters, run_clv_predict
from shoplens.models._demand import ForecastParameters, run_forecast
from shoplens.models._fitting import BootstrapIntervals
from shoplens.models._holdout_plot import check_chart_path
from shoplens.models._saved_fits import (
    MODEL_NAMES,
    TRANSACTION_MODEL_NAMES,
    ModelName,
    SavedFit,
    TransactionModelName,
    load_fit,
)
from shoplens.models._summary import DAYS_PER_TIME_UNIT, TimeUnit, rfm_summary
from shoplens.models._trend import TREND_METHOD, Trend, TrendMonth, linear_trend
from shoplens.models.bgnbd import FittedBGNBD
from shoplens.models.churn import ChurnBands, churn_risk_band
from shoplens.models.clv import (
    customer_lifetime_value,
    expected_time_to_next_purchase,
    holdout_comparison,
    predict_customers,
)
from shoplens.models.forecast import DEFAULT_INTERVAL_LEVEL
from shoplens.models.forecast import GRAINS as FORECAST_GRAINS
from shoplens.models.forecast import METRICS as FORECAST_METRICS
from shoplens.models.forecast import Grain as ForecastGrain
from shoplens.models.forecast import Metric as ForecastMetric
from shoplens.models.gamma_gamma import FittedGammaGamma
from shoplens.models.pareto_nbd import FittedParetoNBD

__all__ = [
    "DAYS_PER_TIME_UNIT",
    "DEFAULT_INTERVAL_LEVEL",
    "FLAT_MARGIN",
    "FORECAST_GRAINS",
    "FORECAST_METRICS",
    "MODEL_NAMES",
    "TRANSACTION_MODEL_NAMES",
    "TREND_METHOD",
    "BootstrapIntervals",
    "ChurnBands",
    "ClvFitParameters",
    "ClvPredictParameters",
    "FittedBGNBD",
    "FittedGammaGamma",
    "FittedParetoNBD",
    "ForecastGrain",
    "ForecastMetric",
    "ForecastParameters",
    "ModelName",
    "SavedFit",
    "TimeUnit",
    "TransactionModelName",
    "Trend",
    "TrendMonth",
    "bgnbd",
    "check_chart_path",
    "churn",
    "churn_risk_band",
    "clv",
    "customer_lifetime_value",
    "events_calendar",
    "expected_time_to_next_purchase",
    "forecast",
    "gamma_gamma",
    "holdout_comparison",
    "linear_trend",
    "load_fit",
    "pareto_nbd",
    "predict_customers",
    "rfm_summary",
    "run_clv_fit",
    "run_clv_predict",
    "run_forecast",
]
