"""DehazeFormer's building blocks that carry no attention: the authors' padding, RLN, the
patch (un)embedding holder and SK fusion (github IDKiro/DehazeFormer, models/dehazeformer.py)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from irnext.models.deterministic import pad2d


def reflect_pad(x: torch.Tensor, pads: tuple[int, int, int, int]) -> torch.Tensor:
    """The authors' reflection padding (left, right, top, bottom).

    NOTE: reflection cannot pad by the side or more; the official code then fails (e.g. 16-24 px
    images, whose 1/4-scale windows need more padding than the map has). Only there, edge
    replication is used, so every size the official code accepts gives its outputs."""
    height, width = x.shape[-2:]
    left, right, top, bottom = pads
    if max(left, right) < width and max(top, bottom) < height:
        return pad2d(x, pads, "reflect")
    return pad2d(x, pads, "replicate")


class ReflectConv2d(nn.Conv2d):
    """`nn.Conv2d(..., padding_mode="reflect")` padded by `reflect_pad` (same weights and keys)."""

    def _conv_forward(self, x, weight, bias):
        x = reflect_pad(x, tuple(self._reversed_padding_repeated_twice))
        return F.conv2d(x, weight, bias, self.stride, 0, self.dilation, self.groups)


def init_conv(conv: nn.Conv2d, gain: float) -> None:
    # Official Mlp/Attention._init_weights: truncated normal, std = gain * sqrt(2 / fans), bias 0.
    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(conv.weight)
    nn.init.trunc_normal_(conv.weight, std=gain * math.sqrt(2.0 / (fan_in + fan_out)))
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


class RLN(nn.Module):
    """Rescale layer norm over C x H x W; the removed std and mean come back through the 1x1
    convs meta1/meta2 after the block, so the block keeps the image's absolute brightness."""

    def __init__(self, *, dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(1, dim, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, dim, 1, 1))
        self.meta1, self.meta2 = nn.Conv2d(1, dim, 1), nn.Conv2d(1, dim, 1)
        nn.init.trunc_normal_(self.meta1.weight, std=0.02)
        nn.init.constant_(self.meta1.bias, 1.0)
        nn.init.trunc_normal_(self.meta2.weight, std=0.02)
        nn.init.zeros_(self.meta2.bias)

    def forward(self, x: torch.Tensor):
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        std = torch.sqrt((x - mean).pow(2).mean(dim=(1, 2, 3), keepdim=True) + self.eps)
        normed = (x - mean) / std * self.weight + self.bias
        return normed, self.meta1(std), self.meta2(mean)


class Proj(nn.Module):
    """Holds one conv as `proj` (official PatchEmbed), or conv + pixel shuffle (PatchUnEmbed)."""

    def __init__(self, conv: nn.Conv2d, shuffle: int | None = None) -> None:
        super().__init__()
        self.proj = conv if shuffle is None else nn.Sequential(conv, nn.PixelShuffle(shuffle))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


class SKFusion(nn.Module):
    """Selective-kernel fusion of the decoder and skip features."""

    def __init__(self, *, dim: int, branches: int = 2, reduction: int = 8) -> None:
        super().__init__()
        hidden = max(dim // reduction, 4)
        self.branches = branches
        self.mlp = nn.Sequential(
            nn.Conv2d(dim, hidden, 1, bias=False),
            nn.ReLU(),
            nn.Conv2d(hidden, dim * branches, 1, bias=False),
        )

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        stacked = torch.stack(features, dim=1)
        pooled = stacked.sum(dim=1).mean(dim=(2, 3), keepdim=True)
        weights = self.mlp(pooled).view(stacked.shape[0], self.branches, -1, 1, 1)
        return (stacked * weights.softmax(dim=1)).sum(dim=1)
