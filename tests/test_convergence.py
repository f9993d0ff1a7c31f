"""The plateau criterion on hand-made curves, and the report's convergence verdicts."""

from __future__ import annotations

import csv
import json

import pytest

from irnext.report import render_report
from irnext.report.convergence import (
    plateau,
    seed_mean_curve,
    training_gmacs_per_step,
)
from tests.test_report_layout import build_results

STEPS = [0, 50, 100, 150, 200]


def test_a_flat_end_has_plateaued():
    # The last quarter of 200 steps starts at 150: 27.95 -> 28.00 is +0.05 dB < 0.1 dB.
    verdict = plateau(STEPS, [10.0, 20.0, 25.0, 27.95, 28.0])
    assert verdict.plateaued is True and verdict.gain_db == pytest.approx(0.05)
    assert (verdict.from_step, verdict.to_step) == (150, 200)
    assert verdict.verdict == "plateaued (+0.05 dB over steps 150-200)"


def test_a_rising_end_is_still_improving():
    verdict = plateau(STEPS, [10.0, 12.0, 14.0, 16.0, 18.0])
    assert verdict.plateaued is False and verdict.gain_db == pytest.approx(2.0)


def test_the_quarter_starts_at_the_last_point_before_it():
    # Points at 0, 90, 180, 240: the last quarter starts at 180 (<= 0.75 x 240 = 180).
    verdict = plateau([0, 90, 180, 240], [5.0, 9.0, 11.0, 11.3])
    assert (verdict.from_step, verdict.plateaued) == (180, False)
    verdict = plateau([0, 100, 170, 240], [5.0, 9.0, 11.0, 11.05])  # 170 <= 180: from 170
    assert (verdict.from_step, verdict.plateaued) == (170, True)


def test_a_falling_end_has_plateaued_and_too_few_points_are_not_measured():
    assert plateau(STEPS, [10.0, 20.0, 25.0, 26.0, 25.5]).plateaued is True
    assert plateau([200], [20.0]).plateaued is None
    assert plateau([190, 200], [20.0, 21.0]).verdict == "not measured"  # none before step 150


def test_seed_mean_curve_averages_common_steps():
    runs = [
        {
            "history": {
                "validations": [
                    {"step": 10, "val_psnr_db": 20.0},
                    {"step": 20, "val_psnr_db": 22.0},
                ]
            }
        },
        {
            "history": {
                "validations": [
                    {"step": 10, "val_psnr_db": 21.0},
                    {"step": 20, "val_psnr_db": 23.0},
                    {"step": 30, "val_psnr_db": 30.0},
                ]
            }
        },
    ]
    assert seed_mean_curve(runs) == ([10, 20], [20.5, 22.5])


def test_training_macs_per_step_by_hand():
    # 2 GMACs at 256 x 256; a 64 px crop is 1/16 of that; batch 4; forward + backward = 3 x.
    history = {"config": {"patch_size": 64, "batch_size": 4}}
    assert training_gmacs_per_step(history, 2.0) == pytest.approx(2.0 / 16 * 4 * 3)


def test_the_report_labels_rankings_of_models_still_improving(tmp_path):
    root = build_results(tmp_path / "results")
    for seed in (0, 1):
        path = root / "train" / "haze" / f"restormer-mini-s{seed}.json"
        history = json.loads(path.read_text())
        history["validations"] = [
            {"step": s, "val_psnr_db": v} for s, v in zip((4, 8, 12), (18.0, 19.0, 20.0 + seed))
        ]
        path.write_text(json.dumps(history))
    text = render_report(root, root / "report.md").read_text()
    haze = text.split("### haze\n", 1)[1].split("### rain\n", 1)[0]
    assert "**At 12 steps, still improving**: `restormer-mini`" in haze
    assert "## Convergence" in text and "figures/validation_curves.png" in text
    # seed mean 20.5 at step 12 minus 19.0 at step 8 (the last point <= 0.75 x 12 = 9)
    assert "still improving (+1.50 dB over steps 8-12)" in text
    with (root / "tables" / "comparisons.csv").open() as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if (r["task"], r["model"]) == ("haze", "restormer-mini")
        ]
    assert rows and all(r["plateau"].startswith("still improving (+1.50 dB") for r in rows)
