"""Vectorised random draws the generator is built from: weighted choices, one per row or within groups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def _categorical(rng: np.random.Generator, weights: Sequence[float] | FloatArray, size: int) -> IntArray:
    """Indices drawn with the given (unnormalised) weights."""
    cumulative = np.cumsum(np.asarray(weights, dtype=np.float64))
    drawn: IntArray = np.searchsorted(cumulative, rng.random(size) * cumulative[-1], side="right")
    return np.minimum(drawn, len(cumulative) - 1)


def _categorical_rows(rng: np.random.Generator, weights: FloatArray) -> IntArray:
    """One index per row of a (rows, choices) weight matrix."""
    cumulative = np.cumsum(weights, axis=1)
    drawn = rng.random(len(weights)) * cumulative[:, -1]
    chosen: IntArray = np.minimum((drawn[:, None] >= cumulative).sum(axis=1), weights.shape[1] - 1)
    return chosen


@dataclass(frozen=True)
class _GroupedChoice:
    """Weighted choice of an item within its group (items sorted by group), vectorised over many groups."""

    keys: FloatArray  # group + cumulative share of the item within its group
    offsets: IntArray  # first item of each group, and the item count at the end

    @classmethod
    def build(cls, groups: IntArray, weights: FloatArray, group_count: int) -> _GroupedChoice:
        offsets = np.searchsorted(groups, np.arange(group_count + 1)).astype(np.int64)
        within = np.empty(len(weights), dtype=np.float64)
        for group in range(group_count):
            first, stop = offsets[group], offsets[group + 1]
            share = np.cumsum(weights[first:stop]) / weights[first:stop].sum()
            share[-1] = 1.0
            within[first:stop] = share
        return cls(groups.astype(np.float64) + within, offsets)

    def sample(self, rng: np.random.Generator, groups: IntArray) -> IntArray:
        drawn = np.searchsorted(self.keys, groups + rng.random(len(groups)), side="right")
        return np.clip(drawn, self.offsets[groups], self.offsets[groups + 1] - 1).astype(np.int64)


def _group_starts(counts: IntArray) -> IntArray:
    return (np.cumsum(counts) - counts).astype(np.int64)
