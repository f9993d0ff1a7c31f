"""Test-time Local Converter (TLC; Chu, Chen, Chen, Lu, "Improving Image Restoration by
Revisiting Global Information Aggregation", ECCV 2022), the NAFNet test-time wrapper.

A network trained on 256 x 256 crops learns global statistics (global average pooling) of
256-pixel windows; applied to a 1280 x 720 image those statistics cover a different extent.
TLC replaces every global average pool by a local one whose window is 1.5x the extent the pool
saw in training (NAFNet's `Local_Base.convert` with base_size = 1.5 x train_size), worth about
+0.6 dB on GoPro for NAFNet-w64. Where the feature map fits in the window it is the global pool,
so images up to 1.5 x the training size are restored exactly as without TLC.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class LocalAvgPool2d(nn.Module):
    """Mean over a sliding `kernel_size` window, output the input's size (edges replicated)."""

    def __init__(self, *, kernel_size: tuple[int, int]) -> None:
        super().__init__()
        self.kernel_size = tuple(kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        if self.kernel_size[0] >= height and self.kernel_size[1] >= width:
            return F.adaptive_avg_pool2d(x, 1)
        kh, kw = min(height, self.kernel_size[0]), min(width, self.kernel_size[1])
        # Box sums from a summed-area table, as the official implementation computes them.
        table = F.pad(x.cumsum(dim=-1).cumsum(dim=-2), (1, 0, 1, 0))
        sums = (
            table[..., kh:, kw:]
            + table[..., :-kh, :-kw]
            - table[..., :-kh, kw:]
            - table[..., kh:, :-kw]
        )
        out = sums / (kh * kw)
        out_h, out_w = out.shape[-2:]
        pad = (
            (width - out_w) // 2,
            (width - out_w + 1) // 2,
            (height - out_h) // 2,
            (height - out_h + 1) // 2,
        )
        return F.pad(out, pad, mode="replicate")

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}"


def _global_pools(model: nn.Module) -> list[tuple[nn.Module, str, nn.Module]]:
    found = []
    for parent in model.modules():
        for name, child in parent.named_children():
            if isinstance(child, nn.AdaptiveAvgPool2d) and child.output_size in (1, (1, 1)):
                found.append((parent, name, child))
    return found


def apply_tlc(model: nn.Module, *, train_size: int = 256, base_ratio: float = 1.5) -> nn.Module:
    """Replace the global average pools of `model` in place by TLC local pools; returns it.

    Each pool's window is `base_ratio` x the spatial extent it receives when the model runs on
    a `train_size` square, found by running the model once on such an input.
    """
    pools = _global_pools(model)
    if not pools:
        raise ValueError(f"{type(model).__name__} has no global average pool for TLC to replace")
    seen: dict[int, tuple[int, int]] = {}

    def record(module: nn.Module, inputs: tuple, _output: torch.Tensor) -> None:
        seen.setdefault(id(module), tuple(inputs[0].shape[-2:]))

    hooks = [pool.register_forward_hook(record) for _, _, pool in pools]
    parameter = next(model.parameters())
    probe = torch.zeros(
        1, 3, train_size, train_size, device=parameter.device, dtype=parameter.dtype
    )
    was_training = model.training
    try:
        with torch.no_grad():
            model.eval()(probe)
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    base = int(train_size * base_ratio)
    for parent, name, pool in pools:
        height, width = seen[id(pool)]
        kernel = (height * base // train_size, width * base // train_size)
        setattr(parent, name, LocalAvgPool2d(kernel_size=kernel))
    return model
