"""Restoring whole images of any size with a trained network.

IRNeXt needs sides that are multiples of 32 and at least 64 (docs/network.md); the
official test scripts reflect-pad bottom/right to the next multiple and crop back. `restore`
does that for any model exposing `size_multiple` / `min_size` (default 1), and can tile large
images with overlapping, linearly blended windows when a whole image does not fit in memory.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from irnext.errors import InputError


def pad_to_multiple(
    x: torch.Tensor, multiple: int, min_size: int = 1
) -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad N x C x H x W at the bottom and right so both sides are multiples of `multiple` and at
    least `min_size`. Reflection where the image is large enough (official test code), edge
    replication otherwise (reflection cannot pad by more than the side minus one)."""
    h, w = x.shape[-2:]
    target_h = max(math.ceil(h / multiple), math.ceil(min_size / multiple)) * multiple
    target_w = max(math.ceil(w / multiple), math.ceil(min_size / multiple)) * multiple
    pad_h, pad_w = target_h - h, target_w - w
    if pad_h == 0 and pad_w == 0:
        return x, (h, w)
    mode = "reflect" if pad_h < h and pad_w < w else "replicate"
    return F.pad(x, (0, pad_w, 0, pad_h), mode=mode), (h, w)


def forward_restored(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The model's restored image: the last (full-scale) output of multi-output networks."""
    out = model(x)
    return out[-1] if isinstance(out, (list, tuple)) else out


@torch.no_grad()
def restore(
    model: nn.Module,
    image: torch.Tensor,
    *,
    tile: int | None = None,
    tile_overlap: int = 32,
    check_finite: bool = True,
) -> torch.Tensor:
    """Restore a 3 x H x W image or an N x 3 x H x W batch of float values in [0, 1].

    Runs on the model's device and dtype, in eval mode (the model's mode is restored after),
    without gradients; pads as the model needs, crops back and clamps to [0, 1]. Returns a tensor
    of the input's shape on the model's device. With `tile`, windows of `tile` pixels overlapping
    by `tile_overlap` are restored one by one and blended linearly. `check_finite=False` skips
    the NaN/Inf check of the input, a host synchronisation on a GPU, for callers whose inputs
    are finite by construction (images decoded from integer files, as `evaluate` does).
    """
    batch = _check_image(image, check_finite=check_finite)
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else batch.device
    dtype = parameter.dtype if parameter is not None else batch.dtype
    batch = batch.to(device=device, dtype=dtype)
    was_training = model.training
    model.eval()
    try:
        if tile is None or (batch.shape[-2] <= tile and batch.shape[-1] <= tile):
            out = _restore_whole(model, batch)
        else:
            out = _restore_tiled(model, batch, tile, tile_overlap)
    finally:
        model.train(was_training)
    out = out.clamp_(0.0, 1.0)
    return out[0] if image.dim() == 3 else out


def _check_image(image: torch.Tensor, *, check_finite: bool = True) -> torch.Tensor:
    if not isinstance(image, torch.Tensor):
        raise InputError(f"image: expected a torch.Tensor, got {type(image).__name__}")
    if not image.is_floating_point():
        raise InputError(
            f"image: expected a float tensor with values in [0, 1], got dtype {image.dtype} "
            "(convert uint8 with image.float() / 255)"
        )
    if image.dim() not in (3, 4) or image.shape[-3] != 3:
        raise InputError(
            f"image: expected shape 3 x H x W or N x 3 x H x W (RGB), got {tuple(image.shape)}"
        )
    batch = image if image.dim() == 4 else image.unsqueeze(0)
    if not check_finite:
        return batch
    finite = torch.isfinite(batch).flatten(1).all(dim=1)
    if not finite.all():  # a NaN would propagate through every filter and score as NaN
        bad = (~finite).nonzero().flatten().tolist()
        where = "the image" if image.dim() == 3 else f"image(s) {bad} of the batch (0-based)"
        raise InputError(f"image: NaN or infinite values in {where}; expected values in [0, 1]")
    return batch


def _restore_whole(model: nn.Module, batch: torch.Tensor) -> torch.Tensor:
    multiple = int(getattr(model, "size_multiple", 1))
    min_size = int(getattr(model, "min_size", 1))
    padded, (h, w) = pad_to_multiple(batch, multiple, min_size)
    return forward_restored(model, padded)[..., :h, :w]


def _tile_starts(length: int, tile: int, stride: int) -> list[int]:
    starts = list(range(0, max(length - tile, 0) + 1, stride))
    if starts[-1] + tile < length:
        starts.append(length - tile)
    return starts


def check_tiling(tile: int, overlap: int) -> None:
    """Named errors for a tile side and overlap that `restore` cannot blend."""
    if tile < 1:
        raise InputError(f"tile: expected a side of at least 1 pixel, got {tile}")
    if not 0 <= overlap < tile or overlap == 1:
        # One pixel of overlap gives the seam pixel zero weight from both tiles (0 / 0).
        raise InputError(f"tile_overlap: expected 0 or 2 <= overlap < tile={tile}, got {overlap}")


def _restore_tiled(model: nn.Module, batch: torch.Tensor, tile: int, overlap: int) -> torch.Tensor:
    check_tiling(tile, overlap)
    h, w = batch.shape[-2:]
    out = torch.zeros_like(batch)
    weight = torch.zeros((1, 1, h, w), dtype=batch.dtype, device=batch.device)
    for top in _tile_starts(h, tile, tile - overlap):
        for left in _tile_starts(w, tile, tile - overlap):
            window = batch[..., top : top + tile, left : left + tile]
            th, tw = window.shape[-2:]
            rows = _blend_weights(top, th, h, overlap, batch)
            cols = _blend_weights(left, tw, w, overlap, batch)
            mask = rows[:, None] * cols[None, :]
            out[..., top : top + th, left : left + tw] += _restore_whole(model, window) * mask
            weight[..., top : top + th, left : left + tw] += mask
    return out / weight


def _blend_weights(
    start: int, size: int, length: int, overlap: int, like: torch.Tensor
) -> torch.Tensor:
    """1-D blending weights of one tile: rising linearly from 0 over `overlap` pixels at each
    edge that lies inside the image (a tile's edge pixels see its zero padding, so they get no
    weight), flat 1 at the image's own borders. A neighbouring tile covers every zero."""
    weights = torch.ones(size, dtype=like.dtype, device=like.device)
    if overlap == 0:
        return weights
    rise = torch.arange(overlap, dtype=like.dtype, device=like.device) / overlap
    if start > 0:
        weights[:overlap] = torch.minimum(weights[:overlap], rise)
    if start + size < length:
        weights[-overlap:] = torch.minimum(weights[-overlap:], rise.flip(0))
    return weights
