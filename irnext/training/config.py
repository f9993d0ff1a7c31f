"""Training with the paper's recipe (IRNEXT_SPEC section 4), GPU first.

`TrainConfig()` is the official dehazing recipe on RESIDE-ITS: Adam(0.9, 0.999), lr 1e-4 with a
linear warm-up then cosine decay to 1e-6 stepped per epoch, 256 x 256 crops with horizontal flips,
L1 + 0.1 FFT-L1 on every output scale, gradient-norm clipping at 0.001, no AMP, no EMA.

NOTE: departures from the official release, all switchable: the run is seeded and
`cudnn.benchmark` is off by default (the release is unseeded and non-deterministic), and no
checkpoint is selected on the test set: `train` returns the last model and the per-epoch history,
with validation scores when a validation set (never the test split) is given.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from irnext.data import PairedImageDataset, training_loader
from irnext.errors import InputError
from irnext.evaluation import evaluate
from irnext.losses import multiscale_loss


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 300  # ITS: 300 epochs at batch 4 (~1.05 M iterations)
    batch_size: int = 4
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
    precision: str = "fp32"  # or "bf16" autocast (the release trains in fp32)
    seed: int = 0
    num_workers: int = 2
    deterministic: bool = True  # cudnn.benchmark off; the release turns it on
    repeats_per_epoch: int = 1  # passes over a small dataset per epoch (synthetic benchmark)

    def __post_init__(self) -> None:
        if self.precision not in ("fp32", "bf16"):
            raise InputError(f"precision must be 'fp32' or 'bf16', got {self.precision!r}")
        if self.batch_size < 2:
            # The LAM's BatchNorm normalises over the batch of pooled vectors (1 x 1 maps).
            raise InputError(
                f"batch_size must be >= 2 for IRNeXt's BatchNorm, got {self.batch_size}"
            )
        at_least = {
            "epochs": 1,
            "patch_size": 1,
            "patches_per_image": 1,
            "repeats_per_epoch": 1,
            "warmup_epochs": 0,
            "num_workers": 0,
        }
        for name, low in at_least.items():
            if getattr(self, name) < low:
                raise InputError(f"{name} must be >= {low}, got {getattr(self, name)}")
        if not self.lr > 0 or self.lr_min < 0 or self.fft_weight < 0:
            raise InputError(
                f"lr must be > 0, lr_min and fft_weight >= 0; got lr {self.lr}, lr_min "
                f"{self.lr_min}, fft_weight {self.fft_weight}"
            )
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise InputError(f"betas must be two values in [0, 1), got {self.betas}")
        if self.grad_clip is not None and self.grad_clip <= 0:
            raise InputError(f"grad_clip must be > 0 or None (no clipping), got {self.grad_clip}")


# Named recipes (IRNEXT_SPEC section 4). "its" and "ots" are the release's dehazing recipes
# [code]; the others are inferred from the same authors' sister code bases (same loss and
# optimiser) and say so in RECIPE_STATUS. Defocus deblurring has no known recipe.
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
    "gopro": "inferred: sister code bases (warm-up length unknown, kept at 3)",
    "rain13k": "inferred: sister code bases (warm-up length unknown, kept at 3)",
    "desnow": "inferred: sister code bases (warm-up length unknown, kept at 3)",
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


def train(
    model: nn.Module,
    train_set: PairedImageDataset,
    config: TrainConfig,
    *,
    device: str | torch.device = "cpu",
    val_set: PairedImageDataset | None = None,
    val_protocol: str | None = None,
    log: Callable[[dict[str, Any]], None] | None = None,
    resume: dict[str, Any] | None = None,
    on_epoch_end: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Train `model` in place; returns one record per epoch (loss, lr, seconds, val scores).

    After each epoch `on_epoch_end` receives the resume state {"epoch", "optimizer",
    "history"}; passing such a state back as `resume` (with the model's weights of that epoch
    loaded) continues the run exactly as if it had not stopped: the schedule is a function of
    the epoch and each epoch's batches a function of (seed, epoch).
    """
    multiple = getattr(model, "size_multiple", 1)
    if config.patch_size % multiple:  # the pooled maps would be cut short, unlike in inference
        raise InputError(
            f"patch_size {config.patch_size} must be a multiple of the model's size_multiple "
            f"{multiple}"
        )
    torch.manual_seed(config.seed)
    torch.backends.cudnn.benchmark = not config.deterministic
    device = torch.device(device)
    model.to(device).train()
    optimizer = torch.optim.Adam(
        model.parameters(), lr=config.lr, betas=config.betas, weight_decay=config.weight_decay
    )
    start, history = 0, []
    if resume is not None:
        start, history = int(resume["epoch"]), list(resume["history"])
        if not 0 <= start <= config.epochs:
            raise InputError(f"resume state at epoch {start}; the recipe has {config.epochs}")
        optimizer.load_state_dict(resume["optimizer"])
    loader = training_loader(
        train_set,
        batch_size=config.batch_size,
        patch_size=config.patch_size,
        seed=config.seed,
        num_workers=config.num_workers,
        flip=config.flip,
        rotate=config.rotate,
        patches_per_image=config.patches_per_image,
    )
    if len(loader) == 0:  # drop_last: fewer samples than one batch would train nothing
        raise InputError(
            f"dataset '{train_set.info.name}' split '{train_set.split}' at {train_set.root} "
            f"gives {len(loader.dataset)} training samples, fewer than batch_size "
            f"{config.batch_size}"
        )
    loader.sampler.epoch = start * config.repeats_per_epoch  # the batches epoch `start` draws
    for epoch in range(start, config.epochs):
        for group in optimizer.param_groups:
            group["lr"] = config.lr * lr_factor(epoch, config)
        start, losses = time.perf_counter(), []
        for _ in range(config.repeats_per_epoch):
            losses += [_step(model, optimizer, batch, config, device) for batch in loader]
        record = {
            "epoch": epoch + 1,
            "lr": optimizer.param_groups[0]["lr"],
            "loss": sum(losses) / len(losses),
            "steps": len(losses),
            "seconds": time.perf_counter() - start,
        }
        if val_set is not None:
            record.update(
                validate(
                    model, val_set, protocol=val_protocol or val_set.info.protocol, device=device
                )
            )
            model.train()
        history.append(record)
        if log is not None:
            log(record)
        if on_epoch_end is not None:
            on_epoch_end(
                {"epoch": epoch + 1, "optimizer": optimizer.state_dict(), "history": history}
            )
    return history


def _step(model, optimizer, batch, config: TrainConfig, device) -> float:
    inputs = batch["input"].to(device, non_blocking=True)
    target = batch["target"].to(device, non_blocking=True)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.precision == "bf16"):
        outputs = model(inputs)
    if isinstance(outputs, torch.Tensor):  # single-output baselines (DehazeFormer, spandrel)
        outputs = [outputs]
    loss = multiscale_loss(
        outputs, target, fft_weight=config.fft_weight, all_scales=config.all_scales
    )
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if config.grad_clip:
        nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
    optimizer.step()
    return float(loss.detach())


def validate(
    model: nn.Module,
    dataset: PairedImageDataset,
    *,
    protocol: str,
    device: str | torch.device = "cpu",
) -> dict[str, float]:
    """Mean PSNR / SSIM of whole restored images under `protocol` (`irnext.evaluation`)."""
    _, summary = evaluate(model, dataset, protocol=protocol, device=device)
    return {f"val_{key}": summary["means"][key] for key in ("psnr_db", "ssim")}


def config_dict(config: TrainConfig) -> dict[str, Any]:
    """Plain-data form of the recipe, as stored in checkpoints."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()}
