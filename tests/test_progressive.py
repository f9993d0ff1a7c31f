"""Progressive training and cyclic cosine restarts (Restormer): the schedule against hand
computations, the stages against hand-listed (step -> crop, batch) pairs, and resume from step
checkpoints mid-stage and across a stage boundary to the weights of the uninterrupted run."""

from __future__ import annotations

import copy
import math

import pytest
import torch

import irnext
from irnext.cli import main
from irnext.data import open_dataset
from irnext.errors import InputError
from irnext.training import EngineOptions, TrainConfig, train
from irnext.training.config import lr_factor_step
from irnext.training.hooks import Hooks
from irnext.training.recipes import train_config
from irnext.training.stages import stage_at

# swz30/Restormer@df766d5 Motion_Deblurring/Options/Deblurring_Restormer.yml:27-30, 74, 81-85:
# iters [92000,64000,48000,36000,36000,24000], gt_sizes [128,160,192,256,320,384],
# mini_batch_sizes [8,5,4,2,1,1] per GPU on 8 GPUs, total_iter 300000,
# CosineAnnealingRestartCyclicLR periods [92000, 208000], restart_weights [1,1],
# eta_mins [0.0003, 0.000001]; lr 3e-4 (:94). basicsr/train.py:242-249 picks the first stage
# whose cumulative end is >= the iteration (1-based). Below, the global batch: 8 x per GPU.
RESTORMER_STAGES = (
    (92000, 128, 64),
    (64000, 160, 40),
    (48000, 192, 32),
    (36000, 256, 16),
    (36000, 320, 8),
    (24000, 384, 8),
)


def test_restormer_recipe_is_the_option_file_and_splits_its_global_batches():
    config = train_config("restormer-gopro")
    assert config.progressive == RESTORMER_STAGES and config.iterations == 300_000
    assert (config.patch_size, config.batch_size) == (128, 64)
    assert config.restart_periods == (92000, 208000)
    assert config.restart_weights == (1, 1) and config.restart_eta_mins == (3e-4, 1e-6)
    half = train_config("restormer-rain13k", processes=4)  # 4 processes x 16 = 64
    assert [stage[2] for stage in half.progressive] == [16, 10, 8, 4, 2, 2]
    with pytest.raises(InputError, match="does not split over 3"):
        train_config("restormer-dpdd", processes=3)


@pytest.mark.parametrize(
    ("step", "crop", "batch"),
    [
        (1, 128, 64),
        (92000, 128, 64),
        (92001, 160, 40),
        (156000, 160, 40),
        (156001, 192, 32),
        (204000, 192, 32),
        (204001, 256, 16),
        (240000, 256, 16),
        (240001, 320, 8),
        (276000, 320, 8),
        (276001, 384, 8),
        (300000, 384, 8),
    ],
)
def test_restormer_stage_of_each_iteration(step, crop, batch):
    config = train_config("restormer-gopro")
    assert RESTORMER_STAGES[stage_at(step, config)][1:] == (crop, batch)


@pytest.mark.parametrize(
    ("step", "lr"),
    [
        (1, 3e-4),  # period 1: eta_min = lr, so 3e-4 is held for 92k iterations
        (46000, 3e-4),
        (92000, 3e-4),
        # period 2 begins: 1e-6 + 2.99e-4 (1 + cos(pi / 208000)) / 2
        (92001, 1e-6 + 2.99e-4 * (1 + math.cos(math.pi / 208000)) / 2),
        (196000, 1e-6 + 2.99e-4 / 2),  # its midpoint: cos(pi / 2) = 0 -> 1.505e-4
        (248000, 1e-6 + 2.99e-4 * (1 - 0.7071067811865476) / 2),  # 3/4: cos(3 pi / 4)
        (300000, 1e-6),  # the last step runs at the last floor
    ],
)
def test_restormer_learning_rate_at_boundaries_and_midpoints(step, lr):
    config = train_config("restormer-gopro")
    assert config.lr * lr_factor_step(step, config) == pytest.approx(lr, rel=1e-12)


def test_restart_weights_and_floors_per_period_by_hand():
    config = TrainConfig(
        iterations=9,
        warmup_epochs=0,
        lr=2e-3,
        restart_periods=(4, 5),
        restart_weights=(1.0, 0.5),
        restart_eta_mins=(1e-3, 0.0),
    )
    # period 1: 1e-3 + 1e-3 (1 + cos(pi s / 4)) / 2; period 2: 0.5 x 2e-3 (1 + cos(pi t / 5)) / 2
    cos36, cos72 = 0.8090169943749475, 0.30901699437494745
    expected = [
        1e-3 + 0.5e-3 * (1 + 0.7071067811865476),
        1.5e-3,  # midpoint
        1e-3 + 0.5e-3 * (1 - 0.7071067811865476),
        1e-3,  # the period's end: its floor
        0.5e-3 * (1 + cos36),  # restart at half weight
        0.5e-3 * (1 + cos72),
        0.5e-3 * (1 - cos72),
        0.5e-3 * (1 - cos36),
        0.0,
    ]
    got = [config.lr * lr_factor_step(step, config) for step in range(1, 10)]
    assert got == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"progressive": ((5, 32, 3), (3, 48, 2))}, "add up to iterations 9"),
        ({"progressive": ((5, 48, 3), (4, 48, 2))}, "first stage's patch_size"),
        ({"progressive": ((5, 32, 3), (4, 48, 0))}, "sizes must be >= 1"),
        ({"restart_periods": (4, 4)}, "adding up to iterations 9"),
        ({"restart_weights": (1.0,)}, "one weight and one eta_min per period"),
    ],
)
def test_stages_and_periods_that_do_not_add_up_are_refused_by_name(values, named):
    base = {"progressive": ((5, 32, 3), (4, 48, 2)), "restart_periods": (4, 5)}
    base |= {"restart_weights": (1.0, 0.5), "restart_eta_mins": (1e-3, 0.0)}
    fields = {"iterations": 9, "warmup_epochs": 0, "patch_size": 32, "batch_size": 3}
    with pytest.raises(InputError, match=named):
        TrainConfig(**fields, **(base | values))


