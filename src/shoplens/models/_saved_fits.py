"""Fitted models as saved under ``<home>/models/<model>.json``, with the data version they were fitted on."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from shoplens.models._summary import TimeUnit
from shoplens.models.bgnbd import FittedBGNBD
from shoplens.models.churn import ChurnBands
from shoplens.models.gamma_gamma import FittedGammaGamma
from shoplens.models.pareto_nbd import FittedParetoNBD

ModelName = Literal["bgnbd", "pareto-nbd", "gamma-gamma"]
TransactionModelName = Literal["bgnbd", "pareto-nbd"]
MODEL_NAMES: tuple[ModelName, ...] = ("bgnbd", "pareto-nbd", "gamma-gamma")
TRANSACTION_MODEL_NAMES: tuple[TransactionModelName, ...] = ("bgnbd", "pareto-nbd")

# A saved fit of another format is refitted, not reused (2: purchases only, on DST-exact local days; 3: with the
# churn cut-offs chosen on a holdout).
SAVED_FIT_FORMAT = 3


# --- saved fits ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedFit:
    """A fitted model as written to ``<models_dir>/<model>.json``."""

    model: ModelName
    params: dict[str, float]
    log_likelihood: float
    n_customers: int
    n_repeat_buyers: int
    converged: bool
    warnings: list[str]
    time_unit: TimeUnit
    calibration_end: date
    data_version: int
    frequency_monetary_correlation: float | None = None
    # BG/NBD and Pareto/NBD only: the churn-risk cut-offs and how they did on the holdout they were chosen on.
    churn_bands: ChurnBands | None = None
    churn_validation: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": SAVED_FIT_FORMAT,
            "model": self.model,
            "params": self.params,
            "log_likelihood": self.log_likelihood,
            "n_customers": self.n_customers,
            "n_repeat_buyers": self.n_repeat_buyers,
            "converged": self.converged,
            "warnings": self.warnings,
            "time_unit": self.time_unit,
            "calibration_end": self.calibration_end.isoformat(),
            "data_version": self.data_version,
            "frequency_monetary_correlation": finite_or_none(self.frequency_monetary_correlation),
            "churn_bands": None if self.churn_bands is None else self.churn_bands.as_dict(),
            "churn_validation": self.churn_validation,
        }

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> SavedFit:
        correlation = document.get("frequency_monetary_correlation")
        bands = document.get("churn_bands")
        return cls(
            model=document["model"],
            params={str(k): float(v) for k, v in document["params"].items()},
            log_likelihood=float(document["log_likelihood"]),
            n_customers=int(document["n_customers"]),
            n_repeat_buyers=int(document["n_repeat_buyers"]),
            converged=bool(document["converged"]),
            warnings=[str(w) for w in document["warnings"]],
            time_unit=document["time_unit"],
            calibration_end=date.fromisoformat(document["calibration_end"]),
            data_version=int(document["data_version"]),
            frequency_monetary_correlation=None if correlation is None else float(correlation),
            churn_bands=None if bands is None else ChurnBands.from_dict(bands),
            churn_validation=document.get("churn_validation"),
        )

    def transaction_model(self) -> FittedBGNBD | FittedParetoNBD:
        kind = FittedBGNBD if self.model == "bgnbd" else FittedParetoNBD
        return kind(
            params=self.params,
            log_likelihood=self.log_likelihood,
            n_customers=self.n_customers,
            n_repeat_buyers=self.n_repeat_buyers,
            converged=self.converged,
            warnings=self.warnings,
        )

    def spend_model(self) -> FittedGammaGamma:
        correlation = self.frequency_monetary_correlation
        return FittedGammaGamma(
            params=self.params,
            log_likelihood=self.log_likelihood,
            n_customers=self.n_customers,
            frequency_monetary_correlation=float("nan") if correlation is None else correlation,
            converged=self.converged,
            warnings=self.warnings,
        )


def saved_fit_path(models_dir: Path, model: ModelName) -> Path:
    return models_dir / f"{model}.json"


def save_fit(models_dir: Path, fit: SavedFit) -> Path:
    """Write atomically, so a reader never sees half a file."""
    models_dir.mkdir(parents=True, exist_ok=True)
    path = saved_fit_path(models_dir, fit.model)
    partial = path.with_suffix(f".json.{os.getpid()}.tmp")
    partial.write_text(json.dumps(fit.as_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    partial.replace(path)
    return path


def load_fit(models_dir: Path, model: ModelName) -> SavedFit | None:
    """The saved fit, or None when there is none or it cannot be read (it is then simply refitted)."""
    path = saved_fit_path(models_dir, model)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("format") != SAVED_FIT_FORMAT or document.get("model") != model:
            return None
        return SavedFit.from_dict(document)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
