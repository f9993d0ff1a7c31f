"""Each model's own recipe against the numbers of its source, copied by hand from the official
repositories (file and lines cited beside each), and the loss terms the recipes add."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from irnext.cli import main
from irnext.losses import charbonnier_loss, multiscale_loss, psnr_loss
from irnext.training.recipe_table import OWN
from irnext.training.recipes import RecipeRefused, own_recipe, train_config

# swz30/Restormer Motion_Deblurring/Options/Deblurring_Restormer.yml (and the Deraining and
# Defocus_Deblurring option files, identical on these keys): num_gpu 8, mini_batch_sizes
# [8,5,4,2,1,1], gt_sizes [128..384], AdamW lr 3e-4, weight_decay 1e-4, betas [0.9, 0.999],
# eta_mins [0.0003, 0.000001], total_iter 300000, L1Loss; clip 0.01 in
# basicsr/models/image_restoration_model.py:167.
RESTORMER = {"lr": 3e-4, "weight_decay": 1e-4, "betas": (0.9, 0.999), "iterations": 300_000}
# megvii-research/NAFNet options/train/GoPro/NAFNet-width64.yml: gt_size 256, 8 GPUs x 8,
# AdamW lr 1e-3, weight_decay 1e-3, betas [0.9, 0.9], eta_min 1e-7, total_iter 400000, PSNRLoss.
NAFNET = {"lr": 1e-3, "weight_decay": 1e-3, "betas": (0.9, 0.9), "lr_min": 1e-7}
# kkkls/FFTformer options/train/GoPro.yml: gt_size 128, 8 GPUs x 8, AdamW lr 1e-3,
# weight_decay 1e-3, betas [0.9, 0.9], eta_min 1e-7, L1 + FFTLoss loss_weight 0.1.
FFTFORMER = {"lr": 1e-3, "weight_decay": 1e-3, "betas": (0.9, 0.9), "fft_weight": 0.1}
# ZhendongWang6/Uformer script/train_motiondeblur.sh: --batch_size 8 --gpu '0,1' --train_ps 256
# --nepoch 3000 --warmup; options.py: adamw, lr_initial 0.0002, weight_decay 0.02,
# warmup_epochs 3; train_motiondeblur.py: eta_min 1e-6, CharbonnierLoss (eps 1e-3), and
# (:167, :181-185) torch.cuda.amp.autocast() with timm's NativeScaler: fp16 with loss scaling.
UFORMER = {"lr": 2e-4, "weight_decay": 0.02, "epochs": 3000, "warmup_epochs": 3}


@pytest.mark.parametrize("name", ["restormer-gopro", "restormer-rain13k", "restormer-dpdd"])
def test_restormer_recipes_match_the_option_files(name):
    entry = OWN[name]
    assert entry.status == "official" and entry.gpus == 8 and entry.global_batch == 8 * 8
    assert {k: entry.config[k] for k in RESTORMER} == RESTORMER
    assert entry.config["optimizer"] == "adamw" and entry.config["grad_clip"] == 0.01
    assert entry.config["patch_size"] == 128  # the first of the progressive sizes
    assert "8/5/4/2/1/1" in entry.published["crop"] and "300k" in entry.published["length"]
    assert entry.config["restart_eta_mins"] == (3e-4, 1e-6)
    # Progressive crops and per-iteration restarts are in the loop (tests/test_progressive.py).
    assert train_config(name).progressive[0] == (92_000, 128, 64)


def test_nafnet_recipe_matches_its_option_file():
    entry = OWN["nafnet-gopro"]
    assert entry.global_batch == 64 and entry.config["patch_size"] == 256
    assert {k: entry.config[k] for k in NAFNET} == NAFNET
    assert entry.config["pixel_loss"] == "psnr" and entry.config["grad_clip"] == 0.01
    assert "TLC" in entry.published["test"]
    config = train_config("nafnet-gopro")  # one process holds the global batch
    assert (config.batch_size, config.iterations, config.warmup_epochs) == (64, 400_000, 0)
    assert train_config("nafnet-gopro", processes=8).batch_size == 8  # as the authors ran it


def test_fftformer_and_uformer_recipes_match_their_sources():
    fft, ufo = OWN["fftformer-gopro"], OWN["uformer-gopro"]
    assert {k: fft.config[k] for k in FFTFORMER} == FFTFORMER
    assert fft.config["patch_size"] == 128 and fft.global_batch == 64
    assert train_config("fftformer-gopro").iterations == 300_000
    assert {k: ufo.config[k] for k in UFORMER} == UFORMER
    assert ufo.config["pixel_loss"] == "charbonnier" and ufo.config["grad_clip"] is None
    assert ufo.global_batch == 8 and ufo.gpus == 2  # DataParallel: 8 is the global batch
    assert train_config("uformer-gopro").precision == "fp16"  # CUDA only (tests/test_fp16.py)


def test_irnext_recipes_match_the_authors_scripts():
    # c-yn/IRNeXt Dehazing/ITS/main.py:45-48 (batch 4, lr 1e-4, 300 epochs), train.py:19
    # (warmup_epochs=3), :85 (clip 0.001); c-yn/ConvIR Motion_Deblurring main.py:44-47 (4, 1e-4,
    # 3000), train.py:18 (3), :84 (0.001); Image_deraining main.py:40-43 (4, 1e-4, 300),
    # train.py:20 (3), :88 (0.01); Image_desnowing main.py:44-47 (8, 2e-4, 2000), train.py:20
    # (3), :88 (0.01).
    expected = {
        "its": (4, 1e-4, 300, 3, 0.001),
        "gopro": (4, 1e-4, 3000, 3, 0.001),
        "rain13k": (4, 1e-4, 300, 3, 0.01),
        "desnow": (8, 2e-4, 2000, 3, 0.01),
    }
    for name, values in expected.items():
        config = train_config(name)
        got = (config.batch_size, config.lr, config.epochs, config.warmup_epochs, config.grad_clip)
        assert got == values, name
        assert OWN[name].global_batch == values[0]
        assert (OWN[name].status == "official") == (name == "its")
    assert "train2500" in OWN["desnow"].published["data"]


def test_every_inferred_recipe_gives_its_reasoning_and_every_source_a_line():
    for entry in OWN.values():
        assert entry.sources and all(s.lines and s.commit for s in entry.sources)
        assert entry.status == "official" or "ConvIR" in entry.reasoning


def test_own_recipes_per_model_and_task_and_defocus_is_refused():
    assert own_recipe("irnext", "haze") == "its"
    assert own_recipe("restormer", "defocus") == "restormer-dpdd"
    assert own_recipe("nafnet-w64", "motion-blur") == "nafnet-gopro"
    for model, task in (("irnext", "defocus"), ("nafnet-w64", "haze"), ("restormer", "snow")):
        with pytest.raises(RecipeRefused, match="refused, not guessed"):
            own_recipe(model, task)


def test_a_global_batch_is_kept_over_fewer_processes(monkeypatch):
    import dataclasses

    from irnext.errors import InputError
    from irnext.training import recipe_table

    honoured = dataclasses.replace(OWN["uformer-gopro"], unhonoured=())  # global batch 8
    monkeypatch.setitem(recipe_table.OWN, "uformer-gopro", honoured)
    assert train_config("uformer-gopro").batch_size == 8  # one process holds it all
    assert train_config("uformer-gopro", processes=2).batch_size == 4
    assert train_config("uformer-gopro").optimizer == "adamw"
    with pytest.raises(InputError, match="global batch 8 does not split over 3"):
        train_config("uformer-gopro", processes=3)


def test_irnext_train_refuses_an_unhonoured_recipe_by_name(capsys, tmp_path, monkeypatch):
    from irnext.training import recipe_table

    # Every published recipe is honoured now: the refusal is checked on a marked copy.
    refused = dataclasses.replace(OWN["uformer-gopro"], unhonoured=("a part not in the loop",))
    monkeypatch.setitem(recipe_table.OWN, "uformer-gopro", refused)
    code = main(
        ["train", "--model", "uformer-b", "--dataset", "synth-haze", "--root", str(tmp_path)]
        + ["--recipe", "uformer-gopro", "--out", str(tmp_path / "m.pt")]
    )
    assert code == 2
    error = capsys.readouterr().err
    assert "uformer-gopro" in error and "a part not in the loop" in error


def test_psnr_loss_is_minus_the_mean_per_image_psnr():
    prediction = torch.zeros(2, 3, 4, 4)
    target = torch.stack([torch.full((3, 4, 4), 0.1), torch.full((3, 4, 4), 0.2)])
    # MSE 0.01 and 0.04: PSNR 20 dB and 13.979 dB (peak 1), loss = -(20 + 13.979) / 2.
    expected = -(20 + 10 * math.log10(1 / 0.04)) / 2
    assert psnr_loss(prediction, target).item() == pytest.approx(expected, abs=1e-4)


def test_charbonnier_loss_by_hand_and_in_the_multiscale_sum():
    prediction, target = torch.zeros(1, 1, 1, 2), torch.tensor([[[[0.0, 0.3]]]])
    by_hand = (math.sqrt(0 + 1e-6) + math.sqrt(0.09 + 1e-6)) / 2
    assert charbonnier_loss(prediction, target).item() == pytest.approx(by_hand, rel=1e-6)
    total = multiscale_loss([prediction], target, fft_weight=0, pixel="charbonnier")
    assert total.item() == pytest.approx(by_hand, rel=1e-6)
    with pytest.raises(ValueError, match="pixel loss"):
        multiscale_loss([prediction], target, pixel="l2")


@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before")
def test_the_per_iteration_cosine_is_torchs_stepped_before_each_update():
    from irnext.training.config import TrainConfig, lr_factor_step

    config = TrainConfig(lr=1e-3, lr_min=1e-7, warmup_epochs=0, iterations=10)
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1e-3)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10, eta_min=1e-7)
    expected = []
    for _ in range(10):  # BasicSR: update_learning_rate (scheduler.step) before each update
        cosine.step()
        expected.append(optimizer.param_groups[0]["lr"])
    ours = [config.lr * lr_factor_step(s, config) for s in range(1, 11)]
    assert ours == pytest.approx(expected, rel=1e-9)
    with pytest.raises(ValueError, match="takes no warmup_epochs"):
        TrainConfig(iterations=10, warmup_epochs=3)


def test_an_iterations_run_stops_at_its_step_count_with_adamw(tiny_haze, monkeypatch):
    import irnext
    from irnext.data import open_dataset
    from irnext.training import TrainConfig, train

    made = []
    adamw = torch.optim.AdamW
    monkeypatch.setattr(torch.optim, "AdamW", lambda *a, **k: made.append(k) or adamw(*a, **k))
    config = TrainConfig(batch_size=2, patch_size=32, lr=1e-3, lr_min=1e-5, warmup_epochs=0)
    config = dataclasses.replace(config, iterations=4, optimizer="adamw", pixel_loss="psnr")
    config = dataclasses.replace(config, weight_decay=1e-3, num_workers=0, fft_weight=0.0)
    torch.manual_seed(0)
    dataset = open_dataset("synth-haze", tiny_haze, split="train")  # 6 pairs: 3 steps a pass
    history = train(irnext.create_model("irnext-test"), dataset, config)
    assert [h["steps"] for h in history] == [3, 1]  # 4 steps, the second epoch cut short
    assert history[-1]["lr"] == pytest.approx(1e-5)  # the cosine's floor at the last step
    assert made and made[0]["weight_decay"] == 1e-3
    assert all(math.isfinite(h["loss"]) and h["loss"] < 0 for h in history)  # minus PSNR
