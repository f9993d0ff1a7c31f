"""Published figures with their sources and protocols, and the published-vs-reproduced table
rendered from official-format weight files scored on miniature copies of the real layouts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from irnext.cli import main
from irnext.data import write_image
from irnext.models.registry import create_model
from irnext.report.published import (
    published_vs_reproduced,
    section,
    stratified_interval,
    unpublished_scores,
)

REPO = Path(__file__).resolve().parents[1]
QUALITY = yaml.safe_load((REPO / "benchmarks/published/quality.yaml").read_text())


def _result(block: str, model: str) -> dict:
    return next(r for r in QUALITY[block]["results"] if r["model"] == model)


def test_the_corrected_figures_carry_their_source_and_protocol():
    uformer = _result("gopro", "uformer-b")
    # FFTformer (Kong et al., CVPR 2023), Table 1: Uformer-B 33.06 / 0.967 on GoPro.
    assert (uformer["psnr_db"], uformer["ssim"]) == (33.06, 0.967)
    assert "FFTformer" in uformer["source"] and "32.97" in uformer["note"]
    assert "scikit-image" in uformer["protocol"] and uformer["comparable"] is False
    nafnet = _result("gopro", "nafnet-w64")  # BasicSR Python metrics, with TLC
    assert nafnet["protocol"] == "basicsr_rgb" and "TLC" in nafnet["note"]
    maxim = _result("sots-indoor", "maxim-2s")  # PSNR on unclipped float output
    assert maxim["protocol"] != "dehaze_pooled" and maxim["comparable"] is False
    assert all(
        "protocol" in r and "comparable" in r for e in QUALITY.values() for r in e["results"]
    )
    # Restormer (Zamir et al., CVPR 2022), Table 2, trained on GoPro only: HIDE 31.22 / 0.942,
    # RealBlur-R 36.19 / 0.957, RealBlur-J 28.96 / 0.879; MPRNet in the same table: HIDE
    # 30.96 / 0.939. HIDE with the MATLAB script, RealBlur with RealBlur's aligned evaluation.
    for block, psnr, ssim, protocol in (
        ("hide", 31.22, 0.942, "matlab_rgb3d"),
        ("realblur-r", 36.19, 0.957, "realblur_aligned"),
        ("realblur-j", 28.96, 0.879, "realblur_aligned"),
    ):
        restormer = _result(block, "restormer")
        assert (restormer["psnr_db"], restormer["ssim"], restormer["protocol"]) == (
            psnr,
            ssim,
            protocol,
        )
        assert restormer["release"] == "restormer-motion" and QUALITY[block]["datasets"] == [block]
    mprnet = _result("hide", "mprnet-deblur")
    assert (mprnet["psnr_db"], mprnet["ssim"], mprnet["release"]) == (30.96, 0.939, "mprnet-deblur")
    cost = yaml.safe_load((REPO / "benchmarks/published/cost.yaml").read_text())
    assert "ICML" not in cost["models"]["irnext-dehaze"]["source"]  # its tables were not read


def test_every_release_named_by_a_figure_is_a_pretrained_entry_of_the_paper_profile():
    paper = yaml.safe_load((REPO / "profiles/paper.yaml").read_text())
    for entry in QUALITY.values():
        for result in entry["results"]:
            if "release" in result:
                release = paper["pretrained"][result["release"]]
                tests = release.get("test") or paper["paper"][release["task"]]["test"]
                assert set(entry["datasets"]) <= set(tests)


@pytest.mark.parametrize(
    "block, model, release, psnr, ssim",
    [  # ConvIR README (c-yn/ConvIR@05dcbff), Results: italic = S, bold = B
        ("srrs", "convir-s-desnow", "convir-s-srrs", 32.25, 0.98),
        ("srrs", "convir-b-desnow", "convir-b-srrs", 32.39, 0.98),
        ("snow100k", "convir-s-desnow", "convir-s-snow100k", 33.79, 0.95),
        ("snow100k", "convir-b-desnow", "convir-b-snow100k", 33.92, 0.96),
        ("sots-outdoor", "convir-s-dehaze", "convir-s-ots", 37.95, 0.994),
        ("sots-outdoor", "convir-b-dehaze", "convir-b-ots", 39.42, 0.996),
    ],
)
def test_convir_figures_of_each_released_weights_file(block, model, release, psnr, ssim):
    result = _result(block, model)
    assert (result["psnr_db"], result["ssim"], result["release"]) == (psnr, ssim, release)
    assert result["protocol"] == "dehaze_pooled_release" and "not IRNeXt" in result["note"]


def test_the_stratified_interval_of_one_set_is_the_bootstrap_of_its_mean():
    from scipy.stats import bootstrap

    values = np.random.default_rng(1).normal(30, 2, 40)
    one = bootstrap((values,), np.mean, method="percentile", n_resamples=10_000, random_state=1)
    bounds = (one.confidence_interval.low, one.confidence_interval.high)
    # Two Monte-Carlo estimates of one percentile interval (half-width ~0.6 dB) agree to ~0.02.
    assert stratified_interval([values]) == pytest.approx(bounds, abs=0.03)
    low, high = stratified_interval([values, values + 10])
    assert low < values.mean() + 5 < high  # the mean of the two set means lies inside


def test_the_interval_resamples_scenes_when_images_of_a_scene_are_correlated():
    # 4 scenes of 10 frames each; the frames of a scene share its level (25, 29, 33, 37 dB)
    # and differ by 0.1 dB noise: 40 images, but only 4 independent draws of the level.
    noise = np.random.default_rng(2).normal(0, 0.1, (4, 10))
    values = (np.array([25.0, 29.0, 33.0, 37.0])[:, None] + noise).ravel()
    scenes = [f"scene{i}" for i in range(4) for _ in range(10)]
    image_low, image_high = stratified_interval([values])
    scene_low, scene_high = stratified_interval([values], [scenes])
    # By hand: images as independent, the std of the mean is sd / sqrt(40) = 4.47 / 6.32 = 0.71
    # dB (interval ~ +-1.4); scenes as the unit, sd / sqrt(4) = 2.24 dB (at most 25 .. 37).
    assert image_high - image_low == pytest.approx(2 * 1.96 * values.std() / 40**0.5, rel=0.1)
    assert scene_high - scene_low > 2.5 * (image_high - image_low)
    assert 25 <= scene_low < values.mean() < scene_high <= 37.1


def _write_run(folder: Path, protocol: str, scenes: list[str], psnr: list[float]) -> None:
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps({"protocol": protocol}))
    names = [f"{scene}/{i:03d}.png" for i, scene in enumerate(scenes)]
    frame = pd.DataFrame({"name": names, "test_set": "x/test", "scene": scenes, "group": ""})
    frame.assign(height=64, width=64, psnr_db=psnr, ssim=0.9).to_csv(folder / "per_image.csv")


def test_each_row_states_its_scenes_and_images(tmp_path):
    release = tmp_path / "pretrained" / "rel"
    # GoPro: 5 frames of 2 videos; HIDE: 3 frames of 3 videos: 5 scenes, 8 images by hand.
    gopro = ["GOPR0384_11_00"] * 3 + ["GOPR0410_11_00"] * 2
    _write_run(release / "gopro", "matlab_rgb3d", gopro, [30.0, 31.0, 32.0, 28.0, 29.0])
    _write_run(release / "hide", "matlab_rgb3d", ["GOPR1054.MP4", "a", "b"], [27.0, 28.0, 29.0])
    result = {"model": "m", "psnr_db": 30.0, "release": "rel", "protocol": "matlab_rgb3d"}
    published = {"avg": {"datasets": ["gopro", "hide"], "results": [result]}}
    row = published_vs_reproduced(tmp_path, published).iloc[0]
    assert (row["scenes"], row["images"]) == (5, 8)
    assert row["reproduced (dB)"] == f"{(30.0 + 28.0) / 2:.2f}"  # the mean of the set means


def test_scores_without_a_figure_are_reported_with_their_interval(tmp_path):
    covered, other = tmp_path / "pretrained" / "rel", tmp_path / "pretrained" / "irnext-its"
    _write_run(covered / "gopro", "matlab_rgb3d", ["a", "a", "b"], [30.0, 31.0, 32.0])
    _write_run(covered / "hide", "matlab_rgb3d", ["c", "d"], [27.0, 29.0])  # no figure
    _write_run(other / "sots-indoor-uniform", "dehaze_pooled", ["s"] * 2, [35.0, 36.0])
    result = {"model": "m", "psnr_db": 30.0, "release": "rel"}
    published = {"gopro": {"datasets": ["gopro"], "results": [result]}}
    table = unpublished_scores(tmp_path, published).set_index(["release", "dataset"])
    assert sorted(table.index) == [("irnext-its", "sots-indoor"), ("rel", "hide")]
    hide = table.loc[("rel", "hide")]
    assert (hide["reproduced (dB)"], hide["scenes"], hide["images"]) == ("28.00", 2, 2)
    low, high = (float(x) for x in hide["95 % CI"].strip("[]").split(","))
    assert (low, high) == (27.0, 29.0)  # two one-image scenes: the means of 27 and 29 at most
    one_scene = table.loc[("irnext-its", "sots-indoor")]
    assert one_scene["scored under"] == "dehaze_pooled" and one_scene["scenes"] == 1


def test_a_known_problem_of_a_scored_test_set_is_stated(tmp_path):
    run = tmp_path / "pretrained" / "convir-s-ots" / "sots-outdoor"
    _write_run(run, "dehaze_pooled_release", ["s"], [30.0])
    summary = {"protocol": "dehaze_pooled_release", "dataset": "sots-outdoor",
               "dataset_caveat": "RESIDE OTS contains SOTS-outdoor scenes"}  # fmt: skip
    (run / "summary.json").write_text(json.dumps(summary))
    text = section(tmp_path, {}, lambda frame, name: frame.to_markdown())
    assert "- sots-outdoor: RESIDE OTS contains SOTS-outdoor scenes" in text


def _gopro(root: Path) -> None:
    """GOPRO_Large's test layout in miniature: test/SCENE/blur and test/SCENE/sharp."""
    rng = np.random.default_rng(3)
    for index in range(1, 4):
        sharp = rng.random((64, 64, 3)).astype(np.float32)
        scene = root / "test" / "GOPR0384_11_00"
        write_image(scene / "sharp" / f"{index:06d}.png", sharp)
        write_image(scene / "blur" / f"{index:06d}.png", np.clip(0.8 * sharp + 0.1, 0, 1))


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """NAFNet weights in the official BasicSR format ({'params': state_dict}) scored by the
    paper profile's `nafnet-gopro-w64` entry (TLC, basicsr_rgb and the suite's protocol);
    scored once for the module (the tests only read the results)."""
    tmp_path = tmp_path_factory.mktemp("scored")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        _score(tmp_path)
    return tmp_path


