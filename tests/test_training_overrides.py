"""Ablation overrides reach what they override: a variant's `model_kwargs` the model that is
trained, its `train` values the TrainConfig that `train()` receives (the rest unchanged)."""

from __future__ import annotations

import dataclasses

import irnext.ablation as ablation
from irnext.data import open_dataset
from irnext.models.blocks import DynamicFilter
from irnext.training import TrainConfig

STUDY = """\
name: overrides
title: Do the overrides arrive?
base_model: irnext-test
variants:
  - {name: paper}
  - {name: no-lam, model_kwargs: {lam: false}}
  - {name: no-fft, train: {fft_weight: 0.0, grad_clip: 0.01, betas: [0.8, 0.99]}}
"""


def test_variant_overrides_reach_the_model_and_the_training_config(
    tiny_haze, tmp_path, monkeypatch
):
    received = {}

    def spy_train(model, train_set, config, **kwargs):  # what run_study hands to train()
        received[len(received)] = (model, config)
        return [{"loss": 1.0}]

    def fake_scores(model, dataset, **kwargs):
        row = {"name": "x", "scene": "x", "psnr_db": 20.0, "ssim": 0.5}
        return [row], {"means": {"psnr_db": 20.0, "ssim": 0.5}}

    monkeypatch.setattr(ablation, "train", spy_train)
    monkeypatch.setattr(ablation, "evaluate", fake_scores)
    monkeypatch.setattr(ablation, "count_macs", lambda *a, **k: {"params": 1, "macs_torch": 0})
    path = tmp_path / "study.yaml"
    path.write_text(STUDY)
    base = TrainConfig(epochs=2, batch_size=2, patch_size=32, num_workers=0, seed=0)
    dataset = open_dataset("synth-haze", tiny_haze, split="train")
    ablation.run_study(ablation.load_study(path), train_set=dataset, test_set=dataset, config=base)
    (paper, paper_config), (no_lam, no_lam_config), (_, no_fft_config) = received.values()
    assert any(isinstance(m, DynamicFilter) for m in paper.modules())
    assert not any(isinstance(m, DynamicFilter) for m in no_lam.modules())
    assert no_lam.config["lam"] is False and paper.config["lam"] is True
    assert paper_config == no_lam_config == base
    wanted = dataclasses.replace(base, fft_weight=0.0, grad_clip=0.01, betas=(0.8, 0.99))
    assert no_fft_config == wanted
