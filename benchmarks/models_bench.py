"""Fit time of the customer-base models against lifetimes 0.11.3 on the same data, measured in the same run.

    python benchmarks/models_bench.py [--customers 100000] [--repeat 3] [--lifetimes-python PATH]

Data: the CDNOW sample's published 39-week calibration summary (2,357 customers, weeks) and ``--customers``
customers simulated from the BG/NBD process itself (days; r = 0.25, α = 30, a = 0.8, b = 2.5, ages up to two years,
Gamma-Gamma spend with p = 6, q = 4, γ = 15). Models: BG/NBD, Gamma-Gamma (repeat buyers) and Pareto/NBD, each fitted
by maximum likelihood without penalty. The best of ``--repeat`` fits is reported (a fit over 10 s is not repeated).

lifetimes (unmaintained) does not import with pandas 3 / numpy 2. When it is not importable here, pass the Python
of a throwaway environment that has it (``--lifetimes-python``, or ``LIFETIMES_PYTHON``), e.g.

    python3.11 -m venv /tmp/lifetimes-venv
    /tmp/lifetimes-venv/bin/pip install "lifetimes==0.11.3" "pandas<2" "numpy<2" "scipy<1.12"

The same data are then written to a temporary CSV and fitted there in a subprocess, timing the fit calls only (not
the interpreter start). Both run with one BLAS thread (``--blas-threads``), as shoplens' own fits do: on these
three- and four-parameter optimisations BLAS threads only add overhead, a lot of it on a busy machine. The table
gives both times, the ratio lifetimes / shoplens (above 1: shoplens is faster) and the largest relative difference
between the two sets of parameters, a cross-check of the estimates.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shoplens.models import bgnbd, gamma_gamma, pareto_nbd

REPO = Path(__file__).resolve().parents[1]
CDNOW_SUMMARY = REPO / "datasets" / "cdnow" / "cdnow_customers_summary_with_transactions.csv"
SIMULATED_PURCHASES = {"r": 0.25, "alpha": 30.0, "a": 0.8, "b": 2.5}
SIMULATED_SPEND = {"p": 6.0, "q": 4.0, "gamma": 15.0}
TARGET_SECONDS = 2.0  # BG/NBD + Gamma-Gamma on 100,000 customers
MODELS = ("bgnbd", "gamma-gamma", "pareto-nbd")
LONG_FIT_SECONDS = 10.0

# Run by the other interpreter: reads the CSV, fits with lifetimes, prints one JSON document.
LIFETIMES_SCRIPT = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
data = pd.read_csv(sys.argv[1])
repeat = int(sys.argv[2])
models = sys.argv[3].split(",")
out = {}
def best(fit):
    times, params = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        params = fit()
        times.append(time.perf_counter() - started)
        if times[-1] > 10:
            break
    return min(times), params
repeaters = data[data["frequency"] > 0]
if "bgnbd" in models:
    out["bgnbd"] = best(lambda: dict(BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"]).params_))
if "gamma-gamma" in models:
    out["gamma-gamma"] = best(
        lambda: dict(GammaGammaFitter().fit(repeaters["frequency"], repeaters["monetary_value"]).params_)
    )
if "pareto-nbd" in models:
    out["pareto-nbd"] = best(lambda: dict(ParetoNBDFitter().fit(data["frequency"], data["recency"], data["T"]).params_))
import lifetimes
print(json.dumps({"version": lifetimes.__version__, "fits": out}))
"""
# lifetimes' parameter names, in shoplens' order.
LIFETIMES_NAMES = {
    "bgnbd": ("r", "alpha", "a", "b"),
    "gamma-gamma": ("p", "q", "v"),
    "pareto-nbd": ("r", "alpha", "s", "beta"),
}