def _score(tmp_path: Path) -> None:
    torch.manual_seed(0)
    (tmp_path / "weights").mkdir()
    state = create_model("nafnet-mini").net.state_dict()
    torch.save({"params": state}, tmp_path / "weights" / "NAFNet-GoPro-width64.pth")
    _gopro(tmp_path / "GoPro")
    roots = {"gopro": str(tmp_path / "GoPro")}
    (tmp_path / "datasets.yaml").write_text(yaml.safe_dump({"datasets": roots}))
    params = yaml.safe_load((REPO / "profiles/paper.yaml").read_text())
    params["paper"]["motion-blur"]["test"] = ["gopro"]
    params["evaluate"]["device"] = "cpu"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    assert main(["bench", "pretrained", "--name", "nafnet-gopro-w64"]) == 0


@pytest.mark.slow  # scores official-format weights (once per module)
def test_published_vs_reproduced_from_official_weights(scored):
    folder = scored / "results/pretrained/nafnet-gopro-w64"
    release = json.loads((folder / "gopro/summary.json").read_text())
    uniform = json.loads((folder / "gopro-uniform/summary.json").read_text())
    assert release["model"].endswith("+tlc") and uniform["model"].endswith("+tlc")
    assert (release["protocol"], uniform["protocol"]) == ("basicsr_rgb", "matlab_rgb3d")
    published = {
        "gopro": {
            "protocol": "matlab_rgb3d",
            "datasets": ["gopro"],
            "results": [
                {
                    "model": "nafnet-w64",
                    "psnr_db": 20.0,
                    "protocol": "basicsr_rgb",
                    "source": "a test",
                    "release": "nafnet-gopro-w64",
                },
            ],  # fmt: skip
        }
    }
    table = published_vs_reproduced(scored / "results", published).set_index("scored under")
    assert list(table.index) == ["basicsr_rgb", "matlab_rgb3d"]
    for protocol, run in (("basicsr_rgb", "gopro"), ("matlab_rgb3d", "gopro-uniform")):
        psnr = pd.read_csv(folder / run / "per_image.csv")["psnr_db"].mean()
        row = table.loc[protocol]
        assert row["reproduced (dB)"] == f"{psnr:.2f}"
        assert row["difference (dB)"] == f"{psnr - 20.0:+.2f}"
        assert row["same protocol"] == ("yes" if protocol == "basicsr_rgb" else "no")
        low, high = (float(x) for x in row["95 % CI"].strip("[]").split(","))
        assert low <= psnr - 20.0 <= high


