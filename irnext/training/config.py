"""The training recipe (`TrainConfig`), the named recipes and the learning-rate schedule.

`TrainConfig()` is the official dehazing recipe on RESIDE-ITS: Adam(0.9, 0.999), lr 1e-4 with a
linear warm-up then cosine decay to 1e-6 stepped per epoch, 256 x 256 crops with horizontal flips,
L1 + 0.1 FFT-L1 on every output scale, gradient-norm clipping at 0.001, no AMP, no EMA (see
docs/training.md). `EngineOptions` says how a run executes (saving, logging, memory layout),
never what it learns.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass
from typing import Any

from irnext.errors import InputError
from irnext.precisions import TRAINING_PRECISIONS
from irnext.training.stages import check_stages, restart_factor

# The staged fields are tuples of tuples or of ints (`_is` reads a plain tuple as numbers).
_STAGED = {
    "progressive": ("stages",),
    "restart_periods": ("ints",),
    "restart_weights": (tuple,),
    "restart_eta_mins": (tuple,),
}


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 300  # ITS: 300 epochs at batch 4 (~1.05 M iterations)
    batch_size: int = 4  # per process: torchrun with N processes trains at N x batch_size
    patch_size: int = 256
    lr: float = 1e-4
    lr_min: float = 1e-6  # cosine floor
    warmup_epochs: int = 3  # ITS 3, OTS 1
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.0
    grad_clip: float | None = 0.001  # ITS 0.001, OTS / deraining / desnowing 0.01
    fft_weight: float = 0.1  # 0 ablates the frequency loss
    all_scales: bool = True  # False: supervise the full-scale output only
    flip: bool = True
    rotate: bool = False
    patches_per_image: int = 1  # >1 cuts several crops per decoded frame (large PNGs, GoPro)
    # or "bf16" autocast, or "fp16" autocast with loss scaling (CUDA only: Uformer's recipe);
    # the IRNeXt release trains in fp32
    precision: str = "fp32"
    seed: int = 0
    num_workers: int | str = "auto"  # loader processes; "auto" sizes them from the machine
    deterministic: bool = True  # NOTE: the release turns cudnn.benchmark on (non-deterministic)
    repeats_per_epoch: int = 1  # passes over a small dataset per epoch (synthetic benchmark)
    optimizer: str = "adam"  # or "adamw" (decoupled weight decay: Restormer, NAFNet, Uformer)
    pixel_loss: str = "l1"  # or "psnr" (NAFNet) or "charbonnier" (Uformer); see irnext.losses
    # > 0: train exactly this many optimiser steps with the cosine stepped per iteration
    # (BasicSR's TrueCosineAnnealingLR: NAFNet, FFTformer); `epochs` is then unused.
    iterations: int = 0
    # Progressive training (Restormer): ((steps, patch_size, batch_size), ...) run in order,
    # their steps adding up to `iterations`; the first is patch_size x batch_size.
    progressive: tuple[tuple[int, int, int], ...] = ()
    # Cyclic cosine restarts per iteration (BasicSR's CosineAnnealingRestartCyclicLR): periods
    # adding up to `iterations`, each with its restart weight and floor; empty: one cosine
    # from lr to lr_min. See irnext.training.stages.
    restart_periods: tuple[int, ...] = ()
    restart_weights: tuple[float, ...] = ()
    restart_eta_mins: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        check_types(self, {"grad_clip": (float, None), "num_workers": (int, "auto")} | _STAGED)
        if self.precision not in TRAINING_PRECISIONS:
            raise InputError(
                f"precision must be one of {TRAINING_PRECISIONS}, got {self.precision!r}"
            )
        _one_of(self, {"optimizer": OPTIMIZERS, "pixel_loss": PIXEL_LOSSES})
        at_least = {
            "batch_size": 1,  # >= 2 for a model with BatchNorm: check_model_fit
            "epochs": 1,
            "patch_size": 1,
            "patches_per_image": 1,
            "repeats_per_epoch": 1,
            "warmup_epochs": 0,
            "iterations": 0,
        }
        if self.num_workers != "auto":
            at_least["num_workers"] = 0
        _at_least(self, at_least)
        if not self.lr > 0 or self.lr_min < 0 or self.fft_weight < 0:
            raise InputError(
                f"lr must be > 0, lr_min and fft_weight >= 0; got lr {self.lr}, lr_min "
                f"{self.lr_min}, fft_weight {self.fft_weight}"
            )
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise InputError(f"betas must be two values in [0, 1), got {self.betas}")
        _finite(self, ("lr", "lr_min", "fft_weight", "weight_decay", "grad_clip"))
        if self.weight_decay < 0:
            raise InputError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if self.iterations and self.warmup_epochs:
            raise InputError(
                f"iterations={self.iterations} (a per-iteration schedule) takes no "
                f"warmup_epochs, got {self.warmup_epochs}"
            )
        check_stages(self)
        if self.grad_clip is not None and self.grad_clip <= 0:
            raise InputError(f"grad_clip must be > 0 or None (no clipping), got {self.grad_clip}")
        if not 0 <= self.seed < 2**64:  # what torch.manual_seed accepts
            raise InputError(f"seed must be in [0, 2**64), got {self.seed}")


@dataclass(frozen=True)
class EngineOptions:
    """How a run executes. None of these changes the trained weights on CPU; on GPU
    `channels_last` and `compile` pick other kernels, which may change the last bits."""

    log_every: int = 50  # steps between reads of the loss (the only host-device sync)
    save_every: int = 0  # epochs between resumable checkpoints (0: at the end only)
    save_every_steps: int = 0  # steps between resumable checkpoints (0: none)
    val_every_steps: int = 0  # steps between validations (0: after every epoch)
    channels_last: bool = False  # NHWC memory layout (faster convolutions on tensor cores)
    compile: bool = False  # torch.compile the forward pass

    def __post_init__(self) -> None:
        check_types(self, {})
        _at_least(self, {"log_every": 1, "save_every": 0, "save_every_steps": 0})
        _at_least(self, {"val_every_steps": 0})


def check_types(config: Any, special: dict[str, tuple]) -> None:
    """Each field holds its default's type (an int is a float too; bool is not an int): YAML
    and JSON hand over "false" or "10" too easily for a string to pass as a number."""
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        allowed = special.get(field.name) or (type(field.default),)
        if not any(_is(value, kind) for kind in allowed):
            names = " or ".join(_name(kind) for kind in allowed)
            raise InputError(
                f"{field.name}: expected {names}, got {type(value).__name__} {value!r}"
            )


def _is(value: Any, kind: Any) -> bool:
    if kind == "ints":
        return isinstance(value, tuple) and all(_is(v, int) for v in value)
    if kind == "stages":
        return isinstance(value, tuple) and all(_is(v, "ints") for v in value)
    if kind is None or isinstance(kind, str):
        return value == kind and type(value) is type(kind)
    if kind is bool:
        return isinstance(value, bool)
    if kind is tuple:  # betas: a pair of numbers
        return isinstance(value, tuple) and all(_is(v, float) for v in value)
    if isinstance(value, bool):
        return False
    return isinstance(value, (int, float)) if kind is float else isinstance(value, kind)


def _name(kind: Any) -> str:
    if kind in ("ints", "stages"):
        return {"ints": "a tuple of integers", "stages": "a tuple of integer triples"}[kind]
    if kind is None or isinstance(kind, str):
        return repr(kind) if kind is not None else "None"
    return {tuple: "a tuple of numbers", float: "a number"}.get(kind, kind.__name__)


def _finite(config: Any, names: tuple[str, ...]) -> None:
    """NaN passes every comparison test above (nan <= 0 is False): refuse it by name."""
    for name in names:
        value = getattr(config, name)
        if value is not None and not math.isfinite(value):
            raise InputError(f"{name} must be a finite number, got {value}")


def check_model_fit(config: TrainConfig, model: Any, *, processes: int = 1) -> None:
    """The crops and batches fit the model: crops a multiple of its `size_multiple` (the pooled
    maps would be cut short, unlike in inference, which pads) and at least its `min_size` (the
    LAM's reflection pad needs that much of the coarsest map); with BatchNorm layers, at least
    two images per global batch in every stage (`check_batch_norm_batch`)."""
    check_batch_norm_batch(config, model, processes=processes)
    multiple = getattr(model, "size_multiple", 1)
    smallest = max(getattr(model, "min_size", 1), multiple)
    if config.patch_size % multiple or config.patch_size < smallest:
        raise InputError(
            f"patch_size {config.patch_size} does not fit {type(model).__name__}: expected a "
            f"multiple of its size_multiple {multiple}, at least its min_size {smallest}"
        )


def check_batch_norm_batch(config: TrainConfig, model: Any, *, processes: int = 1) -> None:
    """A model holding BatchNorm layers (IRNeXt's LAM normalises its pooled 1 x 1 vectors over
    the batch) needs >= 2 images in every stage's global batch (`batch_size` per process x
    `processes`; the ranks share their statistics, irnext.training.distributed): with one,
    training statistics are undefined. Models without BatchNorm (Restormer, NAFNet) train at
    batch 1, as Restormer's last stages do on 8 GPUs."""
    smallest = min([config.batch_size, *(batch for _, _, batch in config.progressive)])
    check_norm_batch(model, smallest, processes=processes, what="batch_size")


