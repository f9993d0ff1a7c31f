"""The steps of a run: one epoch, one optimiser step, reading the loss, validating, saving.

The loss stays on the device between reads (every `log_every` steps, and before any validation
or save), so a step never waits for the GPU; a non-finite loss found at a read stops the run
before anything is saved, naming the step where it first appeared.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from irnext.data import PairedImageDataset
from irnext.errors import InputError
from irnext.evaluation import EvalOptions, evaluate
from irnext.losses import multiscale_loss
from irnext.training.config import EngineOptions, TrainConfig, lr_factor, lr_factor_step
from irnext.training.distributed import World
from irnext.training.hooks import Hooks
from irnext.training.stages import epoch_plan, stage_at, stage_config
from irnext.training.state import capture_rng
from irnext.weights import non_finite_keys


class TrainingDiverged(InputError):
    """The loss or the weights became NaN or infinite at `step`."""

    def __init__(self, step: int, what: str) -> None:
        super().__init__(f"{what} at step {step}: training diverged")
        self.step = step


@dataclass
class Run:
    model: nn.Module  # the trained module itself (what checkpoints hold)
    forward: nn.Module  # what a step calls: the model, its DDP wrapper or its compiled form
    optimizer: torch.optim.Optimizer
    loaders: list[DataLoader]  # one per stage (`irnext.training.stages`)
    recipe: TrainConfig  # the whole run's
    options: EngineOptions
    device: torch.device
    world: World
    hooks: Hooks
    state: dict[str, Any]
    val: Callable[[], dict[str, float]] | None = None
    scaler: torch.amp.GradScaler | None = None  # fp16 loss scaling
    pending: list[torch.Tensor] = field(default_factory=list)  # losses not read yet
    plan: list[tuple[int, int]] = field(init=False)  # (stage, steps) of each epoch

    def __post_init__(self) -> None:
        passes = [len(loader) * self.recipe.repeats_per_epoch for loader in self.loaders]
        self.plan = epoch_plan(self.recipe, passes)

    @property
    def stage(self) -> int:
        """The stage of the next step (the last one once the run is done)."""
        return stage_at(self.state["step"] + 1, self.recipe)

    @property
    def loader(self) -> DataLoader:
        return self.loaders[self.stage]

    @property
    def config(self) -> TrainConfig:
        """The recipe with the current stage's patch and batch size."""
        return stage_config(self.recipe, self.stage)

    @property
    def total_steps(self) -> int:
        return sum(steps for _, steps in self.plan)

    @property
    def epochs(self) -> int:
        """Epochs of the run: `config.epochs`, or as many as the stages' steps reach into."""
        return len(self.plan)

    def steps_in_epoch(self, epoch: int) -> int:
        """Batches of `epoch` (0-based): a full pass of its stage's loader, but the last epoch
        of a stage stops at the stage's step count."""
        return self.plan[epoch][1]


def run_epoch(run: Run) -> None:
    """The rest of epoch `state["epoch"]`, from batch `state["batch"]` on."""
    config, state, sampler = run.config, run.state, run.loader.sampler
    for group in run.optimizer.param_groups:
        group["lr"] = config.lr * lr_factor(state["epoch"], config)
    per_pass, total = len(run.loader), run.steps_in_epoch(state["epoch"])
    clock = (time.perf_counter(), state["batch"])
    while state["batch"] < total:
        done_passes, within = divmod(state["batch"], per_pass)
        sampler.epoch = state["epoch"] * config.repeats_per_epoch + done_passes
        sampler.start = within * config.batch_size  # this rank's positions already trained
        for batch in run.loader:
            if config.iterations:  # the cosine stepped per iteration (BasicSR)
                for group in run.optimizer.param_groups:
                    group["lr"] = config.lr * lr_factor_step(state["step"] + 1, config)
            run.pending.append(_guarded_step(run, batch, config))
            state["batch"] += 1
            state["step"] += 1
            if run.world.is_main:
                run.hooks.step(state["step"], run.total_steps)
            if state["batch"] >= total:
                break  # the last epoch of an `iterations` run ends mid-pass
            _between_steps(run)
    images = (total - clock[1]) * config.batch_size * run.world.world_size
    _end_epoch(run, seconds=time.perf_counter() - clock[0], images=images)


