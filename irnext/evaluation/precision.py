"""bf16 evaluation that says how far it moved the scores.

bf16 keeps 8 significant bits, so every bf16 convolution rounds its output by up to 2^-9 of its
magnitude. Two places turn that rounding into score changes of tenths of a dB on trained
networks (measured on the default profile's models, docs/protocols.md "Precision"):

- layers that read or write pixels: a dehazing or deraining network amplifies input errors by
  its contrast gain, and the output layer's rounding is the image's error itself;
- a convolution feeding a normalisation (IRNeXt's SCM ends in conv -> InstanceNorm): the norm
  divides the conv's rounding by a channel spread that can be 1/100 of the channel mean.

Those layers ("fp32 islands", a small share of the compute) run in fp32 under bf16 autocast.
What remains is the rounding spread over the network's body, which no choice of islands removes;
so a bf16 evaluation also scores its first images in fp32 and refuses to go on when the gap
exceeds the caller's tolerance (`Bf16Check`).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from torch import nn

from irnext.errors import InputError
from irnext.precisions import BF16_TOLERANCE_DB

IMAGE_CHANNELS = 4  # RGB, DehazeFormer's K/B map (4), RLN's 1-channel statistics
NORMS = (nn.InstanceNorm2d, nn.GroupNorm, nn.LayerNorm, nn.BatchNorm2d)
WEIGHTED = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)
CHECK_IMAGES = 4  # images scored twice (bf16 and fp32) before the rest run in bf16 alone


def _channels(module: nn.Module) -> tuple[int, int]:
    if isinstance(module, nn.Linear):
        return module.in_features, module.out_features
    return module.in_channels, module.out_channels


def fp32_islands(model: nn.Module) -> list[str]:
    """Names of the modules of `model` that run in fp32 under bf16: every conv or linear layer
    with at most `IMAGE_CHANNELS` input or output channels, and every normalisation layer of an
    nn.Sequential with the conv or linear layer that feeds it (the previous child, or the last
    layer of a previous nn.Sequential child)."""
    names = [
        name
        for name, module in model.named_modules()
        if isinstance(module, WEIGHTED) and min(_channels(module)) <= IMAGE_CHANNELS
    ]
    for prefix, module in model.named_modules():
        if not isinstance(module, nn.Sequential):
            continue
        children = list(module.named_children())
        for (first, layer), (second, after) in zip(children, children[1:]):
            feeder = _last_weighted(layer, f"{prefix}.{first}".lstrip("."))
            if feeder is not None and isinstance(after, NORMS):
                names += [feeder, f"{prefix}.{second}".lstrip(".")]
    return list(dict.fromkeys(names))  # once each, in the order found


def _last_weighted(module: nn.Module, name: str) -> str | None:
    """`name` if `module` is a conv or linear layer, else that of an nn.Sequential's last child
    when it is one (recursively), else None."""
    if isinstance(module, WEIGHTED):
        return name
    if isinstance(module, nn.Sequential) and len(module):
        last = str(len(module) - 1)
        return _last_weighted(module[-1], f"{name}.{last}")
    return None


@contextlib.contextmanager
def float32_islands(model: nn.Module, names: list[str]) -> Iterator[None]:
    """Within the block, the named modules of `model` run with autocast off on fp32 inputs.
    Their forward is wrapped on the instance and restored on exit (weights are untouched)."""
    patched = [model.get_submodule(name) for name in names]
    for module in patched:
        module.forward = _in_fp32(module.forward)
    try:
        yield
    finally:
        for module in patched:
            del module.forward  # back to the class's forward


def _in_fp32(forward):
    def run(*args, **kwargs):
        device = next((a.device.type for a in args if isinstance(a, torch.Tensor)), "cpu")
        with torch.autocast(device, enabled=False):
            return forward(*(_float(a) for a in args), **kwargs)

    return run


def _float(value):
    is_reduced = isinstance(value, torch.Tensor) and value.dtype in (torch.bfloat16, torch.half)
    return value.float() if is_reduced else value


class Bf16ToleranceError(InputError):
    """bf16 moved the scores of the checked images by more than the asked tolerance (a named
    error like any other bad option: the command line prints it and exits with status 2)."""


@dataclass
class Bf16Check:
    """Per-image gaps between bf16 and fp32 scores of the first `CHECK_IMAGES` images."""

    tolerance_db: float = BF16_TOLERANCE_DB  # checked by EvalOptions
    where: str = ""
    gaps: dict[str, list[float]] = field(default_factory=dict)

    @property
    def wanted(self) -> bool:
        return len(self.gaps.get("psnr_db", [])) < CHECK_IMAGES

    def add(self, bf16_scores: list[dict], fp32_scores: list[dict], names: list[str]) -> None:
        """Record the chunk's gaps; raises `Bf16ToleranceError` once PSNR moved too far."""
        for bf16, fp32 in zip(bf16_scores, fp32_scores, strict=True):
            for metric, value in fp32.items():
                gap = abs(bf16[metric] - value)
                self.gaps.setdefault(metric, []).append(0.0 if math.isnan(gap) else gap)
        largest = max(self.gaps["psnr_db"])
        if largest > self.tolerance_db:
            raise Bf16ToleranceError(
                f"{self.where}: bf16 moved the PSNR of {names} by up to {largest:.2e} dB from "
                f"fp32, more than the tolerance {self.tolerance_db:g} dB; evaluate in fp32, or "
                "accept a larger gap with --bf16-tolerance-db (bf16_tolerance_db)"
            )

    def record(self) -> dict[str, float | int]:
        """What goes into the summary: how many images were checked and the largest gaps."""
        checked = len(self.gaps.get("psnr_db", []))
        largest = {f"max_{metric}_gap": max(gaps) for metric, gaps in self.gaps.items()}
        return {"images": checked, "tolerance_db": self.tolerance_db, **largest}
