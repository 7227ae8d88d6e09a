"""Time to score clothing reviews with each sentiment method, measured in the same run.

    python benchmarks/sentiment_bench.py [--reviews N] [--seed S]

Scores ``--reviews`` texts (default all 23,486 rows; the 845 without a text count as empty and cost nothing) drawn
from ``datasets/reviews`` with a seeded sample, once per method, after one warm-up call that loads the model. Prints
per method the seconds, texts per second, the time projected for all 23,486 rows and the ratio to ``tfidf-logreg``,
plus the CPU count and load average, which decide the embedding time on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas as pd

from shoplens.voice import analyse_sentiment_with, load_sentence_encoder, sentiment_method

REPO = Path(__file__).resolve().parents[1]
REVIEWS = REPO / "datasets" / "reviews" / "womens_clothing_ecommerce_reviews.csv.gz"
ALL_ROWS = 23_486


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reviews", type=int, default=ALL_ROWS, help="how many review rows to score")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    frame = pd.read_csv(REVIEWS)
    chosen = frame.sample(min(args.reviews, len(frame)), random_state=args.seed)
    texts = [t if isinstance(t, str) else "" for t in chosen["Review Text"]]
    names = ["vader", "tfidf-logreg"] + (["embedding-logreg"] if load_sentence_encoder() is not None else [])
    print(f"{len(texts):,} review rows; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at start")
    seconds = {}
    for name in names:
        method = sentiment_method(name)
        analyse_sentiment_with(["warm-up text"], method)
        start = time.perf_counter()
        analyse_sentiment_with(texts, method)
        seconds[name] = time.perf_counter() - start
    print(f"{'method':<18}{'seconds':>10}{'texts/s':>10}{'all rows, s':>13}{'× tfidf':>9}")
    for name, taken in seconds.items():
        rate = len(texts) / taken
        print(f"{name:<18}{taken:>10.1f}{rate:>10.0f}{ALL_ROWS / rate:>13.1f}{taken / seconds['tfidf-logreg']:>9.1f}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
