"""The report's statistics against independent references: scipy's bootstrap and hand cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from irnext.report import stats


def _scipy_interval(*samples, statistic):
    return scipy_stats.bootstrap(
        samples,
        statistic,
        paired=len(samples) > 1,
        vectorized=True,
        method="percentile",
        n_resamples=10_000,
        confidence_level=0.95,
        random_state=np.random.default_rng(123),
    ).confidence_interval


def test_one_seed_and_one_image_per_scene_is_scipys_percentile_bootstrap():
    values = np.random.default_rng(3).normal(25.0, 3.0, size=40)
    scenes = [f"photo{i}" for i in np.random.default_rng(4).permutation(40)]
    interval = stats.hierarchical_bootstrap(values, scenes).interval()
    reference = _scipy_interval(values, statistic=lambda a, axis: np.mean(a, axis=axis))
    # Monte-Carlo error of a 2.5 % percentile with 10,000 resamples is ~2 % of the standard
    # error; allow 10 %.
    error = np.std(values, ddof=1) / np.sqrt(40)
    assert interval.low == pytest.approx(reference.low, abs=0.1 * error)
    assert interval.high == pytest.approx(reference.high, abs=0.1 * error)
    assert (interval.count, interval.scenes, interval.seeds) == (40, 40, 1)


def test_paired_difference_of_one_seed_agrees_with_scipys_paired_bootstrap():
    rng = np.random.default_rng(7)
    theirs = rng.normal(25.0, 3.0, size=40)
    ours = theirs + rng.normal(0.3, 0.5, size=40)
    keys = [("synth-rain/test", f"img{i:02d}") for i in range(40)]
    order, differences = stats.paired_differences(
        {0: dict(zip(keys, ours))}, {0: dict(zip(keys[::-1], theirs[::-1]))}
    )
    interval = stats.hierarchical_bootstrap(differences, order).interval()
    reference = _scipy_interval(ours, theirs, statistic=lambda a, b, axis: np.mean(a - b, axis))
    error = np.std(ours - theirs, ddof=1) / np.sqrt(40)
    assert interval.low == pytest.approx(reference.low, abs=0.1 * error)
    assert interval.high == pytest.approx(reference.high, abs=0.1 * error)
    assert interval.mean == pytest.approx(np.mean(ours - theirs))


def test_crops_of_few_photographs_widen_the_interval_past_the_image_level_one():
    # 4 photographs x 8 crops: the photograph moves the score by ~1 dB, a crop by 0.05 dB.
    rng = np.random.default_rng(0)
    offsets = np.array([-1.2, -0.3, 0.4, 1.1])
    values = np.repeat(offsets, 8) + rng.normal(0, 0.05, size=32)
    scenes = np.repeat(["a", "b", "c", "d"], 8)
    two_level = stats.hierarchical_bootstrap(values, scenes).interval()
    naive = stats.bootstrap_mean(values)  # 32 "independent" images
    scene_means = values.reshape(4, 8).mean(axis=1)
    per_scene = _scipy_interval(scene_means, statistic=lambda a, axis: np.mean(a, axis=axis))
    width = two_level.high - two_level.low
    assert width > 2.5 * (naive.high - naive.low)
    # Resampling images within scenes adds to the scene-level spread, never removes it.
    assert width >= 0.9 * (per_scene.high - per_scene.low)
    assert two_level.scenes == 4 and two_level.count == 32


def test_seed_to_seed_variation_widens_the_interval():
    rng = np.random.default_rng(1)
    images = rng.normal(0.5, 0.2, size=24)
    shifts = np.array([-0.6, 0.0, 0.6])  # three training seeds far apart
    over_seeds = stats.hierarchical_bootstrap(images + shifts[:, None], range(24)).interval()
    one_seed = stats.hierarchical_bootstrap(images, range(24)).interval()
    assert over_seeds.mean == pytest.approx(one_seed.mean)
    assert over_seeds.high - over_seeds.low > 2 * (one_seed.high - one_seed.low)
    assert over_seeds.seeds == 3


def test_holm_adjustment_by_hand():
    # Sorted: 0.005 x 4 = 0.02; 0.01 x 3 = 0.03; 0.03 x 2 = 0.06; 0.04 x 1 = 0.04 -> 0.06
    # (adjusted values never decrease along the sorted order).
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])  # capped at 1


def test_probability_of_improvement_by_hand():
    differences = np.array([[2.0, 0.0, -1.0, -1.0], [1.0, 3.0, 0.5, -0.5]])
    # seed 0: scene a +1, scene b -1; seed 1: a +2, b 0 (a tie, half) -> 2.5 / 4
    assert stats.probability_of_improvement(differences, ["a", "a", "b", "b"]) == 0.625


def test_a_family_counts_scenes_images_and_seeds_and_corrects_by_step():
    scenes = ["p1", "p1", "p2", "p2", "p3"]  # 3 photographs, counted by hand
    family = {
        "clear": (np.ones((2, 5)), scenes),
        "noise": (np.array([[0.3, -0.2, 0.1, -0.4, 0.2], [0.1, 0.2, -0.3, 0.0, -0.1]]), scenes),
    }
    found = stats.compare_family(family)
    clear, noise = found["clear"], found["noise"]
    assert (clear.interval.scenes, clear.interval.count, clear.interval.seeds) == (3, 5, 2)
    assert clear.p_value == pytest.approx(2 / 10_001) and clear.resolved
    assert clear.level == pytest.approx(1 - 0.05 / 2)  # the smallest p: first Holm step
    assert noise.level == pytest.approx(0.95) and not noise.resolved
    assert clear.p_holm == pytest.approx(2 * clear.p_value) and clear.family_size == 2
    assert clear.p_improvement == 1.0


def test_pairing_uses_test_set_and_name_and_the_same_seeds():
    ours = {
        0: {("set-a", "x"): 2.0, ("set-a", "y"): 3.0},
        1: {("set-a", "x"): 4.0, ("set-a", "y"): 5.0},
    }
    identity = {None: {("set-a", "y"): 1.0, ("set-a", "x"): 1.0}}
    keys, differences = stats.paired_differences(ours, identity)
    assert keys == [("set-a", "x"), ("set-a", "y")]
    assert differences.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    other_set = {None: {("set-b", "x"): 1.0, ("set-b", "y"): 1.0}}
    with pytest.raises(ValueError, match="same images"):
        stats.paired_differences(ours, other_set)
    # Seeds 0 and 1 against seeds 0 and 2: only seed 0 is paired (seed 0 minus seed 0: zero).
    keys, differences = stats.paired_differences(ours, {0: ours[0], 2: ours[1]})
    assert differences.tolist() == [[0.0, 0.0]]
    with pytest.raises(ValueError, match="seeds"):
        stats.paired_differences(ours, {3: ours[0], 2: ours[1]})


def test_the_interval_is_deterministic_and_depends_on_the_seed():
    values = np.random.default_rng(1).normal(size=30)
    assert stats.bootstrap_mean(values) == stats.bootstrap_mean(values)
    assert stats.bootstrap_mean(values, seed=1) != stats.bootstrap_mean(values, seed=2)


def test_seed_mean_and_spread_by_hand():
    assert stats.mean_std([20.0, 21.0, 22.0]) == (21.0, 1.0)  # sample s.d., ddof=1
    assert stats.mean_std([20.0]) == (20.0, None)


@pytest.mark.parametrize("values", [[], [1.0, float("inf")], [[[1.0, 2.0]]]])
def test_bad_values_are_refused(values):
    with pytest.raises(ValueError):
        stats.hierarchical_bootstrap(values, [0] * len(values))


def test_scene_labels_must_match_the_images():
    with pytest.raises(ValueError, match="2 scene labels for 3 images"):
        stats.hierarchical_bootstrap([1.0, 2.0, 3.0], ["a", "b"])
