"""The report's statistics against independent references: scipy's bootstrap and hand cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from irnext.report import stats
from irnext.report.frames import seed_mean_images


def test_paired_bootstrap_agrees_with_scipy_percentile_bootstrap():
    rng = np.random.default_rng(7)
    theirs = rng.normal(25.0, 3.0, size=40)
    ours = theirs + rng.normal(0.3, 0.5, size=40)
    names = [f"img{i:02d}" for i in range(40)]
    interval = stats.paired_difference(dict(zip(names, ours)), dict(zip(names, theirs)))
    reference = scipy_stats.bootstrap(
        (ours, theirs),
        lambda a, b, axis: np.mean(a - b, axis=axis),
        paired=True,
        vectorized=True,
        method="percentile",
        n_resamples=10_000,
        confidence_level=0.95,
        random_state=np.random.default_rng(123),
    ).confidence_interval
    # Monte-Carlo error of a 2.5 % percentile with 10,000 resamples is ~2 % of the standard
    # error; allow 10 %.
    error = np.std(ours - theirs, ddof=1) / np.sqrt(40)
    assert interval.low == pytest.approx(reference.low, abs=0.1 * error)
    assert interval.high == pytest.approx(reference.high, abs=0.1 * error)
    assert interval.mean == pytest.approx(np.mean(ours - theirs))
    assert interval.count == 40


def test_every_difference_one_gives_one_one_and_is_significant():
    ours = {f"i{k}": 20.0 + k for k in range(12)}
    theirs = {f"i{k}": 19.0 + k for k in range(12)}
    interval = stats.paired_difference(ours, theirs)
    assert (interval.mean, interval.low, interval.high) == pytest.approx((1.0, 1.0, 1.0))
    assert interval.significant


def test_a_symmetric_zero_mean_difference_includes_zero():
    differences = np.array([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0] * 4)
    interval = stats.bootstrap_mean(differences)
    assert interval.mean == 0.0
    assert interval.low < 0 < interval.high
    assert not interval.significant


def test_pairing_is_by_image_name_not_by_order():
    ours = {"b": 5.0, "a": 3.0, "c": 9.0}
    theirs = {"a": 2.0, "c": 8.0, "b": 4.0, "only-theirs": 100.0}
    interval = stats.paired_difference(ours, theirs)
    assert (interval.low, interval.high, interval.count) == (1.0, 1.0, 3)


def test_the_interval_is_deterministic_and_depends_on_the_seed():
    values = np.random.default_rng(1).normal(size=30)
    assert stats.bootstrap_mean(values) == stats.bootstrap_mean(values)
    assert stats.bootstrap_mean(values, seed=1) != stats.bootstrap_mean(values, seed=2)


def test_seed_mean_and_spread_by_hand():
    assert stats.mean_std([20.0, 21.0, 22.0]) == (21.0, 1.0)  # sample s.d., ddof=1
    assert stats.mean_std([20.0]) == (20.0, None)
    runs = [
        {"model": "m", "seed": 0, "per_image": {"a": 10.0, "b": 20.0}},
        {"model": "m", "seed": 1, "per_image": {"a": 12.0, "b": 21.0, "c": 1.0}},
        {"model": "identity", "seed": None, "per_image": {"a": 5.0}},
    ]
    pooled = seed_mean_images(runs)
    assert pooled == {"m": {"a": 11.0, "b": 20.5}, "identity": {"a": 5.0}}  # 'c': one seed only


@pytest.mark.parametrize("values", [[], [1.0, float("inf")], [[1.0, 2.0]]])
def test_bad_values_are_refused(values):
    with pytest.raises(ValueError):
        stats.bootstrap_mean(values)


def test_no_common_image_is_refused():
    with pytest.raises(ValueError, match="no test image"):
        stats.paired_difference({"a": 1.0}, {"b": 1.0})
