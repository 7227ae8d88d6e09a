"""Cold `voice themes` on the clothing reviews: this tree against an earlier commit, back to back in one run.

    python benchmarks/themes_bench.py [--baseline REV] [--runs N]

Imports ``datasets/reviews`` (``--profile feedback``: 22,641 of 23,486 rows have a text) into a new home once, then
for each tree — the source of ``--baseline`` (default ``HEAD``, taken with ``git archive``) and this working tree —
runs ``shoplens voice themes --json`` in a fresh copy of that home (empty voice cache, no query cache) and prints
its wall time and CPU time (user + sys of the child), the load average, and whether both trees found the same
themes (name, polarity, texts, negative share).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
REVIEWS = REPO / "datasets" / "reviews" / "womens_clothing_ecommerce_reviews.csv.gz"


def _shoplens(source: Path, home: Path, *args: str) -> tuple[str, float, float]:
    """Stdout, wall seconds and CPU seconds of one command run on the code in ``source``."""
    environment = {**os.environ, "PYTHONPATH": str(source)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "shoplens", "--home", str(home), *args],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done.stdout, wall, cpu


def _summary(answer: dict[str, Any]) -> list[tuple[str, str, int, float]]:
    return [(t["name"], t["polarity"], t["texts"], round(t["negative_share"], 2)) for t in answer["themes"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", default="HEAD", help="the commit to compare with")
    parser.add_argument("--runs", type=int, default=1, help="cold runs of each tree, alternating")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        baseline = root / "baseline"
        baseline.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", args.baseline, "src"], capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(baseline)], input=archive.stdout, check=True)
        trees = {f"baseline {args.baseline}": baseline / "src", "this tree": REPO / "src"}
        imported = root / "imported"
        _shoplens(REPO / "src", imported, "import", str(REVIEWS), "--profile", "feedback", "--json")
        print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at start")
        answers: dict[str, dict[str, Any]] = {}
        print(f"{'tree':<22}{'wall s':>9}{'CPU s':>9}{'load':>7}")
        for run in range(args.runs):
            for label, source in trees.items():
                home = root / f"home-{run}-{len(answers)}"
                shutil.copytree(imported, home)
                stdout, wall, cpu = _shoplens(source, home, "voice", "themes", "--json")
                answers[label] = json.loads(stdout)
                print(f"{label:<22}{wall:>9.1f}{cpu:>9.1f}{os.getloadavg()[0]:>7.1f}")
                shutil.rmtree(home)
        first, second = (_summary(a) for a in answers.values())
        print("same themes (name, polarity, texts, negative share to 2 places):", first == second)
        for theme in second:
            print(f"  {theme[1]:<10}{theme[2]:>7,}  {theme[3]:>5.0%}  {theme[0]}")
        if first != second:
            for theme in first:
                print(f"  baseline: {theme[1]:<10}{theme[2]:>7,}  {theme[3]:>5.0%}  {theme[0]}")


if __name__ == "__main__":
    main()
