"""100,000 simulated customers: BG/NBD and Gamma-Gamma recover the parameters they were simulated with.

The fit time is printed (run with ``-s``), not asserted: timings belong in benchmarks (STYLE.md). The target is
under 2 s for both fits together on 100,000 customers.
"""

from __future__ import annotations

import time

import pytest
from models_testdata import SIMULATED_SPEND_PARAMS, simulate_bgnbd_customers

from shoplens.models import bgnbd, gamma_gamma

# Daily-level parameters of a plausible web shop: a purchase every ~4 months while active, dropout ~25 % per
# purchase.
SIMULATED_PURCHASE_PARAMS = {"r": 0.25, "alpha": 30.0, "a": 0.8, "b": 2.5}


@pytest.mark.slow
def test_fits_on_100k_customers_recover_the_simulated_parameters() -> None:
    customers = simulate_bgnbd_customers(100_000, **SIMULATED_PURCHASE_PARAMS, max_age_days=730, seed=20240501)

    started = time.perf_counter()
    purchases = bgnbd.fit(customers)
    spend = gamma_gamma.fit(customers)
    elapsed = time.perf_counter() - started
    print(f"\nBG/NBD + Gamma-Gamma on 100,000 customers: {elapsed:.2f} s")

    assert purchases.converged
    assert spend.converged
    # With ~43,000 repeat buyers the sampling error of each parameter is a few per cent.
    for name, true_value in SIMULATED_PURCHASE_PARAMS.items():
        assert purchases.params[name] == pytest.approx(true_value, rel=0.1), name
    for name, true_value in SIMULATED_SPEND_PARAMS.items():
        assert spend.params[name] == pytest.approx(true_value, rel=0.1), name
    # A maximum-likelihood estimate fits the sample at least as well as the truth does.
    true_purchase_ll = bgnbd.log_likelihood_per_customer(
        list(SIMULATED_PURCHASE_PARAMS.values()), customers["frequency"], customers["recency"], customers["T"]
    ).sum()
    assert purchases.log_likelihood >= true_purchase_ll
    repeat = customers[customers["frequency"] > 0]
    true_spend_ll = gamma_gamma.log_likelihood_per_customer(
        list(SIMULATED_SPEND_PARAMS.values()), repeat["frequency"], repeat["monetary_value"]
    ).sum()
    assert spend.log_likelihood >= true_spend_ll
