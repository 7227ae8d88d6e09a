"""Every model refuses unusable input up front with an InputError that names the column and the reason."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from shoplens.errors import InputError
from shoplens.models import bgnbd, gamma_gamma, pareto_nbd

TRANSACTION_MODELS = [pytest.param(bgnbd, id="bgnbd"), pytest.param(pareto_nbd, id="pareto_nbd")]


def _summary(**columns: list[float]) -> pd.DataFrame:
    base = {"frequency": [2.0, 0.0, 1.0], "recency": [5.0, 0.0, 3.0], "T": [10.0, 8.0, 6.0]}
    return pd.DataFrame(base | columns)


@pytest.mark.parametrize("model", TRANSACTION_MODELS)
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_summary().drop(columns="T"), "missing column.*T"),
        (_summary(frequency=[2.0, np.nan, 1.0]), "'frequency' has 1 missing"),
        (_summary(recency=[-1.0, 0.0, 3.0]), "'recency' has 1 negative"),
        (_summary(frequency=[1.5, 0.0, 1.0]), "'frequency' must count repeat purchases"),
        (_summary(recency=[11.0, 0.0, 3.0]), "'recency' exceeds 'T'"),
        (_summary(recency=[5.0, 2.0, 3.0]), "'recency' must be 0 when 'frequency' is 0"),
        (_summary(frequency=[0.0, 0.0, 0.0], recency=[0.0, 0.0, 0.0]), "no customer has a repeat purchase"),
        (_summary(frequency=[0.0] * 3, recency=[0.0] * 3, T=[0.0] * 3), "all purchases fall on the last day"),
        (_summary().head(1), "at least 2 customers"),
        (pd.DataFrame({"frequency": ["2"], "recency": [1.0], "T": [3.0]}), "'frequency' must be numeric"),
    ],
)
def test_transaction_models_reject_unusable_summaries(model: ModuleType, data: pd.DataFrame, message: str) -> None:
    with pytest.raises(InputError, match=message):
        model.fit(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (pd.DataFrame({"frequency": [1.0, 2.0]}), "missing column.*monetary_value"),
        (pd.DataFrame({"frequency": [1.0, 0.0], "monetary_value": [3.0, 0.0]}), "at least 2 repeat buyers"),
        (pd.DataFrame({"frequency": [1.0, 2.0], "monetary_value": [-3.0, 4.0]}), "negative"),
        (pd.DataFrame({"frequency": [1.0, 2.0, 3.0], "monetary_value": [5.0, 5.0, 5.0]}), "the same monetary_value"),
    ],
)
def test_gamma_gamma_rejects_unusable_data(data: pd.DataFrame, message: str) -> None:
    with pytest.raises(InputError, match=message):
        gamma_gamma.fit(data)


@pytest.mark.parametrize("model", [*TRANSACTION_MODELS, pytest.param(gamma_gamma, id="gamma_gamma")])
def test_bootstrap_rejects_nonsense_settings(model: ModuleType, cdnow_summary: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="at least 2 resamples"):
        model.bootstrap(cdnow_summary, n=1)
    with pytest.raises(InputError, match="level must be between 0 and 1"):
        model.bootstrap(cdnow_summary, n=5, level=95)


def _buyers_who_never_drop_out(n_customers: int, seed: int) -> pd.DataFrame:
    """Poisson buyers with Gamma-distributed rates and no dropout: the NBD model, a limit of BG/NBD and Pareto/NBD."""
    generator = np.random.default_rng(seed)
    purchase_rate = generator.gamma(2.0, 1 / 20, n_customers)
    age = generator.integers(30, 365, n_customers).astype(float)
    frequency = generator.poisson(purchase_rate * age).astype(float)
    # Given x purchases in (0, T], the last one is the maximum of x uniform times.
    recency = np.where(frequency > 0, age * generator.beta(np.maximum(frequency, 1), 1), 0.0)
    return pd.DataFrame({"frequency": frequency, "recency": np.round(recency, 2), "T": age})


@pytest.mark.parametrize(
    ("model", "extreme"), [pytest.param(bgnbd, "a = ", id="bgnbd"), pytest.param(pareto_nbd, "s = ", id="pareto_nbd")]
)
def test_no_dropout_in_the_data_is_fitted_with_a_warning(model: ModuleType, extreme: str) -> None:
    # Without dropout the likelihood keeps rising as the dropout distribution collapses to zero (a → 0 for BG/NBD,
    # s → 0 for Pareto/NBD): there is no finite maximum, and the fit says so instead of failing.
    fitted = model.fit(_buyers_who_never_drop_out(500, seed=11))
    assert any("ran off to an extreme" in warning and extreme in warning for warning in fitted.warnings)


def test_spend_without_spread_is_fitted_with_a_warning() -> None:
    # Mean spends that hardly vary: p and q grow without bound (the spend distributions collapse to a point).
    generator = np.random.default_rng(0)
    data = pd.DataFrame(
        {
            "frequency": generator.integers(1, 5, 300).astype(float),
            "monetary_value": 10 + generator.normal(0, 1e-6, 300),
        }
    )
    fitted = gamma_gamma.fit(data)
    assert any("ran off to an extreme" in warning for warning in fitted.warnings)