def _between_steps(run: Run) -> None:
    step, options = run.state["step"], run.options
    if step % options.log_every == 0:
        read_losses(run)
    if options.val_every_steps and step % options.val_every_steps == 0 and run.val:
        _validate(run)
    if options.save_every_steps and step % options.save_every_steps == 0:
        save(run, "step")


def _end_epoch(run: Run, *, seconds: float, images: int) -> None:
    read_losses(run)
    state, options = run.state, run.options
    done = run.steps_in_epoch(state["epoch"])
    record = {
        "epoch": state["epoch"] + 1,
        "lr": run.optimizer.param_groups[0]["lr"],
        "loss": state["loss_sum"] / done,
        "steps": done,
    }
    state.update(epoch=state["epoch"] + 1, batch=0, loss_sum=0.0)
    state["history"].append(record)
    step, every = state["step"], options.val_every_steps
    if run.val and (not every or step % every == 0 or state["epoch"] == run.epochs):
        record.update(_validate(run))
    if run.world.is_main:
        run.hooks.epoch(record, seconds, images)
    by_epoch = options.save_every and state["epoch"] % options.save_every == 0
    if by_epoch or (options.save_every_steps and step % options.save_every_steps == 0):
        save(run, "epoch")


def train_step(forward, optimizer, batch, config: TrainConfig, device, *, params=None, scaler=None):
    """One optimiser step on `batch`; returns the loss, still on the device.

    Under fp16, `scaler` (a `torch.amp.GradScaler`) scales the loss, unscales the gradients
    before clipping, and skips the step whose gradients overflowed, as timm's NativeScaler
    does for Uformer."""
    inputs = batch["input"].to(device, non_blocking=True)
    target = batch["target"].to(device, non_blocking=True)
    if params is None:
        params = [p for group in optimizer.param_groups for p in group["params"]]
    half = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(config.precision)
    with torch.autocast(device.type, dtype=half or torch.float32, enabled=half is not None):
        outputs = forward(inputs)
    if isinstance(outputs, torch.Tensor):  # single-output baselines (DehazeFormer, spandrel)
        outputs = [outputs]
    # The loss in float32 even under autocast (multiscale_loss upcasts every output).
    loss = multiscale_loss(
        outputs,
        target,
        fft_weight=config.fft_weight,
        all_scales=config.all_scales,
        pixel=config.pixel_loss,
    )
    optimizer.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()
    else:
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
    if config.grad_clip:
        nn.utils.clip_grad_norm_(params, config.grad_clip)  # on the device: no sync
    if scaler is None:
        optimizer.step()
    else:
        scaler.step(optimizer)  # skipped where a gradient overflowed
        scaler.update()
    return loss.detach()


def _guarded_step(run: Run, batch: dict[str, Any], config: TrainConfig) -> torch.Tensor:
    if run.options.channels_last:
        batch = {**batch, "input": batch["input"].contiguous(memory_format=torch.channels_last)}
    try:
        return train_step(run.forward, run.optimizer, batch, config, run.device, scaler=run.scaler)
    except torch.OutOfMemoryError as error:
        raise InputError(
            f"out of memory on {run.device} training {_name(run.model)} at batch_size "
            f"{config.batch_size} x patch_size {config.patch_size} "
            f"(precision {config.precision}): lower --batch-size or --patch-size, or use "
            "--precision bf16"
        ) from error
    except RuntimeError as error:
        if "does not have a deterministic implementation" not in str(error):
            raise
        # e.g. the backward of bilinear upsampling on CUDA (atomic adds): torch refuses
        # rather than train non-reproducibly, and so do we.
        raise InputError(
            f"deterministic training of {_name(run.model)} on {run.device} is impossible: "
            f"{str(error).splitlines()[0]}; train with --deterministic false"
        ) from error


