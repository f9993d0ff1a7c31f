"""A run says what it needs before it starts: a profile sized for a GPU refuses a machine
without CUDA (unless the user says so), and every row of a study is checked against the
study's recipe and its model before the first variant trains."""

from __future__ import annotations

import pytest
import torch
import yaml

import irnext.ablation as ablation
from irnext.ablation import load_study, run_study
from irnext.cli import main
from irnext.data import open_dataset
from irnext.errors import InputError
from irnext.pipeline.cell import ALLOW_CPU, check_requirements
from irnext.pipeline.profile import load_params
from irnext.pipeline.profile_schema import check_params
from irnext.training import TrainConfig
from tests.reliability._faults import ROOT

GPU_PROFILE = ROOT / "profiles" / "gpu.yaml"


def test_the_gpu_profile_declares_that_it_needs_cuda():
    params = load_params(GPU_PROFILE)
    assert params["requires"] == "cuda"
    assert check_params(params, source=GPU_PROFILE) == []
    for name in ("default", "paper"):  # the others run on a CPU: no requirement
        assert "requires" not in load_params(ROOT / "profiles" / f"{name}.yaml")


def test_an_unknown_requirement_is_named_by_params_check(tmp_path, capsys):
    path = tmp_path / "params.yaml"
    path.write_text(GPU_PROFILE.read_text().replace("requires: cuda", "requires: tpu"))
    assert main(["params", "check", str(path), "--datasets", str(tmp_path / "none.yaml")]) == 2
    assert "requires = 'tpu': 'tpu' is not one of ['cuda']" in capsys.readouterr().err


def test_a_cuda_profile_refuses_a_machine_without_cuda_before_any_work(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv(ALLOW_CPU, raising=False)
    for cell in (["cell", "--task", "haze", "--model", "irnext", "--seed", "0"], ["latency"]):
        assert main(["bench", *cell, "--params", str(GPU_PROFILE)]) == 2
        error = capsys.readouterr().err
        assert f"{GPU_PROFILE}: profile 'gpu' requires: cuda" in error, error
        assert "only the CPU" in error and f"set {ALLOW_CPU}=1" in error
    assert list(tmp_path.iterdir()) == []  # nothing trained, nothing written


def test_the_requirement_is_met_by_cuda_or_overridden_by_the_user(monkeypatch, capsys):
    params = load_params(GPU_PROFILE)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    check_requirements(params, GPU_PROFILE)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv(ALLOW_CPU, "1")
    check_requirements(params, GPU_PROFILE)  # the user's explicit choice, said aloud
    assert f"{ALLOW_CPU}=1: running a profile that requires CUDA on the CPU" in (
        capsys.readouterr().out
    )
    monkeypatch.setenv(ALLOW_CPU, "yes please")  # only the documented value overrides
    with pytest.raises(InputError, match="requires: cuda"):
        check_requirements(params, GPU_PROFILE)


def _study(tmp_path, second):
    path = tmp_path / "s.yaml"
    variants = [{"name": "paper"}, {"name": "bad", **second}]
    study = {"name": "s", "title": "t", "base_model": "irnext-test", "variants": variants}
    path.write_text(yaml.safe_dump(study))
    return path


@pytest.mark.parametrize(
    "second, message",
    [
        # irnext-test: min_size 32 (size_multiple 16 x (LAM pad 1 + 1))
        ({"train": {"patch_size": 16}}, "variant 'bad' .*patch_size 16 does not fit"),
        # pools (8, 4, 2): size_multiple 4 x 8 = 32, min_size 64 > the recipe's 32 px crops
        ({"model_kwargs": {"pool_sizes": [8, 4, 2]}}, "variant 'bad' .*min_size 64"),
    ],
)
def test_every_study_row_is_checked_before_the_first_variant_trains(
    tiny_haze, tmp_path, monkeypatch, second, message
):
    trained = []
    monkeypatch.setattr(ablation, "train", lambda *args, **kwargs: trained.append(args))
    study = load_study(_study(tmp_path, second))  # valid on its own: the recipe decides
    config = TrainConfig(epochs=1, batch_size=2, patch_size=32, num_workers=0)
    train_set = open_dataset("synth-haze", tiny_haze, split="train")
    with pytest.raises(InputError, match=message):
        run_study(study, train_set=train_set, test_set=train_set, config=config)
    assert trained == []


def test_a_study_row_with_a_non_finite_value_is_refused_when_the_study_is_read(tmp_path):
    with pytest.raises(InputError, match="variants\\[1\\].train .*weight_decay must be a finite"):
        load_study(_study(tmp_path, {"train": {"weight_decay": float("nan")}}))


def test_irnext_ablate_names_the_bad_row_and_writes_nothing(tiny_haze, tmp_path, capsys):
    out = tmp_path / "s.json"
    argv = ["ablate", "--study", str(_study(tmp_path, {"train": {"patch_size": 40}}))]
    argv += ["--dataset", "synth-haze", "--root", str(tiny_haze), "--device", "cpu"]
    argv += ["--epochs", "1", "--batch-size", "2", "--patch-size", "32", "--num-workers", "0"]
    assert main([*argv, "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "variant 'bad' (seed 0): patch_size 40 does not fit IRNeXt" in error, error
    assert not out.exists()
