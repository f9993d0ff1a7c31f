"""The report's numbers as data and its figures' honesty: comparisons.csv, CSV twins, SSIM
notes and PSNR axes (hand-computed on the miniature tree of test_report_layout)."""

from __future__ import annotations

import csv

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from irnext.report import figures, render_report
from irnext.report.compare import CSV_COLUMNS
from irnext.report.frames import ssim_disagreements
from tests.test_report_layout import build_results


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = build_results(tmp_path_factory.mktemp("tables") / "results")
    return root, render_report(root, root / "report.md").read_text()


def _comparisons(root):
    with (root / "tables" / "comparisons.csv").open() as handle:
        return list(csv.DictReader(handle))


def test_comparisons_csv_holds_every_comparison_with_its_numbers(rendered):
    root, _ = rendered
    rows = _comparisons(root)
    assert tuple(rows[0]) == CSV_COLUMNS
    # Per task: 2 baselines vs irnext-mini, 3 models vs identity; the depth study: 1.
    assert len(rows) == 2 * (2 + 3) + 1
    row = next(
        r
        for r in rows
        if (r["task"], r["model"], r["reference"]) == ("haze", "irnext-mini", "identity")
    )
    # irnext-mini minus identity: +3 on every image of seed 0, +4 of seed 1 (fixture).
    assert float(row["mean_difference_db"]) == 3.5
    assert (float(row["low_db"]), float(row["high_db"])) == (3.0, 4.0)
    # 6 images, two crops of each of 3 photographs, 2 seeds; 3 epochs of 4 steps
    assert (row["scenes"], row["images"], row["seeds"], row["budget_steps"]) == (
        "3",
        "6",
        "2",
        "12",
    )
    assert row["resolved"] == "True" and row["p_improvement"] == "1.0"
    assert row["family_size"] == "3" and row["plateau"] == "not measured"
    # The smallest p of 3 is the first Holm step: its interval is at 1 - 0.05 / 3.
    assert float(row["interval_level"]) == pytest.approx(1 - 0.05 / 3, abs=1e-6)
    ablation = next(r for r in rows if r["task"] == "ablation depth")
    assert (ablation["model"], ablation["reference"]) == ("num-res-1", "num-res-2")
    assert float(ablation["mean_difference_db"]) == -0.5 and ablation["p_improvement"] == "0.0"


def test_every_table_has_a_csv_twin_with_the_same_cells(rendered):
    root, text = rendered
    lines = set(text.splitlines())
    for tex in sorted((root / "tables").glob("*.tex")):
        table = pd.read_csv(tex.with_suffix(".csv"), dtype=str, keep_default_na=False)
        assert len(table) >= 1, tex.stem
        for row in table.itertuples(index=False):
            cells = [str(v).replace("|", "\\|") for v in row]
            assert "| " + " | ".join(cells) + " |" in lines, (tex.stem, row)
    quality = pd.read_csv(root / "tables" / "quality_haze.csv", dtype=str)
    assert "P(better than irnext-mini)" in quality.columns
    assert set(quality["model"]) == {"identity", "irnext-mini", "restormer-mini", "nafnet-mini"}


def test_each_task_states_its_scenes_images_and_seeds_and_the_family(rendered):
    _, text = rendered
    assert "6 images of 3 scenes, 2 seed(s) per trained model" in text
    assert "Holm-corrected within the task" in text
    assert "on 6 test images of 3 scenes" in text  # the ablation study


def test_ssim_disagreement_by_hand():
    scores = pd.DataFrame(
        {"psnr": [20.0, 23.0, 22.0], "ssim": [0.80, 0.85, 0.78]},
        index=["identity", "irnext-mini", "nafnet-mini"],
    )
    notes = ssim_disagreements(scores, ["identity", "irnext-mini"])
    # nafnet-mini: +2 dB over the input but -0.02 SSIM; vs irnext-mini both lower: agree.
    assert notes == [
        "`nafnet-mini` is above `identity` in PSNR (+2.00 dB) but below it in SSIM (-0.0200)"
    ]


def test_a_tiny_psnr_spread_does_not_fill_the_axis(monkeypatch):
    kept = {}
    monkeypatch.setattr(figures, "save", lambda fig, path: kept.setdefault("fig", fig) and path)
    points = [
        {"model": "a", "psnr": 25.00, "gmacs": 1.0, "params": 10, "std": None},
        {"model": "b", "psnr": 25.03, "gmacs": 2.0, "params": 20, "std": None},
    ]
    figures.psnr_vs_macs(points, "t", None)
    low, high = kept.pop("fig").axes[0].get_ylim()
    assert high - low >= 1.0 and low < 25.0 and high > 25.03
    rows = [
        {"variant": "ref", "psnr": 25.00, "std": 0.01, "params": 1e5},
        {"variant": "x", "psnr": 25.02, "std": None, "params": 2e5},
    ]
    figures.ablation_points(rows, "t", "PSNR (dB)", None)
    ax = kept["fig"].axes[0]
    low, high = ax.get_xlim()
    assert high - low >= 1.0
    assert not ax.patches  # points, not bars drawn from a cut axis
    plt.close("all")


def test_several_visual_images_each_get_their_grid(tmp_path):
    import json

    import numpy as np
    from PIL import Image

    root = build_results(tmp_path / "results")
    folder = root / "visual" / "haze"
    rng = np.random.default_rng(0)
    for prefix in ("0_", "1_"):
        for name in ("input", "target", "irnext-mini", "restormer-mini", "nafnet-mini"):
            pixels = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{prefix}{name}.png")
    images = [{"image": "img3", "prefix": "0_", "crop": [0, 0, 16]},
              {"image": "img1", "prefix": "1_", "crop": [8, 8, 16]}]  # fmt: skip
    spec = {"models": ["irnext-mini", "restormer-mini", "nafnet-mini"], "seed": 0}
    (folder / "visual.json").write_text(json.dumps({**spec, "images": images}))
    text = render_report(root, root / "report.md").read_text()
    assert "the window where the models' outputs differ most" in text
    for number, name in enumerate(("img3", "img1")):
        assert f"![visual comparison, haze, {name}](figures/visual_haze_{number}.png)" in text
        assert (root / "figures" / f"visual_haze_{number}.png").stat().st_size > 1000
