"""`train`: the paper's recipe as a loop of named steps (setup, resume, epoch, step, validate,
save), single-process or data-parallel under torchrun.

NOTE: departures from the official release, all switchable: the run is seeded and deterministic
by default (the release is unseeded and turns `cudnn.benchmark` on), and no checkpoint is
selected on the test set: the last model is returned, and the best by validation PSNR is
offered to `Hooks.save` when a validation set (never the test split) is given.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from irnext.data import PairedImageDataset, training_loader
from irnext.errors import InputError
from irnext.training import loop
from irnext.training.config import EngineOptions, TrainConfig, check_model_fit
from irnext.training.distributed import (
    join_world,
    launched_processes,
    leave_world,
    share_batch_statistics,
    wrap,
)
from irnext.training.hooks import Hooks
from irnext.training.stages import stage_config, stages
from irnext.training.state import new_position, restore_rng, seed_everything


def train(
    model: nn.Module,
    train_set: PairedImageDataset,
    config: TrainConfig,
    *,
    device: str | torch.device = "cpu",
    val_set: PairedImageDataset | None = None,
    val_protocol: str | None = None,
    options: EngineOptions | None = None,
    resume: dict | None = None,
    hooks: Hooks | None = None,
) -> list[dict]:
    """Train `model` in place; returns one record per epoch (loss, lr, steps, val scores).

    `resume` is a state `hooks.save` received (with the model's weights of that moment
    loaded): the run continues from that step as if it had not stopped, since the schedule is
    a function of the epoch and each epoch's batches a function of (seed, epoch).
    """
    device, hooks, options = torch.device(device), hooks or Hooks(), options or EngineOptions()
    if options.val_every_steps and val_set is None:
        raise InputError(f"val_every_steps={options.val_every_steps} needs a validation set")
    with numerics(config.deterministic, device):
        run = _setup(model, train_set, config, device, options, hooks)
        try:
            if val_set is not None:
                run.val = loop.validator(model, val_set, val_protocol, run.device)
            _resume(run, resume)
            while run.state["epoch"] < run.epochs:
                loop.run_epoch(run)
            loop.save(run, "last")
        finally:
            hooks.close()
            share_batch_statistics(model, on=False)
            leave_world(run.world)
    return run.state["history"]


@contextmanager
def numerics(deterministic: bool, device: torch.device) -> Iterator[None]:
    """Deterministic kernels (cuDNN, cuBLAS, scatter...) or the fastest (cudnn.benchmark) for
    the run; the previous settings come back afterwards."""
    if deterministic and device.type == "cuda":
        # cuBLAS reads this when it creates its handle, i.e. at the first matmul on the device.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    cudnn = torch.backends.cudnn
    saved = (cudnn.benchmark, cudnn.deterministic)
    saved_algorithms = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
    )
    cudnn.benchmark, cudnn.deterministic = not deterministic, deterministic
    torch.use_deterministic_algorithms(deterministic, warn_only=False)
    try:
        yield
    finally:
        cudnn.benchmark, cudnn.deterministic = saved
        torch.use_deterministic_algorithms(saved_algorithms[0], warn_only=saved_algorithms[1])


def _setup(model, train_set, config, device, options, hooks) -> loop.Run:
    scaler = _scaler(config, device)  # refused before anything starts where it cannot run
    per_stage = [stage_config(config, index) for index in range(len(stages(config)))]
    for stage in per_stage:
        check_model_fit(stage, model, processes=launched_processes())
    world, device = join_world(device)
    seed_everything(config.seed)
    model.to(device).train()
    if options.channels_last:
        model.to(memory_format=torch.channels_last)
    forward = wrap(model, world, device)
    if options.compile:
        forward = torch.compile(forward)
    # AdamW decouples the weight decay from the gradient (the BasicSR recipes); Adam adds it.
    kind = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    optimizer = kind(
        model.parameters(),
        lr=config.lr,
        betas=config.betas,
        weight_decay=config.weight_decay,
        fused=True if device.type == "cuda" else None,  # one kernel for all parameters
    )
    loaders = [_loader(train_set, stage, device, world) for stage in per_stage]
    state = new_position()
    run = loop.Run(model, forward, optimizer, loaders, config, options, device, world, hooks, state)
    run.scaler = scaler
    return run


def _scaler(config, device):
    """fp16 autocast trains with loss scaling on CUDA, as Uformer's authors ran it; elsewhere
    it is refused by name rather than run another way."""
    if config.precision != "fp16":
        return None
    if device.type != "cuda":
        raise InputError(
            f"precision fp16 (autocast with loss scaling) runs on CUDA only, not {device}: "
            "train on a GPU, or pass --precision fp32 (then the run is not the recipe's fp16, "
            "and its checkpoint says so)"
        )
    return torch.amp.GradScaler("cuda")


def _loader(train_set, config, device, world):
    loader = training_loader(
        train_set,
        batch_size=config.batch_size,
        patch_size=config.patch_size,
        seed=config.seed,
        num_workers=config.num_workers,
        flip=config.flip,
        rotate=config.rotate,
        patches_per_image=config.patches_per_image,
        device=device,
        rank=world.rank,
        world_size=world.world_size,
    )
    if len(loader) == 0:  # drop_last: fewer samples than one batch would train nothing
        raise InputError(
            f"dataset '{train_set.info.name}' split '{train_set.split}' at {train_set.root} "
            f"gives {len(train_set)} training samples, fewer than batch_size "
            f"{config.batch_size} x {world.world_size} process(es)"
        )
    return loader


def _resume(run: loop.Run, resume: dict | None) -> None:
    """Continue from a saved state: position, history, optimiser and generators."""
    if resume is None:
        return
    state = new_position()
    state.update({key: resume[key] for key in state if key in resume})
    # Epoch checkpoints of earlier versions hold no step count: every epoch was complete.
    state["step"] = int(resume.get("step", sum(h["steps"] for h in state["history"])))
    state["history"], state["validations"] = list(state["history"]), list(state["validations"])
    epoch, batch = int(state["epoch"]), int(state["batch"])
    if not 0 <= epoch <= run.epochs or not 0 <= batch < max(
        run.plan[min(epoch, run.epochs - 1)][1], 1
    ):
        raise InputError(
            f"resume state at epoch {epoch}, batch {batch}; the recipe has "
            f"{run.epochs} epochs of {run.plan[0][1]} batches"
        )
    run.optimizer.load_state_dict(resume["optimizer"])
    if run.scaler is not None and "scaler" in resume:
        run.scaler.load_state_dict(resume["scaler"])
    if "rng" in resume:
        restore_rng(resume["rng"])
    run.state = state
