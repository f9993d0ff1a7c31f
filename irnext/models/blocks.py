"""IRNeXt's building blocks (docs/network.md#structure; paper section 3).

Order: helpers, the local attention module (DynamicFilter), the multi-scale module, the residual
block and stage, the multi-input modules (ShallowConvModule, FeatureFusion).

Every convolution is wrapped in an `nn.Sequential` (conv, then GELU when activated), mirroring the
official `BasicConv`, so that `irnext.models.official` can map keys one to one.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from irnext.models.deterministic import pad2d, resize_bilinear


def conv_block(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    *,
    stride: int = 1,
    bias: bool = True,
    act: bool = True,
    transpose: bool = False,
) -> nn.Sequential:
    """Conv (or transposed conv) with 'same' padding, optionally followed by GELU."""
    if transpose:
        # Official BasicConv: padding k // 2 - 1, so a 4x4 stride-2 kernel exactly doubles H, W.
        layer: nn.Module = nn.ConvTranspose2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2 - 1,
            bias=bias,
        )
    else:
        layer = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            bias=bias,
        )
    return nn.Sequential(layer, nn.GELU()) if act else nn.Sequential(layer)


def apply_dynamic_filter(x: torch.Tensor, kernels: torch.Tensor, dilation: int = 1) -> torch.Tensor:
    """Filter each image with its own per-group kh x kw kernels (dilated), reflect-padded.

    x: N x C x H x W; kernels: N x G x kh x kw, channel c using kernel c // (C / G).
    Computed as one depthwise convolution over the N*C channels of a 1-image batch: the same
    sums as the official `F.unfold` formulation, without materialising the k*k-fold unfolded
    tensor (see tests/reference_irnext.py for the unfold form).
    """
    n, c, h, w = x.shape
    groups, kh, kw = kernels.shape[1:]
    weight = kernels.reshape(n, groups, 1, kh, kw).expand(n, groups, c // groups, kh, kw)
    pad_w, pad_h = dilation * (kw // 2), dilation * (kh // 2)
    x = pad2d(x, (pad_w, pad_w, pad_h, pad_h), "reflect")
    out = F.conv2d(
        x.reshape(1, n * c, *x.shape[-2:]),
        weight.reshape(n * c, 1, kh, kw),
        dilation=dilation,
        groups=n * c,
    )
    return out.reshape(n, c, h, w)


# The kernel each shape predicts, and the axes the modulation's mean is taken over (ConvIR's
# strip attention: a 1 x k kernel along rows with the mean of each row, k x 1 along columns).
SHAPES = {"square": (None, (2, 3)), "horizontal": ((1, None), (3,)), "vertical": ((None, 1), (2,))}


class DynamicFilter(nn.Module):
    """Local attention module (LAM): a content-adaptive low-pass filter + frequency modulation.

    A per-image, per-group k x k kernel is predicted from the globally pooled features
    (tanh(BN(conv1x1(GAP(x))))) and applied to x. With `frequency_modulation`, the low-pass part
    and the residual high frequencies are re-weighted per channel by W, lambda_l and lambda_h
    (all zero-initialised, so the module starts as the identity; official `dynamic_filter`):
    out = lambda_l * (low * (1 + W) - W * mean) + (1 + lambda_h) * x.

    Without it, two definitions: the low-pass output alone (`skip=False`), or the same formula
    with W = 0, lambda_l = 1, lambda_h = 0 fixed (`skip=True`: out = low + x, the pass-through
    of x kept). Neither has parameters of its own.

    ConvIR (Cui et al., TPAMI 2024) adds `dilation` and the strip `shape`s "horizontal"
    (1 x k kernel, mean of each row) and "vertical" (k x 1, mean of each column); its strips
    have no BatchNorm and keep PyTorch's initialisation (ConvIR `spatial_strip_att`).
    """

    def __init__(
        self,
        channels: int,
        *,
        groups: int = 8,
        kernel_size: int = 3,
        frequency_modulation: bool = True,
        skip: bool = False,
        dilation: int = 1,
        shape: str = "square",
    ) -> None:
        super().__init__()
        if skip and frequency_modulation:
            raise ValueError("lam_skip applies only with frequency_modulation=False")
        if channels % groups:
            raise ValueError(f"filter_groups={groups} must divide the channel count {channels}")
        if kernel_size % 2 == 0:
            raise ValueError(f"filter_kernel must be odd, got {kernel_size}")
        if shape not in SHAPES:
            raise ValueError(f"shape must be one of {sorted(SHAPES)}, got {shape!r}")
        kernel, self.mean_dims = SHAPES[shape]
        self.kernel_shape = tuple(
            kernel_size if side is None else side for side in kernel or (None, None)
        )
        self.groups, self.kernel_size, self.dilation = groups, kernel_size, dilation
        taps = self.kernel_shape[0] * self.kernel_shape[1]
        self.kernel_head = nn.Conv2d(channels, groups * taps, 1, bias=False)
        if shape == "square":
            # NOTE: BatchNorm over an N x G*k*k x 1 x 1 tensor: training needs batch size >= 2.
            self.norm = nn.BatchNorm2d(groups * taps)
            nn.init.kaiming_normal_(self.kernel_head.weight, mode="fan_out", nonlinearity="relu")
        else:
            self.norm = nn.Identity()
        self.frequency_modulation, self.skip = frequency_modulation, skip
        if frequency_modulation:
            self.freq_weight = nn.Parameter(torch.zeros(channels, 1, 1))  # W ("inside_all")
            self.lambda_low = nn.Parameter(torch.zeros(channels))
            self.lambda_high = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernels = torch.tanh(self.norm(self.kernel_head(x.mean(dim=(2, 3), keepdim=True))))
        kernels = kernels.reshape(x.shape[0], self.groups, *self.kernel_shape)
        low = apply_dynamic_filter(x, kernels, self.dilation)
        if not self.frequency_modulation:
            return low + x if self.skip else low
        mean = x.mean(dim=self.mean_dims, keepdim=True)
        low = low * (1 + self.freq_weight) - self.freq_weight * mean
        return self.lambda_low[:, None, None] * low + (1 + self.lambda_high[:, None, None]) * x


class StripAttention(nn.Module):
    """ConvIR's strip attention (`cubic_attention`): a horizontal then a vertical strip filter,
    out = gamma * vertical(horizontal(x)) + beta * x, gamma = 0 and beta = 1 at the start."""

    def __init__(self, channels: int, **filter_kwargs) -> None:
        super().__init__()
        self.horizontal = DynamicFilter(channels, shape="horizontal", **filter_kwargs)
        self.vertical = DynamicFilter(channels, shape="vertical", **filter_kwargs)
        self.gamma = nn.Parameter(torch.zeros(channels, 1, 1))
        self.beta = nn.Parameter(torch.ones(channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gamma * self.vertical(self.horizontal(x)) + self.beta * x


class MultiShapeKernel(nn.Module):
    """ConvIR's branch filter: strip attention plus the square LAM, summed."""

    def __init__(self, channels: int, **filter_kwargs) -> None:
        super().__init__()
        self.square = DynamicFilter(channels, **filter_kwargs)
        self.strip = StripAttention(channels, **filter_kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.strip(x) + self.square(x)


class MultiScaleModule(nn.Module):
    """Multi-scale module (MSM): coarse-to-fine pooled branches, each filtered by a LAM.

    Branch i pools x by pool_sizes[i], adds the upsampled output of the coarser branch, then
    applies conv3x3 and the LAM; all branch outputs are upsampled to x's size and summed with x.
    """

    def __init__(
        self,
        channels: int,
        *,
        pool_sizes: Sequence[int] = (8, 4, 2),
        lam: bool = True,
        filter_groups: int = 8,
        filter_kernel: int = 3,
        frequency_modulation: bool = True,
        lam_skip: bool = False,
        filter_dilations: Sequence[int] | None = None,
        strip_attention: bool = False,
    ) -> None:
        super().__init__()
        self.pool_sizes = tuple(pool_sizes)
        self.convs = nn.ModuleList(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False) for _ in self.pool_sizes
        )
        kwargs = dict(
            groups=filter_groups,
            kernel_size=filter_kernel,
            frequency_modulation=frequency_modulation,
            skip=lam_skip,
        )
        branch = MultiShapeKernel if strip_attention else DynamicFilter
        dilations = filter_dilations or (1,) * len(self.pool_sizes)
        self.filters = nn.ModuleList(
            branch(channels, dilation=dilation, **kwargs) if lam else nn.Identity()
            for dilation in dilations
        )
        self.fuse = nn.Conv2d(channels, channels, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, coarser = x, None
        for pool, conv, lam in zip(self.pool_sizes, self.convs, self.filters):
            y = F.avg_pool2d(x, pool)
            if coarser is not None:
                # The official code upsamples by scale_factor=2; with align_corners=True that is
                # the same grid as resizing to the pooled size, which also allows any pool ratio.
                y = y + _resize(coarser, y)
            coarser = lam(conv(y))
            out = out + _resize(coarser, x)
        return self.fuse(F.gelu(out))


def _resize(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return resize_bilinear(x, tuple(like.shape[-2:]), align_corners=True)


class ResBlock(nn.Module):
    """conv3x3 + GELU -> [MSM] -> conv3x3, with an identity skip."""

    def __init__(self, channels: int, *, msm: MultiScaleModule | None = None) -> None:
        super().__init__()
        self.conv1 = conv_block(channels, channels, 3)
        self.msm = msm if msm is not None else nn.Identity()
        self.conv2 = conv_block(channels, channels, 3, act=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.msm(self.conv1(x)))


class Stage(nn.Module):
    """`num_res` residual blocks; only the last carries the multi-scale module (official EBlock)."""

    def __init__(self, channels: int, *, num_res: int, msm_kwargs: dict | None) -> None:
        super().__init__()
        last_msm = MultiScaleModule(channels, **msm_kwargs) if msm_kwargs is not None else None
        self.blocks = nn.Sequential(
            *(ResBlock(channels) for _ in range(num_res - 1)), ResBlock(channels, msm=last_msm)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x)


class ShallowConvModule(nn.Sequential):
    """SCM: shallow features of a downscaled input image (MIMO-UNet lineage)."""

    def __init__(self, channels: int) -> None:
        super().__init__(
            conv_block(3, channels // 4, 3),
            conv_block(channels // 4, channels // 2, 1),
            conv_block(channels // 2, channels // 2, 3),
            conv_block(channels // 2, channels, 1, act=False),
            nn.InstanceNorm2d(channels, affine=True),
        )


class FeatureFusion(nn.Module):
    """FAM: merge the encoder features with the SCM features of the same scale."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.merge = conv_block(2 * channels, channels, 3, act=False)

    def forward(self, x: torch.Tensor, shallow: torch.Tensor) -> torch.Tensor:
        return self.merge(torch.cat([x, shallow], dim=1))
