"""Uncertainty of the report's comparisons: paired bootstrap intervals and spread over seeds.

Two models scored on the same test images are compared image by image: the per-image
differences are resampled (image indices drawn with replacement) and the 2.5th and 97.5th
percentiles of the resampled means form the 95 % interval (the percentile bootstrap, Efron &
Tibshirani 1993, ch. 13). A difference is called significant only when that interval excludes
zero. The generator's seed is fixed, so the same scores always give the same interval and the
report is deterministic.

Several training seeds: a model's score is the mean over seeds of its per-seed means, with the
sample standard deviation over seeds (ddof=1) as its spread. Its paired difference to another
model is pooled over seeds: per image, each model's score is first averaged over that model's
seeds (the seed-mean score), then the per-image differences of the seed means are bootstrapped
as above. The interval therefore covers image-to-image variation of the seed-averaged model,
not seed-to-seed variation, which the standard deviation reports separately. (The seed means
are taken with pandas' `groupby` where the tables are built: `irnext.report.frames`.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

RESAMPLES = 10_000
SEED = 0
LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    """A mean with its bootstrap interval; `significant` when [low, high] excludes zero."""

    mean: float
    low: float
    high: float
    count: int

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0


def bootstrap_mean(
    values: Sequence[float] | np.ndarray,
    *,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
    seed: int = SEED,
) -> Interval:
    """Percentile bootstrap interval of the mean of `values` (one value per test image)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"need a non-empty 1-D array of per-image values, got {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError("per-image values must be finite (an infinite PSNR has no mean)")
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    # Chunks keep memory at ~8 MB for any test-set size.
    chunk = max(1, 1_000_000 // values.size)
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        indices = rng.integers(0, values.size, size=(stop - start, values.size))
        means[start:stop] = values[indices].mean(axis=1)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(means, [tail, 100 - tail])
    return Interval(float(values.mean()), float(low), float(high), int(values.size))


def paired_difference(ours: Mapping[str, float], theirs: Mapping[str, float], **kwargs) -> Interval:
    """Bootstrap interval of mean(ours[name] - theirs[name]) over the images both score."""
    names = sorted(set(ours) & set(theirs))
    if not names:
        raise ValueError("no test image is scored by both models")
    return bootstrap_mean([ours[n] - theirs[n] for n in names], **kwargs)


def mean_std(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (ddof=1) over seeds; no spread for one seed."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        raise ValueError("no value to average")
    std = float(values.std(ddof=1)) if values.size > 1 else None
    return float(values.mean()), std
