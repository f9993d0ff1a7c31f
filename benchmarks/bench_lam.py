"""The dynamic filter (LAM) as one depthwise convolution vs the official unfold formulation.

    pytest benchmarks/bench_lam.py --benchmark-json results/bench/lam.json

Shapes are those the LAM sees in IRNeXt-dehaze at 256 x 256 with batch 4: the finest MSM
branch (pool 2) of each level. The unfold form materialises a k*k-times larger tensor; the size
of each form's largest intermediate is stored as extra_info["intermediate_mib"].
"""

from __future__ import annotations

import pytest
import torch

from irnext.models.blocks import apply_dynamic_filter
from tests.reference_irnext import dynamic_filter_unfold

# (channels, side) of the pool-2 branch at levels 1, 2, 3 for a 256 x 256 input.
SHAPES = [(32, 128), (64, 64), (128, 32)]
GROUPS, KERNEL = 8, 3


def _inputs(channels: int, side: int, batch: int = 4):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, channels, side, side, generator=gen)
    kernels = torch.randn(batch, GROUPS * KERNEL**2, generator=gen)
    return x, kernels


@pytest.mark.parametrize(("channels", "side"), SHAPES)
@pytest.mark.parametrize("form", ["grouped_conv", "unfold"])
def test_lam_filter(benchmark, form, channels, side):
    x, kernels = _inputs(channels, side)
    if form == "grouped_conv":
        k = kernels.view(x.shape[0], GROUPS, KERNEL, KERNEL)
        out = benchmark(apply_dynamic_filter, x, k)
    else:
        out = benchmark(dynamic_filter_unfold, x, kernels, GROUPS)
    # Largest intermediate: the unfold form holds k*k copies of the padded input (then the
    # product of the same size); the grouped form holds the padded input once.
    padded = x.shape[0] * channels * (side + KERNEL - 1) ** 2
    copies = 2 * KERNEL**2 if form == "unfold" else 1
    benchmark.extra_info["intermediate_mib"] = copies * padded * 4 / 2**20
    assert out.shape == x.shape
