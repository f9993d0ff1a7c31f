"""MAC counters against hand-computed counts on small networks (CPU, seconds)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from irnext.cost.counters import COUNTERS, count_macs
from irnext.cost.handles import attention_macs, fft_macs
from irnext.errors import InputError


class SmallConvNet(nn.Module):
    """Plain, strided-grouped and transposed convolutions, then a bilinear x2 resize."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.grouped = nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=2)
        self.up = nn.ConvTranspose2d(16, 4, 4, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.up(F.gelu(self.grouped(F.gelu(self.conv(x)))))
        return F.interpolate(y, scale_factor=2, mode="bilinear", align_corners=False)


def test_small_conv_net_matches_the_hand_count() -> None:
    # Hand count at 1x3x16x16 (MACs, no bias):
    conv = 8 * 16 * 16 * (3 * 3 * 3)  # 8 output maps of 16x16, 27 taps each
    grouped = 16 * 8 * 8 * (8 // 2 * 3 * 3)  # 16 maps of 8x8, 4 input channels x 9 taps
    transposed = 16 * 8 * 8 * (4 * 4 * 4)  # each input pixel scatters into 4 maps x 4x4 taps
    bilinear = 4 * 32 * 32 * 4  # 4 neighbours per output element
    record = count_macs(SmallConvNet(), (1, 3, 16, 16))
    expected = conv + grouped + transposed + bilinear
    assert expected == 174_080
    for counter in COUNTERS:
        assert record[f"macs_{counter}"] == expected, counter
    assert record["params"] == sum(p.numel() for p in SmallConvNet().parameters())
    assert record["uncounted_ops"] == []
    assert "gelu" in record["not_counted_ops"]["activation"]


def test_fft_formula_equals_the_radix2_butterfly_count() -> None:
    # An 8-point radix-2 FFT: (N/2) log2 N = 12 butterflies, each one complex multiply (4 real
    # multiplies + 2 adds) and two complex adds (4 adds): 10 flops, 120 flops = 60 MACs.
    assert fft_macs((8,), (0,), real=False) == 12 * 10 // 2
    # 2-D: N = 16 * 32 points, log2 N = 9; a real-input transform costs half; 2 channels.
    assert fft_macs((1, 2, 16, 32), (-2, -1), real=True) == 2 * 2.5 * 512 * 9 / 2


class SpectralFilter(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spectrum = torch.fft.rfft2(x)
        full = torch.fft.fft2(x.to(torch.complex64))
        return torch.fft.irfft2(spectrum, s=x.shape[-2:]) + full.real


def test_fft_handle_counts_each_transform_in_every_counter() -> None:
    n = 16 * 32
    real = 2 * 2.5 * n * math.log2(n) / 2
    expected = 2 * real + 2 * (2.5 * n * math.log2(n))  # rfft2 + irfft2 + complex fft2
    record = count_macs(SpectralFilter(), (1, 2, 16, 32))
    for counter in COUNTERS:
        assert record[f"macs_{counter}"] == pytest.approx(expected, abs=2), counter
    assert record["uncounted_ops"] == []


class Attention(nn.Module):
    def __init__(self, *, fused: bool) -> None:
        super().__init__()
        self.fused = fused

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = k = v = x.flatten(2).transpose(1, 2).reshape(1, 2, -1, 8)  # 2 heads of 8 channels
        if self.fused:
            return F.scaled_dot_product_attention(q, k, v)
        weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(8), dim=-1)
        return weights @ v


def test_fused_attention_costs_the_same_as_its_two_matmuls() -> None:
    shape = (1, 16, 4, 4)  # 16 channels x 16 tokens -> 2 heads x 16 tokens x 8
    expected = attention_macs((1, 2, 16, 8), (1, 2, 16, 8), (1, 2, 16, 8))
    assert expected == 2 * 16 * 16 * (8 + 8)
    fused, explicit = (count_macs(Attention(fused=f), shape) for f in (True, False))
    for counter in COUNTERS:
        assert fused[f"macs_{counter}"] == explicit[f"macs_{counter}"] == expected, counter


def test_unfold_form_of_the_dynamic_filter_costs_the_same_as_the_grouped_conv() -> None:
    from irnext.models.blocks import apply_dynamic_filter

    class Unfolded(nn.Module):  # the official LAM form: unfold, multiply, sum over the window
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            n, c, h, w = x.shape
            kernels = torch.ones(n, 2, 1, 9, 1)  # 2 groups of c/2 channels, 3x3
            cols = F.unfold(F.pad(x, [1] * 4, mode="reflect"), 3).reshape(n, 2, c // 2, 9, h * w)
            return (cols * kernels).sum(dim=3).reshape(n, c, h, w)

    class Grouped(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return apply_dynamic_filter(x, torch.ones(x.shape[0], 2, 3, 3))

    shape = (2, 4, 8, 8)
    expected = 2 * 4 * 8 * 8 * 9  # one 3x3 window per output element
    for model in (Unfolded(), Grouped()):
        record = count_macs(model, shape)
        for counter in COUNTERS:
            assert record[f"macs_{counter}"] == expected, (type(model).__name__, counter)


class Cumulative(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cumprod(x, dim=-1)


def test_an_operator_without_formula_or_class_is_named_by_every_counter() -> None:
    record = count_macs(Cumulative(), (1, 1, 4, 4))
    flagged = {(item["counter"], item["op"]) for item in record["uncounted_ops"]}
    assert flagged == {(counter, "cumprod") for counter in COUNTERS}
    assert all(item["why"] for item in record["uncounted_ops"])


def test_bad_arguments_name_the_value_and_the_expected_form() -> None:
    with pytest.raises(InputError, match="thop"):
        count_macs(SmallConvNet(), (1, 3, 8, 8), counters=("thop",))
    with pytest.raises(InputError, match="N, C, H, W"):
        count_macs(SmallConvNet(), (3, 8, 8))
