"""Ablation studies as data: every shipped study is valid; bad files are refused by name;
running a study trains and scores each variant under one recipe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import irnext
from irnext.ablation import load_study, run_study
from irnext.cli import main
from irnext.data import open_dataset
from irnext.errors import InputError
from irnext.training import TrainConfig

STUDIES = sorted((Path(__file__).resolve().parents[1] / "ablations").glob("*.yaml"))


IRNEXT_DEFAULTS = dict(
    num_res=4, width=32, pool_sizes=(8, 4, 2), filter_groups=8, filter_kernel=3, lam=True
)


def _conv(cin: int, cout: int, k: int, bias: bool = True) -> int:
    return cin * cout * k * k + (cout if bias else 0)


def lam_count(*, width, pool_sizes, filter_groups, filter_kernel, **_) -> int:
    """Parameters of every LAM: per MSM branch, the kernel head (C x G k^2, no bias), its
    BatchNorm (2 G k^2) and W, lambda_l, lambda_h (3 C); one MSM per stage, 6 stages."""
    gk2 = filter_groups * filter_kernel**2
    stages = [width, 2 * width, 4 * width] * 2
    return len(pool_sizes) * sum(c * gk2 + 2 * gk2 + 3 * c for c in stages)


def hand_count(*, num_res, width, pool_sizes, lam, **lam_config) -> int:
    """IRNeXt's parameters from its description (transposed up-sampling, multi-input/output)."""
    w, widths = width, [width, 2 * width, 4 * width]
    total = _conv(3, w, 3) + _conv(w, 2 * w, 3) + _conv(2 * w, 4 * w, 3)  # stem, downs
    for c in widths * 2:  # encoder and decoder stages: residual blocks + one MSM
        total += num_res * 2 * _conv(c, c, 3)
        total += (len(pool_sizes) + 1) * _conv(c, c, 3, bias=False)  # branch convs + fuse
    total += _conv(4 * w, 2 * w, 4) + _conv(2 * w, w, 4)  # transposed 4x4 up-sampling
    total += _conv(4 * w, 2 * w, 1) + _conv(2 * w, w, 1)  # skip fusion 1x1
    total += _conv(w, 3, 3) + _conv(4 * w, 3, 3) + _conv(2 * w, 3, 3)  # tail, side outputs
    for c in widths[1:]:  # SCM (+ affine InstanceNorm) and FAM of the 1/2 and 1/4 inputs
        total += _conv(3, c // 4, 3) + _conv(c // 4, c // 2, 1) + _conv(c // 2, c // 2, 3)
        total += _conv(c // 2, c, 1) + 2 * c + _conv(2 * c, c, 3)
    lam_params = lam_count(width=width, pool_sizes=pool_sizes, **lam_config) if lam else 0
    return total + lam_params


@pytest.mark.parametrize(
    ("num_res", "official"), [(2, 3_905_161), (4, 5_455_241), (16, 14_755_721)]
)
def test_hand_count_equals_the_official_models(num_res, official):
    # Counted by running the authors' IRNeXt (docs/network.md): the formula is the architecture.
    assert hand_count(**{**IRNEXT_DEFAULTS, "num_res": num_res}) == official


def test_studies_are_shipped():
    assert {p.stem for p in STUDIES} >= {"components", "multiscale", "filter", "training", "depth"}


@pytest.mark.parametrize("path", STUDIES, ids=lambda p: p.stem)
def test_every_shipped_study_is_valid(path):
    study = load_study(path)
    assert study.name == path.stem and len(study.variants) >= 2
    for variant in study.variants:  # each variant really builds
        irnext.create_model(study.base_model, **variant.model_kwargs)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "name: x\ntitle: t\nbase_model: irnext-test\nvariants: [{name: a}]\ncolour: red\n",
            r"bad.yaml: unknown keys \['colour'\]",
        ),
        ("name: x\ntitle: t\nvariants: [{name: a}]\n", "missing key 'base_model'"),
        ("name: x\ntitle: t\nbase_model: nope\nvariants: [{name: a}]\n", "unknown model 'nope'"),
        (
            "name: x\ntitle: t\nbase_model: irnext-test\nvariants: [{name: a}, {name: a}]\n",
            "variant names must be unique",
        ),
        (
            "name: x\ntitle: t\nbase_model: irnext-test\nvariants: [{name: a, train: {lr2: 1}}]\n",
            r"variants\[0\].train: unknown keys \['lr2'\]",
        ),
        (
            "name: x\ntitle: t\nbase_model: irnext-test\n"
            "variants: [{name: a, model_kwargs: {pool_sizes: [2, 4]}}]\n",
            r"variants\[0\].model_kwargs .*decreasing",
        ),
        (
            "name: x\ntitle: t\nbase_model: irnext-test\n"
            "variants: [{name: a, model_kwargs: {colour: 1}}]\n",
            r"variants\[0\].model_kwargs .*colour",
        ),
        ("- just a list\n", "expected a YAML mapping"),
        ("name: x\ntitle: [unclosed\n", "bad.yaml: not valid YAML"),
        (
            "name: x\ntitle: t\nbase_model: irnext-test\n"
            "variants: [{name: a, model_kwargs: [lam, false]}]\n",
            r"variants\[0\].model_kwargs: expected a mapping",
        ),
        (
            "name: x\ntitle: t\nbase_model: irnext-test\n"
            "variants: [{name: a, train: {batch_size: 1}}]\n",
            r"variants\[0\].train \{'batch_size': 1\}: batch_size 1 x 1 process\(es\) does "
            r"not fit IRNeXt: its BatchNorm layers",
        ),
        (
            "name: x\ntitle: t\nbase_model: irnext-test\n"
            "variants: [{name: a, train: {fft_weight: abc}}]\n",
            r"variants\[0\].train \{'fft_weight': 'abc'\}",
        ),
        (
            "name: x\ntitle: t\nbase_model: irnext-test\n"
            "variants: [{name: a, model_kwargs: {filter_groups: 0}}]\n",
            r"variants\[0\].model_kwargs \{'filter_groups': 0\}",
        ),
    ],
)
def test_bad_study_files_name_the_file_and_key(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_study(path)


def test_a_study_is_checked_against_the_base_model_it_will_run_on():
    study = next(p for p in STUDIES if p.stem == "components")
    load_study(study)  # valid for its own base model
    with pytest.raises(InputError, match=r"variants\[\d\].model_kwargs .*lam"):
        load_study(study, base_model="dehazeformer-t")  # which has no IRNeXt switches


def test_run_study_trains_and_scores_each_variant_once_per_seed(tiny_haze, tmp_path):
    path = tmp_path / "mini.yaml"
    path.write_text(
        "name: mini\ntitle: mini\nbase_model: irnext-test\nvariants:\n"
        "  - {name: paper}\n  - {name: no-lam, model_kwargs: {lam: false}}\n"
        "  - {name: no-fft, train: {fft_weight: 0.0}}\n"
    )
    config = TrainConfig(epochs=1, batch_size=2, patch_size=32, warmup_epochs=0, num_workers=0)
    result, timings = run_study(
        load_study(path),
        train_set=open_dataset("synth-haze", tiny_haze, split="train"),
        test_set=open_dataset("synth-haze", tiny_haze, split="test"),
        config=config,
        seeds=(0, 1),
    )
    rows = {row["variant"]: row for row in result["variants"]}
    assert list(rows) == ["paper", "no-lam", "no-fft"]
    config = {**IRNEXT_DEFAULTS, **irnext.model_entry("irnext-test").kwargs}
    assert rows["paper"]["params"] == hand_count(**config) == rows["no-fft"]["params"]
    assert rows["no-lam"]["params"] == hand_count(**{**config, "lam": False})
    assert rows["paper"]["params"] - rows["no-lam"]["params"] == lam_count(**config)
    assert rows["no-lam"]["gmacs_256"] < rows["paper"]["gmacs_256"]
    assert result["seeds"] == [0, 1]
    for row in rows.values():
        assert [run["seed"] for run in row["per_seed"]] == [0, 1]
        for run in row["per_seed"]:
            assert 0 < run["ssim"] <= 1 and run["psnr_db"] > 5 and len(run["loss_curve"]) == 1
            for metric in ("psnr_db", "ssim"):
                per_image = run[f"{metric}_per_image"]
                assert set(per_image) == {"000", "001"}  # the test split's image names
                assert sum(per_image.values()) / 2 == pytest.approx(run[metric])
        # Two seeds are two initialisations: the same scores would mean the seed was ignored.
        assert row["per_seed"][0]["psnr_db"] != row["per_seed"][1]["psnr_db"]
    assert result["protocol"] == "dehaze_pooled"
    assert "environment" not in result  # the result holds scores only; timings apart
    assert timings["environment"]["torch"] == torch.__version__
    assert set(timings["train_seconds"]) == {f"{v}/s{s}" for v in rows for s in (0, 1)}


def test_run_study_refuses_repeated_seeds(tiny_haze):
    study = load_study(STUDIES[0])
    data = open_dataset("synth-haze", tiny_haze, split="train")
    with pytest.raises(InputError, match="distinct seeds"):
        run_study(study, train_set=data, test_set=data, config=TrainConfig(), seeds=(0, 0))


def test_ablate_cli_writes_the_result(tiny_haze, tmp_path):
    path = tmp_path / "one.yaml"
    path.write_text("name: one\ntitle: one\nbase_model: irnext-test\nvariants: [{name: a}]\n")
    out = tmp_path / "one.json"
    argv = [
        "ablate",
        "--study",
        str(path),
        "--dataset",
        "synth-haze",
        "--root",
        str(tiny_haze),
        "--epochs",
        "1",
        "--batch-size",
        "2",
        "--patch-size",
        "32",
        "--num-workers",
        "0",
        "--device",
        "cpu",
        "--out",
        str(out),
    ]
    assert main([*argv, "--seeds", "3"]) == 0
    result = json.loads(out.read_text())
    assert result["variants"][0]["variant"] == "a" and result["seeds"] == [3]
    assert json.loads(out.with_suffix(".run.json").read_text())["train_seconds"]["a/s3"] > 0
