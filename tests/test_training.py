"""Training: the loss against hand-computed values, the schedule, determinism, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import irnext
from irnext.checkpoint import weights_sha256
from irnext.cli import main
from irnext.data import open_dataset
from irnext.errors import InputError
from irnext.losses import frequency_l1, multiscale_loss
from irnext.training import EngineOptions, Hooks, TrainConfig, lr_factor, train


def test_frequency_l1_of_constant_images_is_hand_computed():
    # The spectrum of a constant a over H x W is a*H*W at DC and 0 elsewhere; with real and
    # imaginary parts stacked, the mean |difference| is |a - b| * H * W / (2 * H * W).
    a, b = torch.full((1, 3, 8, 12), 0.7), torch.full((1, 3, 8, 12), 0.2)
    assert frequency_l1(a, b).item() == pytest.approx(0.5 / 2)


def test_multiscale_loss_sums_every_scale_against_resized_targets():
    target = torch.rand(2, 3, 32, 32)
    exact = [torch.nn.functional.interpolate(target, size=(s, s), mode="bilinear") for s in (8, 16)]
    assert multiscale_loss([*exact, target], target).item() == pytest.approx(0, abs=1e-6)
    offset = [o + 0.1 for o in (*exact, target)]
    # L1 = 0.1 per scale; the FFT of a constant 0.1 offset adds 0.1 * H * W at DC only.
    expected = sum(0.1 + 0.1 * (0.1 * s * s) / (2 * s * s) for s in (8, 16, 32))
    assert multiscale_loss(offset, target).item() == pytest.approx(expected, rel=1e-4)
    full_only = multiscale_loss(offset, target, all_scales=False)
    assert full_only.item() == pytest.approx(0.105, rel=1e-4)
    assert multiscale_loss(offset, target, fft_weight=0).item() == pytest.approx(0.3, rel=1e-4)


def _torch_schedule(epochs, warmup, lr, lr_min):
    """The release's schedule rebuilt from torch's schedulers, stepped once per epoch: a linear
    warm-up from lr / warmup to lr, then CosineAnnealingLR(T_max = epochs - warmup, eta_min)."""
    parameter = torch.nn.Parameter(torch.zeros(1))
    rates = []
    if warmup:
        optimizer = torch.optim.SGD([parameter], lr=lr)
        linear = torch.optim.lr_scheduler.LinearLR(
            optimizer, start_factor=1 / warmup, end_factor=1.0, total_iters=max(warmup - 1, 1)
        )
        for _ in range(warmup):
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()  # no gradient: nothing moves; keeps torch's call order
            linear.step()
    optimizer = torch.optim.SGD([parameter], lr=lr)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=epochs - warmup, eta_min=lr_min
    )
    for _ in range(epochs - warmup):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        cosine.step()
    return rates


@pytest.mark.parametrize(("epochs", "warmup"), [(13, 3), (30, 1), (7, 0), (300, 3)])
def test_learning_rate_is_torchs_linear_warm_up_then_cosine_annealing(epochs, warmup):
    config = TrainConfig(epochs=epochs, warmup_epochs=warmup, lr=1e-4, lr_min=1e-6)
    ours = [config.lr * lr_factor(e, config) for e in range(epochs)]
    assert ours == pytest.approx(_torch_schedule(epochs, warmup, 1e-4, 1e-6), rel=1e-9)
    if warmup == 3:
        assert ours[:4] == pytest.approx([1e-4 / 3, 2e-4 / 3, 1e-4, 1e-4])  # the release's


def test_batch_of_one_is_refused_for_batch_norm_models_only():
    from irnext.training.config import check_model_fit

    with pytest.raises(InputError, match="batch_size must be >= 1"):
        TrainConfig(batch_size=0)
    one = TrainConfig(batch_size=1, patch_size=64)
    # IRNeXt's LAM holds BatchNorm2d: one image gives no batch statistics.
    with pytest.raises(InputError, match=r"does not fit IRNeXt: its BatchNorm layers \(encoders"):
        check_model_fit(one, irnext.create_model("irnext-test"))
    staged = TrainConfig(
        iterations=9,
        warmup_epochs=0,
        patch_size=64,
        batch_size=4,
        progressive=((5, 64, 4), (4, 64, 1)),
    )
    with pytest.raises(InputError, match="batch_size 1 x 1 process"):  # a later stage's batch
        check_model_fit(staged, irnext.create_model("irnext-test"))
    # Two processes of one image share their statistics: a global batch of 2 trains.
    check_model_fit(one, irnext.create_model("irnext-test"), processes=2)
    for name in ("restormer-mini", "nafnet-mini"):  # no BatchNorm: batch 1 is their own
        check_model_fit(one, irnext.create_model(name))


def test_restormer_recipe_on_eight_processes_is_planned_without_refusal():
    from irnext.training.config import check_model_fit
    from irnext.training.recipes import train_config
    from irnext.training.stages import stage_config, stages

    config = train_config("restormer-gopro", processes=8)
    # Restormer's Options/Deblurring_Restormer.yml: mini_batch_sizes [8, 5, 4, 2, 1, 1] per GPU.
    assert [batch for _, _, batch in stages(config)] == [8, 5, 4, 2, 1, 1]
    with torch.device("meta"):
        model = irnext.create_model("restormer")
    for index in range(len(stages(config))):
        check_model_fit(stage_config(config, index), model, processes=8)


def _fit(root, epochs=4, seed=0):
    torch.manual_seed(seed)
    model = irnext.create_model("irnext-test")
    config = TrainConfig(
        epochs=epochs,
        batch_size=2,
        patch_size=32,
        lr=2e-3,
        warmup_epochs=0,
        grad_clip=0.1,
        num_workers=0,
        seed=seed,
        repeats_per_epoch=3,
    )
    history = train(model, open_dataset("synth-haze", root, split="train"), config)
    return model, history


def test_training_is_deterministic_and_reduces_the_loss(tiny_haze):
    model_a, history_a = _fit(tiny_haze)
    model_b, history_b = _fit(tiny_haze)
    for (key, a), b in zip(model_a.state_dict().items(), model_b.state_dict().values()):
        assert torch.equal(a, b), key
    assert [h["loss"] for h in history_a] == [h["loss"] for h in history_b]
    assert history_a[-1]["loss"] < history_a[0]["loss"]
    assert history_a[0]["steps"] == 3 * 3  # 6 images / batch 2, three passes


def test_train_cli_writes_a_self_describing_checkpoint(tiny_haze, tmp_path, capsys):
    out, log = tmp_path / "m.pt", tmp_path / "history.json"
    argv = [
        "train",
        "--model",
        "irnext-test",
        "--model-kwargs",
        '{"lam": false}',
        "--dataset",
        "synth-haze",
        "--root",
        str(tiny_haze),
        "--epochs",
        "2",
        "--batch-size",
        "2",
        "--patch-size",
        "32",
        "--num-workers",
        "0",
        "--val-split",
        "train",  # a real run holds out part of its training data; the test split is refused
        "--device",
        "cpu",
        "--out",
        str(out),
        "--history",
        str(log),
    ]
    assert main(argv) == 0
    model, info = irnext.load_checkpoint(out)
    assert model.config["lam"] is False
    assert info["training"]["config"]["epochs"] == 2
    history = json.loads(log.read_text())
    assert len(history["epochs"]) == 2 and "val_psnr_db" in history["epochs"][-1]
    assert history["weights_sha256"] == weights_sha256(model.state_dict())  # the saved weights
    assert main(argv[:4] + ["not json"] + argv[5:]) == 2
    assert "--model-kwargs: expected a JSON object" in capsys.readouterr().err
    on_test = list(argv)
    on_test[on_test.index("--val-split") + 1] = "test"
    assert main(on_test) == 2
    assert "is synth-haze's test split" in capsys.readouterr().err
    for flag, value in (("--epochs", "0"), ("--batch-size", "0"), ("--patch-size", "40")):
        bad = list(argv)
        bad[bad.index(flag) + 1] = value
        assert main(bad) == 2, flag
        assert flag.lstrip("-").replace("-", "_") in capsys.readouterr().err


def test_named_recipes_are_the_specs_and_flags_override_them():
    import argparse

    from irnext.cli.train import add_config_flags, config_from_args
    from irnext.training import RECIPES

    parser = argparse.ArgumentParser()
    add_config_flags(parser)
    ots = config_from_args(parser.parse_args(["--recipe", "ots"]))
    assert (ots.epochs, ots.batch_size, ots.warmup_epochs, ots.grad_clip) == (30, 8, 1, 0.01)
    assert config_from_args(parser.parse_args([])) == TrainConfig() == RECIPES["its"]
    mixed = config_from_args(parser.parse_args(["--recipe", "desnow", "--grad-clip", "0"]))
    assert (mixed.lr, mixed.batch_size, mixed.grad_clip) == (2e-4, 8, None)
    with pytest.raises(SystemExit):
        parser.parse_args(["--recipe", "defocus"])  # no known recipe: refused, not guessed


def test_a_dataset_smaller_than_one_batch_is_a_clear_error(tiny_haze):
    config = TrainConfig(epochs=1, batch_size=64, patch_size=32, num_workers=0)
    dataset = open_dataset("synth-haze", tiny_haze, split="train")
    with pytest.raises(InputError, match="fewer than batch_size 64"):
        train(irnext.create_model("irnext-test"), dataset, config)


def test_a_single_output_model_is_supervised_once_on_its_image():
    # Baselines return one tensor: the loss is L1 + 0.1 FFT-L1 of that image against its target,
    # not the batch iterated as "scales" and broadcast against every target.
    from irnext.training import train_step

    torch.manual_seed(0)
    model = torch.nn.Conv2d(3, 3, 3, padding=1)
    batch = {"input": torch.rand(4, 3, 16, 16), "target": torch.rand(4, 3, 16, 16)}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # the weights stay as scored below
    loss = train_step(model, optimizer, batch, TrainConfig(grad_clip=None), torch.device("cpu"))
    loss = loss.item()
    with torch.no_grad():
        out = model(batch["input"])
    # By hand, in float64: mean |out - target| plus 0.1 x the mean over the real and imaginary
    # parts of the difference of unnormalised 2-D spectra (the official FFT loss).
    prediction, target = out.double().numpy(), batch["target"].double().numpy()
    spectrum = np.fft.fft2(prediction) - np.fft.fft2(target)  # over the last two axes
    fft_l1 = (np.abs(spectrum.real) + np.abs(spectrum.imag)).sum() / (2 * spectrum.size)
    expected = np.abs(prediction - target).mean() + 0.1 * fft_l1
    assert loss == pytest.approx(expected, rel=1e-5)
    with pytest.raises(TypeError, match="wrap one as"):
        multiscale_loss(out, batch["target"])


def test_a_resumed_run_equals_the_uninterrupted_one(tiny_haze):
    import copy

    dataset = open_dataset("synth-haze", tiny_haze, split="train")
    config = TrainConfig(
        epochs=3, batch_size=2, patch_size=32, lr=2e-3, warmup_epochs=1, num_workers=0
    )
    torch.manual_seed(0)
    straight = irnext.create_model("irnext-test")
    states = {}

    class Keep(Hooks):  # what a checkpoint written after each epoch would hold
        def save(self, state, reason):
            states[state["epoch"]] = copy.deepcopy({**state, "model": straight.state_dict()})

    options = EngineOptions(save_every=1)
    full = train(straight, dataset, config, options=options, hooks=Keep())
    torch.manual_seed(0)
    resumed = irnext.create_model("irnext-test")
    resumed.load_state_dict(states[1]["model"])
    rest = train(resumed, dataset, config, resume=states[1])
    assert [h["loss"] for h in rest] == [h["loss"] for h in full]  # history carried over
    for (key, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), key


def test_train_cli_resumes_only_the_same_run(tiny_haze, tmp_path, capsys):
    out = tmp_path / "run.pt"
    argv = ["train", "--model", "irnext-test", "--dataset", "synth-haze", "--root"]
    argv += [str(tiny_haze), "--epochs", "1", "--batch-size", "2", "--patch-size", "32"]
    argv += ["--num-workers", "0", "--device", "cpu", "--out", str(out), "--save-every", "1"]
    assert main(argv) == 0
    _, info = irnext.load_checkpoint(out)
    assert info["resume"]["epoch"] == 1 and len(info["resume"]["history"]) == 1
    again = tmp_path / "again.pt"
    assert main([*argv[:-4], "--out", str(again), "--resume", str(out)]) == 0  # nothing left
    assert main([*argv[:-4], "--out", str(again), "--resume", str(out), "--lr", "0.5"]) == 2
    assert "was trained with different config.lr" in capsys.readouterr().err
    irnext.save_checkpoint(tmp_path / "plain.pt", irnext.create_model("irnext-test"))
    assert main([*argv[:-4], "--out", str(again), "--resume", str(tmp_path / "plain.pt")]) == 2
    assert "holds no resume state" in capsys.readouterr().err
