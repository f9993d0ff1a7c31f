"""Padding and bilinear resizing whose backward passes are deterministic on CUDA.

torch has no deterministic CUDA backward for reflection / replication padding or for bilinear
`F.interpolate` (their gradients are accumulated with atomic adds), so
`torch.use_deterministic_algorithms(True)` stops IRNeXt (LAM padding, MSM resizes) and
DehazeFormer (reflect-padded convolutions and windows) at their first backward. Under that mode,
on CUDA, these functions compute the same values from slices, flips, concatenations and small
matrix products, whose backward passes are deterministic; everywhere else they call the native
operators, so outputs elsewhere are bit for bit those of `F.pad` / `F.interpolate`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _composed(x: torch.Tensor) -> bool:
    return x.is_cuda and torch.are_deterministic_algorithms_enabled()


def pad2d(x: torch.Tensor, pads: tuple[int, int, int, int], mode: str) -> torch.Tensor:
    """`F.pad(x, (left, right, top, bottom), mode)` for mode "reflect" or "replicate"."""
    if not _composed(x):
        return F.pad(x, pads, mode=mode)
    return pad2d_composed(x, pads, mode)


def pad2d_composed(x: torch.Tensor, pads: tuple[int, int, int, int], mode: str) -> torch.Tensor:
    """The padding as slices and concatenations (rows first, then columns)."""
    left, right, top, bottom = pads
    x = _pad_dim(x, top, bottom, -2, mode)
    return _pad_dim(x, left, right, -1, mode)


def _pad_dim(x: torch.Tensor, before: int, after: int, dim: int, mode: str) -> torch.Tensor:
    size = x.shape[dim]
    if mode == "reflect":
        if max(before, after) >= size:
            raise ValueError(f"reflection pad {max(before, after)} must be below the side {size}")
        head = x.narrow(dim, 1, before).flip(dim)
        tail = x.narrow(dim, size - 1 - after, after).flip(dim)
    elif mode == "replicate":
        head = x.narrow(dim, 0, 1).repeat_interleave(before, dim=dim)
        tail = x.narrow(dim, size - 1, 1).repeat_interleave(after, dim=dim)
    else:
        raise ValueError(f"padding mode must be 'reflect' or 'replicate', got {mode!r}")
    return torch.cat([head, x, tail], dim=dim)


def resize_bilinear(x: torch.Tensor, size: tuple[int, int], *, align_corners: bool) -> torch.Tensor:
    """`F.interpolate(x, size, mode="bilinear", align_corners=...)` (no antialiasing)."""
    if not _composed(x):
        return F.interpolate(x, size=size, mode="bilinear", align_corners=align_corners)
    return resize_bilinear_composed(x, size, align_corners=align_corners)


def resize_bilinear_composed(
    x: torch.Tensor, size: tuple[int, int], *, align_corners: bool
) -> torch.Tensor:
    """Separable bilinear resizing as two matrix products: rows, then columns."""
    rows = interpolation_matrix(x.shape[-2], size[0], align_corners, x)
    cols = interpolation_matrix(x.shape[-1], size[1], align_corners, x)
    return torch.einsum("oh,nchw,pw->ncop", rows, x, cols)


def interpolation_matrix(
    length: int, out: int, align_corners: bool, like: torch.Tensor
) -> torch.Tensor:
    """out x length weights of 1-D linear interpolation, with torch's source-index rules."""
    index = torch.arange(out, dtype=torch.float64, device=like.device)
    if align_corners:
        source = index * ((length - 1) / (out - 1)) if out > 1 else index * 0
    else:  # half-pixel centres, clamped at 0 as in ATen's area_pixel_compute_source_index
        source = ((index + 0.5) * (length / out) - 0.5).clamp(min=0)
    low = source.floor().clamp(max=length - 1)
    frac = source - low
    high = (low + 1).clamp(max=length - 1)
    matrix = torch.zeros(out, length, dtype=torch.float64, device=like.device)
    matrix[torch.arange(out), low.long()] += 1 - frac
    matrix[torch.arange(out), high.long()] += frac
    return matrix.to(like.dtype)


class BilinearUpsample2x(torch.nn.Module):
    """`nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)` through
    `resize_bilinear` (no parameters: state_dict keys are unchanged)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = (2 * x.shape[-2], 2 * x.shape[-1])
        return resize_bilinear(x, size, align_corners=False)