def check_norm_batch(model: Any, batch: int, *, processes: int = 1, what: str = "batch") -> None:
    """The BatchNorm rule of `check_batch_norm_batch` for one training batch of `batch` images
    per process; layers found by module type, not by the model's name."""
    from torch import nn

    norms = [n for n, m in model.named_modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if norms and batch * processes < 2:
        raise InputError(
            f"{what} {batch} x {processes} process(es) does not fit "
            f"{type(model).__name__}: its BatchNorm layers ({norms[0]}, ...) normalise over "
            "the batch; expected a global batch >= 2"
        )


OPTIMIZERS = ("adam", "adamw")
PIXEL_LOSSES = ("l1", "psnr", "charbonnier")  # irnext.losses.PIXEL_LOSSES, without torch


def _one_of(config: Any, choices: dict[str, tuple[str, ...]]) -> None:
    for name, allowed in choices.items():
        if getattr(config, name) not in allowed:
            raise InputError(f"{name} must be one of {allowed}, got {getattr(config, name)!r}")


def _at_least(config: Any, lows: dict[str, int]) -> None:
    for name, low in lows.items():
        if getattr(config, name) < low:
            raise InputError(f"{name} must be >= {low}, got {getattr(config, name)}")


# Named recipes (see docs/training.md). "its" and "ots" are the release's dehazing recipes;
# the others are inferred from the same authors' sister code bases (same loss and optimiser)
# and say so in RECIPE_STATUS. Defocus deblurring has no known recipe.
RECIPES: dict[str, TrainConfig] = {
    "its": TrainConfig(),
    "ots": TrainConfig(epochs=30, batch_size=8, warmup_epochs=1, grad_clip=0.01),
    "gopro": TrainConfig(epochs=3000, batch_size=4, grad_clip=0.001),
    "rain13k": TrainConfig(epochs=300, batch_size=4, grad_clip=0.01),
    "desnow": TrainConfig(epochs=2000, batch_size=8, lr=2e-4, grad_clip=0.01),
}
RECIPE_STATUS = {
    "its": "official (Dehazing/ITS)",
    "ots": "official (Dehazing/OTS)",
    # The authors' code hard-codes `warmup_epochs=3` in each train.py (irnext.training.recipes).
    "gopro": "inferred: the authors' ConvIR Motion_Deblurring code (warm-up 3, hard-coded)",
    "rain13k": "inferred: the authors' ConvIR Image_deraining code (warm-up 3, hard-coded)",
    "desnow": "inferred: the authors' ConvIR Image_desnowing code (warm-up 3, hard-coded)",
}


def recipe(name: str) -> TrainConfig:
    """The named training recipe (see RECIPES); an unknown name lists the known ones."""
    if name not in RECIPES:
        raise InputError(f"unknown recipe '{name}'; known: {', '.join(RECIPES)}")
    return RECIPES[name]


def lr_factor(epoch: int, config: TrainConfig) -> float:
    """Multiplier of config.lr during `epoch` (0-based): linear warm-up, then cosine.

    The release wraps CosineAnnealingLR(T_max = epochs - warm-up, eta_min 1e-6) in a gradual
    warm-up scheduler (multiplier 1) stepped once before the first epoch, so warm-up epoch e
    (1-based) runs at e / warmup_epochs of the rate: 1/3, 2/3, 1 for ITS, and the cosine starts
    from the full rate in the epoch after.
    """
    if epoch < config.warmup_epochs:
        return (epoch + 1) / config.warmup_epochs
    span = max(config.epochs - config.warmup_epochs, 1)
    progress = (epoch - config.warmup_epochs) / span
    floor = config.lr_min / config.lr
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def lr_factor_step(step: int, config: TrainConfig) -> float:
    """Multiplier of config.lr for optimiser step `step` (1-based) of an `iterations` run.

    BasicSR steps its scheduler once before each iteration's update, so step s runs at
    eta_min + (lr - eta_min) (1 + cos(pi s / T)) / 2 with T = iterations, down to eta_min at
    the last step (NAFNet / FFTformer: `TrueCosineAnnealingLR`, no warm-up); with
    `restart_periods`, the cyclic restarts of `irnext.training.stages.restart_factor`.
    """
    if config.restart_periods:
        return restart_factor(step, config)
    floor = config.lr_min / config.lr
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * step / config.iterations))


def config_dict(config: TrainConfig | EngineOptions) -> dict[str, Any]:
    """Plain-data form of the recipe, as stored in checkpoints (tuples as lists, nested too)."""
    return {k: _plain(v) for k, v in asdict(config).items()}


def _plain(value: Any) -> Any:
    return [_plain(v) for v in value] if isinstance(value, (tuple, list)) else value