def _name(model: nn.Module) -> str:
    spec = getattr(model, "irnext_spec", None) or {}
    return spec.get("name") or type(model).__name__


def read_losses(run: Run) -> None:
    """Bring the pending step losses to the host (one sync; averaged over ranks), check them
    and add them to the epoch's sum; reports them to `hooks.metrics`."""
    if not run.pending:
        return
    losses = run.world.mean(torch.stack(run.pending).float()).tolist()
    run.pending.clear()
    first = run.state["step"] - len(losses) + 1
    for offset, value in enumerate(losses):
        if not math.isfinite(value):
            raise TrainingDiverged(first + offset, f"the loss is {value}")
        run.state["loss_sum"] += value  # in order, as one sum over the epoch's steps
    if run.world.is_main:
        values = {
            "loss": sum(losses) / len(losses),
            "lr": run.optimizer.param_groups[0]["lr"],
            "epoch": run.state["epoch"] + 1,
        }
        run.hooks.metrics(run.state["step"], values)


def _validate(run: Run) -> dict[str, float]:
    """Score the validation set on rank 0 (the others wait); a new best is saved."""
    read_losses(run)
    _check_weights(run)  # a diverged model is neither scored nor kept as the best
    scores: dict[str, float] = {}
    if run.world.is_main:
        scores = run.val()
        run.model.train()
        state = run.state
        record = {"step": state["step"], "epoch": state["epoch"], "batch": state["batch"]}
        record.update(scores)
        state["validations"].append(record)
        run.hooks.validation(record)
        best = state["best"]
        if best is None or scores["val_psnr_db"] > best["val_psnr_db"]:
            state["best"] = record
            run.hooks.save(resume_state(run), "best")
    run.world.barrier()
    return scores


def save(run: Run, reason: str) -> None:
    """Offer the resume state to `hooks.save` (rank 0), every rank waiting until it is done."""
    read_losses(run)  # a diverged run stops here, before its weights are written
    _check_weights(run)
    run.world.barrier()
    if run.world.is_main:
        run.hooks.save(resume_state(run), reason)
    run.world.barrier()


def _check_weights(run: Run) -> None:
    """A finite loss is read before the step that follows it: the last step can still leave
    NaN weights (a NaN gradient norm, an overflow), which are never saved."""
    bad = non_finite_keys(run.model.state_dict())
    if bad:
        where = f"the weights {bad[:3]} hold NaN or infinite values"
        raise TrainingDiverged(run.state["step"], where)


def resume_state(run: Run) -> dict[str, Any]:
    """Everything `train(resume=...)` needs besides the weights, as plain data."""
    state = {**run.state, "optimizer": run.optimizer.state_dict(), "rng": capture_rng()}
    if run.scaler is not None:  # the loss scale and its growth count continue on resume
        state["scaler"] = run.scaler.state_dict()
    return state


def validate(
    model: nn.Module,
    dataset: PairedImageDataset,
    *,
    protocol: str,
    device: str | torch.device = "cpu",
) -> dict[str, float]:
    """Mean PSNR / SSIM of whole restored images under `protocol` (`irnext.evaluation`)."""
    _, summary = evaluate(model, dataset, protocol=protocol, options=EvalOptions(device=device))
    return {f"val_{key}": summary["means"][key] for key in ("psnr_db", "ssim")}


def validator(model, dataset, protocol: str | None, device) -> Callable[[], dict[str, float]]:
    """`validate` of `model` on `dataset` under `protocol` (default: the dataset's own)."""
    protocol = protocol or dataset.info.protocol
    return lambda: validate(model, dataset, protocol=protocol, device=device)
