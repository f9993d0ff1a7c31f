"""Uncertainty of the report's comparisons: a two-level bootstrap over seeds and scenes.

The test images of a task are not independent: the synthetic benchmark's pairs are crops of a
few held-out photographs, GoPro's frames come from a few videos (`irnext.data.scenes`), and a
trained model's score also moves with its training seed. Every interval here is therefore a
hierarchical bootstrap (Davison & Hinkley 1997, sec. 3.8, the two-stage resampling of
clustered data): each resample draws the seeds with replacement, independently the scenes with
replacement, and within every drawn scene its images with replacement; the statistic is the mean
over all drawn (seed, image) scores. Seeds and scenes are crossed, not nested: the same image
draw is used for every drawn seed. The 2.5th and 97.5th percentiles of the resampled means form
the 95 % interval (the percentile bootstrap, Efron & Tibshirani 1993, ch. 13). With one seed
and one image per scene this is the ordinary bootstrap of the mean over images.

A paired difference subtracts, image by image, the other model's score of the same image of the
same test set (keys are (test set, image name), never a name alone) and of the same seed (the
same seed gives both models the same data order and crops); a reference with a single unseeded
run (the identity) is subtracted from every seed. Its two-sided p-value is the bootstrap one,
the smallest 1 - level whose percentile interval excludes zero. The comparisons of one family
(every model against IRNeXt within a task) are corrected together by Holm's step-down method
(Holm 1979); a difference is "resolved" only when its Holm-adjusted p-value is below alpha and
its interval at the Holm level of its step excludes zero. The probability of improvement
(Agarwal et al. 2021, `rliable`) is the share of (seed, scene) cells in which the model's mean
over the scene's images beats the reference (ties count half). Generators are seeded, so the
same scores always give the same numbers and the report is deterministic.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

RESAMPLES = 10_000
SEED = 0
LEVEL = 0.95
ALPHA = 1 - LEVEL
_CHUNK_VALUES = 1_000_000  # resampled weights held at once (~8 MB), for any test-set size


@dataclass(frozen=True)
class Interval:
    """A mean with its bootstrap interval and what it rests on; `significant` when [low, high]
    excludes zero."""

    mean: float
    low: float
    high: float
    count: int  # images
    scenes: int | None = None
    seeds: int | None = None

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0


@dataclass(frozen=True)
class Bootstrap:
    """The resampled means of a two-level bootstrap, with the estimate and its sample sizes."""

    mean: float
    images: int
    scenes: int
    seeds: int
    draws: np.ndarray = field(repr=False, compare=False)

    def interval(self, level: float = LEVEL) -> Interval:
        tail = 100 * (1 - level) / 2
        low, high = np.percentile(self.draws, [tail, 100 - tail])
        return Interval(self.mean, float(low), float(high), self.images, self.scenes, self.seeds)

    @property
    def p_value(self) -> float:
        """Two-sided bootstrap p-value of a zero mean ((count + 1) / (resamples + 1), so never
        zero from a finite number of resamples)."""
        below = (np.count_nonzero(self.draws <= 0) + 1) / (self.draws.size + 1)
        above = (np.count_nonzero(self.draws >= 0) + 1) / (self.draws.size + 1)
        return float(min(1.0, 2 * min(below, above)))


def hierarchical_bootstrap(
    values: Sequence[float] | np.ndarray,
    scenes: Sequence[Hashable],
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> Bootstrap:
    """Two-level bootstrap of the mean of `values` (seeds x images, or one row of images),
    whose images show `scenes` (one label per image column)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[None] if values.ndim == 1 else values
    if values.ndim != 2 or values.size == 0:
        raise ValueError(f"need a non-empty seeds x images array of scores, got {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError("per-image values must be finite (an infinite PSNR has no mean)")
    if len(scenes) != values.shape[1]:
        raise ValueError(f"{len(scenes)} scene labels for {values.shape[1]} images")
    _, codes = np.unique(np.asarray([str(s) for s in scenes]), return_inverse=True)
    members = [np.flatnonzero(codes == c) for c in range(codes.max() + 1)]
    rng = np.random.default_rng(seed)
    draws = np.empty(resamples)
    chunk = max(1, _CHUNK_VALUES // values.shape[1])
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        draws[start:stop] = _resampled_means(values, members, stop - start, rng)
    return Bootstrap(float(values.mean()), values.shape[1], len(members), len(values), draws)


def _resampled_means(values, members, count, rng) -> np.ndarray:
    """`count` means of (seed draws) x (scene draws, then image draws within each scene)."""
    n_seeds, n_images = values.shape
    seed_counts = rng.multinomial(n_seeds, np.full(n_seeds, 1 / n_seeds), size=count)
    scene_counts = rng.multinomial(len(members), np.full(len(members), 1 / len(members)), count)
    weights = np.zeros((count, n_images))
    for scene, images in enumerate(members):
        # A scene drawn k times contributes k draws of its m images: multinomial(k * m).
        uniform = np.full(images.size, 1 / images.size)
        weights[:, images] = rng.multinomial(scene_counts[:, scene] * images.size, uniform)
    per_image = seed_counts @ values  # each image's score summed over the drawn seeds
    return (per_image * weights).sum(axis=1) / (n_seeds * weights.sum(axis=1))


def bootstrap_mean(values: Sequence[float] | np.ndarray, **kwargs) -> Interval:
    """Percentile bootstrap interval of the mean of independent values (each its own scene)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"need a 1-D array of values, got {values.shape}")
    return hierarchical_bootstrap(values, range(values.size), **kwargs).interval()


Runs = Mapping[int | None, Mapping[Hashable, float]]  # seed -> {image key: score}


def paired_differences(ours: Runs, theirs: Runs) -> tuple[list[Hashable], np.ndarray]:
    """(image keys, seeds x images array of ours - theirs), paired as the module says.

    Every run of both models must score exactly the same image keys; the seeds both models
    trained are paired (the count of seeds says how many), or `theirs` is a single run
    subtracted from every seed of `ours`.
    """
    if not ours or not theirs:
        raise ValueError("a paired difference needs at least one run of each model")
    keys = sorted(next(iter(ours.values())), key=str)
    for side, runs in (("ours", ours), ("theirs", theirs)):
        for seed, scores in runs.items():
            if set(scores) != set(keys):
                extra, lack = (
                    sorted(set(scores) - set(keys), key=str),
                    sorted(set(keys) - set(scores), key=str),
                )
                raise ValueError(
                    f"{side}, seed {seed}: scores other images than the first run of ours "
                    f"(extra {extra[:3]}, missing {lack[:3]}); pairs must be the same images"
                )
    common = sorted(set(ours) & set(theirs), key=str)
    if len(theirs) == 1:
        reference = next(iter(theirs.values()))
        pairs = [(ours[s], reference) for s in ours]
    elif common:  # a seed one model lacks (a missing cell) is left out of the pairing
        pairs = [(ours[s], theirs[s]) for s in common]
    else:
        raise ValueError(f"seeds {sorted(ours, key=str)} and {sorted(theirs, key=str)} differ")
    return keys, np.array([[a[k] - b[k] for k in keys] for a, b in pairs])


def probability_of_improvement(differences: np.ndarray, scenes: Sequence[Hashable]) -> float:
    """Share of (seed, scene) cells whose mean difference over the scene's images is positive
    (a tie counts half)."""
    differences = np.atleast_2d(np.asarray(differences, dtype=np.float64))
    labels = np.asarray([str(s) for s in scenes])
    cells = np.stack([differences[:, labels == s].mean(axis=1) for s in np.unique(labels)], 1)
    return float(np.mean((cells > 0) + 0.5 * (cells == 0)))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values: the k-th smallest (k = 0, 1, ...) of m is multiplied
    by m - k, capped at 1, and made non-decreasing in that order."""
    p = np.asarray(p_values, dtype=np.float64)
    adjusted = np.empty_like(p)
    running = 0.0
    for rank, index in enumerate(np.argsort(p, kind="stable")):
        running = max(running, min(1.0, (p.size - rank) * p[index]))
        adjusted[index] = running
    return adjusted.tolist()


@dataclass(frozen=True)
class Comparison:
    """One corrected comparison of a family: the interval is at the Holm level of its step."""

    interval: Interval
    level: float
    p_value: float
    p_holm: float
    resolved: bool
    p_improvement: float
    family_size: int


def compare_family(
    differences: Mapping[str, tuple[np.ndarray, Sequence[Hashable]]], *, alpha: float = ALPHA
) -> dict[str, Comparison]:
    """Each named (seeds x images differences, scenes) bootstrapped and Holm-corrected with the
    others of the family."""
    boots = {name: hierarchical_bootstrap(d, s) for name, (d, s) in differences.items()}
    names = list(boots)
    adjusted = holm([boots[n].p_value for n in names])
    order = np.argsort([boots[n].p_value for n in names], kind="stable")
    ranks = {names[i]: r for r, i in enumerate(order)}
    found = {}
    for name, p_holm in zip(names, adjusted, strict=True):
        level = 1 - alpha / (len(names) - ranks[name])
        interval = boots[name].interval(level)
        found[name] = Comparison(
            interval=interval,
            level=level,
            p_value=boots[name].p_value,
            p_holm=p_holm,
            resolved=p_holm < alpha and interval.significant,
            p_improvement=probability_of_improvement(*differences[name]),
            family_size=len(names),
        )
    return found


def mean_std(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (ddof=1) over seeds; no spread for one seed."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        raise ValueError("no value to average")
    std = float(values.std(ddof=1)) if values.size > 1 else None
    return float(values.mean()), std