def simulate(n_customers: int, seed: int = 20240501, max_age_days: int = 730) -> pd.DataFrame:
    """Customers drawn from the BG/NBD process (Fader, Hardie & Lee 2005, section 2), observed in whole days."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = (SIMULATED_PURCHASES[k] for k in ("r", "alpha", "a", "b"))
    rate = rng.gamma(r, 1.0 / alpha, n_customers)
    dropout = rng.beta(a, b, n_customers)
    age = rng.integers(1, max_age_days + 1, n_customers).astype(float)
    frequency, last, clock = np.zeros(n_customers), np.zeros(n_customers), np.zeros(n_customers)
    active = np.ones(n_customers, dtype=bool)
    while active.any():
        index = np.flatnonzero(active)
        clock[index] += rng.exponential(1.0 / rate[index])
        bought = clock[index] <= age[index]
        buyers = index[bought]
        frequency[buyers] += 1
        last[buyers] = clock[buyers]
        active[index[~bought]] = False
        active[buyers] = rng.random(len(buyers)) >= dropout[buyers]
    p, q, gamma = (SIMULATED_SPEND[k] for k in ("p", "q", "gamma"))
    spend_rate = rng.gamma(q, 1.0 / gamma, n_customers)
    monetary = np.zeros(n_customers)
    repeat = frequency > 0
    monetary[repeat] = rng.gamma(p * frequency[repeat], 1.0 / (spend_rate[repeat] * frequency[repeat]))
    return pd.DataFrame(
        {"frequency": frequency, "recency": np.minimum(np.round(last), age), "T": age, "monetary_value": monetary}
    )


def cdnow() -> pd.DataFrame:
    published = pd.read_csv(CDNOW_SUMMARY)
    return published.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})[
        ["frequency", "recency", "T", "monetary_value"]
    ]


def best_of(repeat: int, fit: Callable[[], dict[str, float]]) -> tuple[float, dict[str, float]]:
    """Best of ``repeat`` runs; a fit slower than LONG_FIT_SECONDS is not repeated (in lifetimes' script too)."""
    times, params = [], {}
    for _ in range(repeat):
        started = time.perf_counter()
        params = fit()
        times.append(time.perf_counter() - started)
        if times[-1] > LONG_FIT_SECONDS:
            break
    return min(times), params


def shoplens_fits(
    data: pd.DataFrame, repeat: int, models: tuple[str, ...]
) -> dict[str, tuple[float, dict[str, float]]]:
    fitters: dict[str, Callable[[], dict[str, float]]] = {
        "bgnbd": lambda: bgnbd.fit(data).params,
        "gamma-gamma": lambda: gamma_gamma.fit(data).params,
        "pareto-nbd": lambda: pareto_nbd.fit(data).params,
    }
    return {model: best_of(repeat, fitters[model]) for model in models}


def lifetimes_fits(
    data: pd.DataFrame, repeat: int, models: tuple[str, ...], python: str | None, blas_threads: int
) -> tuple[str, dict[str, tuple[float, dict[str, float]]]]:
    """(how lifetimes was run, or why not; its fits)."""
    try:
        import lifetimes  # noqa: F401

        in_process = sys.executable
    except Exception as exc:  # lifetimes 0.11.3 fails on pandas 3 / numpy 2 in several ways
        reason = f"not importable here ({type(exc).__name__}: {str(exc).splitlines()[0][:80]})"
        if python is None:
            return reason + "; pass --lifetimes-python to measure it in another environment", {}
        in_process = None
    interpreter = in_process or python
    assert interpreter is not None
    with tempfile.TemporaryDirectory(prefix="models-bench-") as folder:
        path = Path(folder) / "data.csv"
        data.to_csv(path, index=False)
        threads = str(blas_threads)
        done = subprocess.run(
            [interpreter, "-c", LIFETIMES_SCRIPT, str(path), str(repeat), ",".join(models)],
            capture_output=True,
            text=True,
            check=False,
            env=os.environ | {"OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads},
        )
    if done.returncode != 0:
        return f"failed in {interpreter}: {(done.stderr.strip().splitlines() or [''])[-1][:120]}", {}
    document: dict[str, Any] = json.loads(done.stdout)
    fits = {
        model: (
            float(seconds),
            dict(zip(shoplens_names(model), (float(params[n]) for n in LIFETIMES_NAMES[model]), strict=True)),
        )
        for model, (seconds, params) in document["fits"].items()
    }
    where = "in this process" if in_process else f"in a subprocess ({interpreter})"
    return f"lifetimes {document['version']} {where}", fits


def shoplens_names(model: str) -> tuple[str, ...]:
    return {"bgnbd": bgnbd.PARAM_NAMES, "gamma-gamma": gamma_gamma.PARAM_NAMES, "pareto-nbd": pareto_nbd.PARAM_NAMES}[
        model
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lifetimes-python", default=os.environ.get("LIFETIMES_PYTHON"))
    parser.add_argument("--blas-threads", type=int, default=1, help="BLAS threads for both (shoplens fits use 1)")
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=args.blas_threads, user_api="blas")  # for the rest of this process

    datasets = {
        "CDNOW sample (2,357, weeks)": cdnow(),
        f"simulated {args.customers:,} (days)": simulate(args.customers),
    }
    rows = []
    notes = []
    for label, data in datasets.items():
        ours = shoplens_fits(data, args.repeat, MODELS)
        how, theirs = lifetimes_fits(data, args.repeat, MODELS, args.lifetimes_python, args.blas_threads)
        if how not in notes:
            notes.append(how)
        for model in MODELS:
            seconds, params = ours[model]
            other = theirs.get(model)
            difference = (
                max(abs(params[k] - other[1][k]) / abs(other[1][k]) for k in params) if other is not None else None
            )
            rows.append((label, model, seconds, other[0] if other else None, difference, params))
        combined = ours["bgnbd"][0] + ours["gamma-gamma"][0]
        if label.startswith("simulated"):
            verdict = "meets" if combined < TARGET_SECONDS else "misses"
            notes.append(f"{label}: BG/NBD + Gamma-Gamma {combined:.2f} s, {verdict} the {TARGET_SECONDS:.0f} s target")

    header = "| data | model | shoplens s | lifetimes s | lifetimes / shoplens | max rel. param diff |"
    print(header)
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for label, model, ours_s, theirs_s, difference, _ in rows:
        ratio = f"{theirs_s / ours_s:.1f}x" if theirs_s is not None else "-"
        print(
            f"| {label} | {model} | {ours_s:.3f} | {f'{theirs_s:.3f}' if theirs_s is not None else '-'} | {ratio} | "
            f"{f'{difference:.1e}' if difference is not None else '-'} |"
        )
    print()
    for note in notes:
        print(f"- {note}")
    print(
        f"- {os.cpu_count()} cores, {args.blas_threads} BLAS thread(s) for both; numpy {np.__version__}, "
        f"pandas {pd.__version__}; best of {args.repeat}"
    )
    for label, model, _, _, _, params in rows:
        print(f"  {label} {model}: " + ", ".join(f"{k}={v:.4g}" for k, v in params.items()))


if __name__ == "__main__":
    main()