@pytest.mark.slow  # scores official-format weights (once per module)
def test_an_unscored_test_set_is_named_not_skipped(scored):
    published = {
        "average": {
            "datasets": ["gopro", "hide"],
            "results": [{"model": "m", "psnr_db": 30.0, "release": "nafnet-gopro-w64"}],
        }
    }
    table = published_vs_reproduced(scored / "results", published)
    assert (table["reproduced (dB)"] == "missing: hide").all() and len(table) == 2


@pytest.mark.slow  # scores official-format weights (once per module)
def test_the_report_shows_the_table(scored, tmp_path):
    published = tmp_path / "published"
    published.mkdir()
    quality = {"gopro": {**QUALITY["gopro"], "datasets": ["gopro"]}}
    (published / "quality.yaml").write_text(yaml.safe_dump(quality))
    out = tmp_path / "report.md"
    args = ["--results", str(scored / "results"), "--out", str(out), "--published", str(published)]
    assert main(["report", *args]) == 0
    text = out.read_text()
    assert "## Published vs reproduced (official weights)" in text
    assert "33.69" in text.split("## Published vs reproduced")[1]


@pytest.mark.slow  # scores official-format weights (once per module)
def test_the_report_lists_official_scores_that_no_figure_covers(scored, tmp_path):
    published = tmp_path / "published"
    published.mkdir()
    quality = {"sots-indoor": QUALITY["sots-indoor"]}  # no figure of the NAFNet release
    (published / "quality.yaml").write_text(yaml.safe_dump(quality))
    out = tmp_path / "report.md"
    args = ["--results", str(scored / "results"), "--out", str(out), "--published", str(published)]
    assert main(["report", *args]) == 0
    text = out.read_text().split("Scored without a published figure")[1]
    psnr = pd.read_csv(scored / "results/pretrained/nafnet-gopro-w64/gopro/per_image.csv")
    row = next(line for line in text.splitlines() if "| basicsr_rgb" in line)
    assert "nafnet-gopro-w64" in row and f"{psnr['psnr_db'].mean():.2f}" in row


