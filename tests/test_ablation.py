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


def test_studies_are_shipped():
    assert {p.stem for p in STUDIES} >= {"components", "multiscale", "filter", "training"}


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
            r"variants\[0\].train \{'batch_size': 1\}: batch_size must be >= 2",
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


def test_run_study_trains_and_scores_each_variant(tiny_haze, tmp_path):
    path = tmp_path / "mini.yaml"
    path.write_text(
        "name: mini\ntitle: mini\nbase_model: irnext-test\nvariants:\n"
        "  - {name: paper}\n  - {name: no-lam, model_kwargs: {lam: false}}\n"
        "  - {name: no-fft, train: {fft_weight: 0.0}}\n"
    )
    config = TrainConfig(epochs=1, batch_size=2, patch_size=32, warmup_epochs=0, num_workers=0)
    result = run_study(
        load_study(path),
        train_set=open_dataset("synth-haze", tiny_haze, split="train"),
        test_set=open_dataset("synth-haze", tiny_haze, split="test"),
        config=config,
    )
    rows = {row["variant"]: row for row in result["variants"]}
    assert list(rows) == ["paper", "no-lam", "no-fft"]
    expected = {
        name: sum(p.numel() for p in irnext.create_model("irnext-test", **kw).parameters())
        for name, kw in (("paper", {}), ("no-lam", {"lam": False}))
    }
    assert rows["paper"]["params"] == expected["paper"] == rows["no-fft"]["params"]
    assert rows["no-lam"]["params"] == expected["no-lam"]
    assert rows["no-lam"]["gmacs_256"] < rows["paper"]["gmacs_256"]
    for row in rows.values():
        assert 0 < row["ssim"] <= 1 and row["psnr_db"] > 5 and len(row["loss_curve"]) == 1
        per_image = row["psnr_db_per_image"]
        assert set(per_image) == {"000", "001"}  # the test split's image names
        assert sum(per_image.values()) / 2 == pytest.approx(row["psnr_db"])
    assert result["protocol"] == "dehaze_pooled"
    assert result["environment"]["torch"] == torch.__version__


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
    assert main(argv) == 0
    assert json.loads(out.read_text())["variants"][0]["variant"] == "a"