# A tiny progressive run: 6 training images; stage 1 at 32 px x 3 (2 batches a pass) for 5
# steps, stage 2 at 48 px x 2 (3 batches a pass) for 4: epochs of 2, 2, 1 | 3, 1 steps.
TINY = TrainConfig(
    iterations=9,
    warmup_epochs=0,
    lr=2e-3,
    patch_size=32,
    batch_size=3,
    progressive=((5, 32, 3), (4, 48, 2)),
    restart_periods=(4, 5),
    restart_weights=(1.0, 0.5),
    restart_eta_mins=(1e-3, 0.0),
    num_workers=0,
    deterministic=True,
)


class _Record(Hooks):
    def __init__(self, model):
        self.model, self.saved, self.lrs = model, {}, {}

    def metrics(self, step, values):
        self.lrs[step] = values["lr"]

    def save(self, state, reason):
        weights = {k: v.clone() for k, v in self.model.state_dict().items()}
        self.saved[state["step"]] = (copy.deepcopy(state), weights)


def _model():
    torch.manual_seed(0)
    return irnext.create_model("irnext-test")


def test_the_loop_switches_crop_and_batch_at_the_stage_boundary(tiny_haze):
    model, shapes = _model(), []
    model.register_forward_pre_hook(lambda _, args: shapes.append(tuple(args[0].shape)))
    hooks = _Record(model)
    options = EngineOptions(log_every=1)
    history = train(
        model,
        open_dataset("synth-haze", tiny_haze, split="train"),
        TINY,
        options=options,
        hooks=hooks,
    )
    # steps 1-5: 3 crops of 32 px; steps 6-9: 2 crops of 48 px
    assert shapes == [(3, 3, 32, 32)] * 5 + [(2, 3, 48, 48)] * 4
    assert [record["steps"] for record in history] == [2, 2, 1, 3, 1]
    assert hooks.lrs[2] == pytest.approx(1.5e-3) and hooks.lrs[4] == pytest.approx(1e-3)
    assert hooks.lrs[9] == pytest.approx(0.0, abs=1e-15)


def test_resume_mid_stage_and_across_the_boundary_gives_the_same_weights(tiny_haze):
    dataset = open_dataset("synth-haze", tiny_haze, split="train")
    model = _model()
    hooks = _Record(model)
    options = EngineOptions(save_every_steps=1)
    straight = train(model, dataset, TINY, options=options, hooks=hooks)
    final = {k: v.clone() for k, v in model.state_dict().items()}
    # 3: mid-epoch in stage 1; 5: stage 1's last step (the next is stage 2's); 7: mid-stage 2
    for step in (3, 5, 7):
        state, weights = hooks.saved[step]
        resumed_model = _model()
        resumed_model.load_state_dict(weights)
        history = train(resumed_model, dataset, TINY, options=options, resume=state)
        assert history == straight, step
        for key, value in resumed_model.state_dict().items():
            assert torch.equal(value, final[key]), (step, key)


def test_the_command_line_takes_the_stages_and_resumes_on_them(tiny_haze, tmp_path):
    out = tmp_path / "m.pt"
    argv = ["train", "--model", "irnext-test", "--dataset", "synth-haze", "--root", str(tiny_haze)]
    argv += ["--iterations", "9", "--warmup-epochs", "0", "--patch-size", "32"]
    argv += ["--batch-size", "3", "--progressive", "[[5, 32, 3], [4, 48, 2]]"]
    argv += ["--restart-periods", "4", "5", "--restart-weights", "1", "0.5"]
    argv += ["--restart-eta-mins", "0.001", "0", "--num-workers", "0", "--device", "cpu"]
    argv += ["--progress", "none", "--save-every-steps", "4", "--out", str(out)]
    assert main(argv) == 0
    _, info = irnext.load_checkpoint(out)
    assert info["training"]["config"]["progressive"] == [[5, 32, 3], [4, 48, 2]]
    assert main([*argv, "--resume", str(out)]) == 0  # the same stages: the same run
    assert main([*argv[:-2], "--progressive", "[[5, 32, 3], [4, 32, 2]]", "--out", str(out),
                 "--resume", str(out)]) == 2  # fmt: skip
