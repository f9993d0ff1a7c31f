"""fp16 autocast with loss scaling (Uformer's recipe: torch.cuda.amp.autocast + timm's
NativeScaler, train/train_motiondeblur.py:167, 181-185): refused by name off CUDA; the step's
scaler path (skip on overflow, clip after unscaling) checked with a CPU GradScaler."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from irnext.cli import main
from irnext.data import open_dataset
from irnext.errors import InputError
from irnext.training import TrainConfig, train
from irnext.training.loop import train_step

FP16 = TrainConfig(
    precision="fp16", fft_weight=0.0, all_scales=False, grad_clip=None, epochs=1, num_workers=0
)


def test_fp16_off_cuda_is_refused_naming_the_precision_and_the_way_out(tiny_haze):
    import irnext

    model = irnext.create_model("irnext-test")
    dataset = open_dataset("synth-haze", tiny_haze, split="train")
    config = TrainConfig(precision="fp16", batch_size=2, patch_size=32, num_workers=0)
    with pytest.raises(InputError, match=r"fp16 .*CUDA only, not cpu.*--precision fp32"):
        train(model, dataset, config, device="cpu")


def test_the_command_line_refuses_the_uformer_recipe_on_cpu(tiny_haze, tmp_path, capsys):
    argv = ["train", "--model", "irnext-test", "--dataset", "synth-haze", "--root", str(tiny_haze)]
    argv += ["--recipe", "uformer-gopro", "--batch-size", "2", "--patch-size", "32"]
    argv += ["--num-workers", "0", "--device", "cpu", "--out", str(tmp_path / "m.pt")]
    assert main(argv) == 2
    assert "CUDA only" in capsys.readouterr().err


def _batch():
    torch.manual_seed(0)
    return {"input": torch.rand(2, 3, 8, 8), "target": torch.rand(2, 3, 8, 8)}


def test_an_overflowing_scaled_step_is_skipped_and_the_scale_halved():
    model = nn.Conv2d(3, 3, 3, padding=1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    # 2**40 times the loss overflows fp16 (max 65504) in the backward of the fp16 convolution
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**40)
    train_step(model, optimizer, _batch(), FP16, torch.device("cpu"), scaler=scaler)
    assert scaler.get_scale() == 2.0**39  # GradScaler's backoff factor 0.5
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key  # the step was skipped, no NaN written
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**4)
    train_step(model, optimizer, _batch(), FP16, torch.device("cpu"), scaler=scaler)
    assert scaler.get_scale() == 2.0**4  # no overflow: kept (grows after 2000 good steps)
    changed = not torch.equal(model.weight, before["weight"])
    assert changed and torch.isfinite(model.weight).all()


def test_the_gradients_are_clipped_after_unscaling():
    model = nn.Conv2d(3, 3, 3, padding=1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # keep the weights: read the grads
    config = TrainConfig(
        precision="fp16", fft_weight=0.0, all_scales=False, grad_clip=1e-3, num_workers=0
    )
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10)
    train_step(model, optimizer, _batch(), config, torch.device("cpu"), scaler=scaler)
    norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in model.parameters()]))
    # the true gradient's norm is far above 1e-3: clipped to it (not to 1e-3 / 2**10)
    assert norm.item() == pytest.approx(1e-3, rel=1e-3)


@pytest.mark.slow
def test_a_step_checkpoint_keeps_the_loss_scale_and_resumes_to_the_same_weights(
    tiny_haze, monkeypatch
):
    """Off CUDA only by substituting a CPU scaler for the engine's CUDA one: the state saved
    and restored is the same GradScaler state either way."""
    import copy

    import irnext
    from irnext.training import EngineOptions, engine
    from irnext.training.hooks import Hooks

    def cpu_scaler(config, device):  # grows every 2 good steps: the scale changes mid-run
        return torch.amp.GradScaler("cpu", init_scale=2.0**8, growth_interval=2)

    monkeypatch.setattr(engine, "_scaler", cpu_scaler)
    saved, last = {}, {}

    class Keep(Hooks):
        def save(self, state, reason):
            weights = {k: v.clone() for k, v in model.state_dict().items()}
            saved[state["step"]] = (copy.deepcopy(state), weights)
            last["scaler"] = copy.deepcopy(state["scaler"])

    config = TrainConfig(
        precision="fp16", batch_size=2, patch_size=32, epochs=2, warmup_epochs=0, num_workers=0
    )
    dataset = open_dataset("synth-haze", tiny_haze, split="train")
    options = EngineOptions(save_every_steps=1)
    torch.manual_seed(0)
    model = irnext.create_model("irnext-test")
    straight = train(model, dataset, config, options=options, hooks=Keep())
    final = ({k: v.clone() for k, v in model.state_dict().items()}, last["scaler"])
    state, weights = saved[4]  # mid-epoch 2 (3 steps an epoch): the scale grew twice
    assert state["scaler"]["scale"] == 2.0**10 and final[1]["scale"] == 2.0**11
    model = irnext.create_model("irnext-test")  # what Keep reads from now on
    model.load_state_dict(weights)
    assert train(model, dataset, config, options=options, resume=state, hooks=Keep()) == straight
    assert last["scaler"] == final[1]  # restarted at 2**8, it would end at 2**9
    for key, value in model.state_dict().items():
        assert torch.equal(value, final[0][key]), key