@pytest.mark.slow  # reads the module's scored weights
def test_the_protocol_effect_is_paired_image_by_image(scored):
    from irnext.report.published import protocol_effects

    folder = scored / "results/pretrained/nafnet-gopro-w64"
    table = protocol_effects(scored / "results").set_index("metric")
    assert list(table.index) == ["psnr_db", "ssim"]
    assert set(table["release"]) == {"nafnet-gopro-w64"} and set(table["dataset"]) == {"gopro"}
    assert set(table["release protocol"]) == {"basicsr_rgb"}
    assert set(table["uniform protocol"]) == {"matlab_rgb3d"}
    own, uniform = (pd.read_csv(folder / r / "per_image.csv") for r in ("gopro", "gopro-uniform"))
    for metric in ("psnr_db", "ssim"):
        by_hand = (own[metric] - uniform[metric]).mean()  # the same images in the same order
        assert table.loc[metric, "difference"] == f"{by_hand:+.4f}"
        assert table.loc[metric, "images"] == 3
    # Both protocols take PSNR on uint8 RGB; their SSIMs differ (3-D volume vs per channel).
    assert table.loc["psnr_db", "difference"] in ("+0.0000", "-0.0000")
    assert table.loc["ssim", "difference"] not in ("+0.0000", "-0.0000")
