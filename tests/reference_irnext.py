"""An independent reference of the official IRNeXt, for tests only.

It follows the official release's module structure (github c-yn/IRNeXt, Dehazing/ITS/models:
IRNeXt.py and layers.py): the same classes (BasicConv, ResBlock, DeepPoolLayer, dynamic_filter,
EBlock, DBlock, SCM, FAM, IRNeXt), the same sub-modules under the same attribute names (the
pooling, padding, activation and global-pooling layers included, so its `named_modules()` is the
release's and its state_dict has the official keys) and the same forward order: the unfold
formulation of the dynamic filter and the scale_factor=2 up-sampling between pooled branches. The
suite's own network must give the same outputs for the same weights. Written for this suite,
not copied; nothing here is imported by the library.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class BasicConv(nn.Module):
    """Convolution (transposed: 2x up-sampling), optional BatchNorm, optional GELU, in `main`."""

    def __init__(
        self, cin, cout, kernel_size, stride, bias=True, norm=False, relu=True, transpose=False
    ):
        super().__init__()
        bias = bias and not norm  # the release drops the bias in front of a BatchNorm
        if transpose:
            conv = nn.ConvTranspose2d(
                cin, cout, kernel_size, stride, kernel_size // 2 - 1, bias=bias
            )
        else:
            conv = nn.Conv2d(cin, cout, kernel_size, stride, kernel_size // 2, bias=bias)
        layers = [conv, *([nn.BatchNorm2d(cout)] if norm else []), *([nn.GELU()] if relu else [])]
        self.main = nn.Sequential(*layers)

    def forward(self, x):
        return self.main(x)


def dynamic_filter_unfold(x: torch.Tensor, kernels: torch.Tensor, groups: int) -> torch.Tensor:
    """The official formulation: unfold k x k neighbourhoods, weight, sum. kernels: N x G*k*k."""
    n, c, h, w = x.shape
    kk = kernels.shape[1] // groups
    k = int(round(kk**0.5))
    cols = F.unfold(F.pad(x, [k // 2] * 4, mode="reflect"), kernel_size=k)
    cols = cols.reshape(n, groups, c // groups, kk, h * w)
    weights = kernels.reshape(n, groups, kk, 1).unsqueeze(2)  # n, g, 1, kk, 1
    return torch.sum(cols * weights, dim=3).reshape(n, c, h, w)


class dynamic_filter(nn.Module):  # noqa: N801 (the release's class name)
    """The release's LAM: a k x k filter per group predicted from the global mean (1x1 conv,
    BatchNorm, tanh), applied by unfolding; low part reweighted by inside_all and lamb_l, the
    input itself (high part) by lamb_h + 1. `dilation` is ConvIR's (1 in IRNeXt's release)."""

    def __init__(self, inchannels, kernel_size=3, stride=1, group=8, dilation=1):
        super().__init__()
        self.stride, self.kernel_size, self.group = stride, kernel_size, group
        self.dilation = dilation
        self.conv = nn.Conv2d(inchannels, group * kernel_size**2, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(group * kernel_size**2)
        self.act = nn.Tanh()
        self.lamb_l = nn.Parameter(torch.zeros(inchannels))
        self.lamb_h = nn.Parameter(torch.zeros(inchannels))
        self.pad = nn.ReflectionPad2d(dilation * (kernel_size - 1) // 2)
        self.ap = nn.AdaptiveAvgPool2d((1, 1))
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.inside_all = nn.Parameter(torch.zeros(inchannels, 1, 1))

    def forward(self, x):
        n, c, h, w = x.shape
        kk = self.kernel_size**2
        coefficients = self.bn(self.conv(self.ap(x)))  # n, group * k^2, 1, 1
        windows = F.unfold(self.pad(x), kernel_size=self.kernel_size, dilation=self.dilation)
        windows = windows.reshape(n, self.group, c // self.group, kk, h * w)
        coefficients = self.act(coefficients.reshape(n, self.group, kk, 1).unsqueeze(2))
        low = torch.sum(windows * coefficients, dim=3).reshape(n, c, h, w)
        low = (low * (self.inside_all + 1.0) - self.inside_all * self.gap(x)) * self.lamb_l[
            None, :, None, None
        ]
        return low + x * (self.lamb_h[None, :, None, None] + 1.0)


class DeepPoolLayer(nn.Module):
    """The release's multi-scale module: average pooling by 8, 4 and 2, each branch a 3x3 conv
    and a dynamic filter on the pooled map plus the previous branch up-sampled 2x; every branch
    added back at full size; GELU and a 3x3 conv."""

    def __init__(self, k, k_out):
        super().__init__()
        self.pools_sizes = [8, 4, 2]
        self.pools = nn.ModuleList(nn.AvgPool2d(s, s) for s in self.pools_sizes)
        self.convs = nn.ModuleList(nn.Conv2d(k, k, 3, 1, 1, bias=False) for _ in self.pools_sizes)
        self.dynas = nn.ModuleList(dynamic_filter(k, kernel_size=3) for _ in self.pools_sizes)
        self.relu = nn.GELU()
        self.conv_sum = nn.Conv2d(k, k_out, 3, 1, 1, bias=False)

    def forward(self, x):
        total, up = x, None
        for pool, conv, dyna in zip(self.pools, self.convs, self.dynas):
            pooled = pool(x)
            y = dyna(conv(pooled if up is None else pooled + up))
            total = total + F.interpolate(y, x.shape[2:], mode="bilinear", align_corners=True)
            up = F.interpolate(y, scale_factor=2, mode="bilinear", align_corners=True)
        return self.conv_sum(self.relu(total))


class ResBlock(nn.Module):
    def __init__(self, in_channel, out_channel, filter=False):
        super().__init__()
        self.main = nn.Sequential(
            BasicConv(in_channel, out_channel, 3, 1, relu=True),
            DeepPoolLayer(in_channel, out_channel) if filter else nn.Identity(),
            BasicConv(out_channel, out_channel, 3, 1, relu=False),
        )

    def forward(self, x):
        return self.main(x) + x


class EBlock(nn.Module):
    """num_res residual blocks; only the last carries the multi-scale module."""

    def __init__(self, channel, num_res=8):
        super().__init__()
        blocks = [ResBlock(channel, channel, filter=i == num_res - 1) for i in range(num_res)]
        self.layers = nn.Sequential(*blocks)

    def forward(self, x):
        return self.layers(x)


class DBlock(EBlock):
    """The decoder's block: the encoder's structure (a class of its own in the release)."""


class SCM(nn.Module):
    def __init__(self, out_plane):
        super().__init__()
        c = out_plane
        self.main = nn.Sequential(
            BasicConv(3, c // 4, 3, 1, relu=True),
            BasicConv(c // 4, c // 2, 1, 1, relu=True),
            BasicConv(c // 2, c // 2, 3, 1, relu=True),
            BasicConv(c // 2, c, 1, 1, relu=False),
            nn.InstanceNorm2d(c, affine=True),
        )

    def forward(self, x):
        return self.main(x)


class FAM(nn.Module):
    def __init__(self, channel):
        super().__init__()
        self.merge = BasicConv(2 * channel, channel, 3, 1, relu=False)

    def forward(self, x1, x2):
        return self.merge(torch.cat([x1, x2], dim=1))


class IRNeXt(nn.Module):
    """The release's network, base width 32, three levels, three outputs (coarse to fine)."""

    def __init__(self, num_res=4):
        super().__init__()
        w = 32
        self.Encoder = nn.ModuleList(
            [EBlock(w, num_res), EBlock(2 * w, num_res), EBlock(4 * w, num_res)]
        )
        self.feat_extract = nn.ModuleList(
            [
                BasicConv(3, w, 3, 1, relu=True),
                BasicConv(w, 2 * w, 3, 2, relu=True),
                BasicConv(2 * w, 4 * w, 3, 2, relu=True),
                BasicConv(4 * w, 2 * w, 4, 2, relu=True, transpose=True),
                BasicConv(2 * w, w, 4, 2, relu=True, transpose=True),
                BasicConv(w, 3, 3, 1, relu=False),
            ]
        )
        self.Decoder = nn.ModuleList(
            [DBlock(4 * w, num_res), DBlock(2 * w, num_res), DBlock(w, num_res)]
        )
        self.Convs = nn.ModuleList([BasicConv(4 * w, 2 * w, 1, 1), BasicConv(2 * w, w, 1, 1)])
        self.ConvsOut = nn.ModuleList(
            [BasicConv(4 * w, 3, 3, 1, relu=False), BasicConv(2 * w, 3, 3, 1, relu=False)]
        )
        self.FAM1, self.SCM1 = FAM(4 * w), SCM(4 * w)
        self.FAM2, self.SCM2 = FAM(2 * w), SCM(2 * w)

    def forward(self, x):
        x_2 = F.interpolate(x, scale_factor=0.5)
        x_4 = F.interpolate(x_2, scale_factor=0.5)
        z2, z4 = self.SCM2(x_2), self.SCM1(x_4)
        res1 = self.Encoder[0](self.feat_extract[0](x))
        res2 = self.Encoder[1](self.FAM2(self.feat_extract[1](res1), z2))
        z = self.Decoder[0](self.Encoder[2](self.FAM1(self.feat_extract[2](res2), z4)))
        out4 = self.ConvsOut[0](z) + x_4
        z = self.Decoder[1](self.Convs[0](torch.cat([self.feat_extract[3](z), res2], dim=1)))
        out2 = self.ConvsOut[1](z) + x_2
        z = self.Decoder[2](self.Convs[1](torch.cat([self.feat_extract[4](z), res1], dim=1)))
        return [out4, out2, self.feat_extract[5](z) + x]


OfficialIRNeXt = IRNeXt  # the name the tests import it under (the suite has its own IRNeXt)


def randomize_(module: nn.Module, seed: int = 0) -> nn.Module:
    """Give the zero- or one-initialised tensors (LAM lambdas and W, norm affines, biases,
    BatchNorm running statistics) random values, so that no term of the forward is a no-op;
    convolution weights keep PyTorch's random initialisation, which keeps activations bounded."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in [*module.named_parameters(), *module.named_buffers()]:
            if not tensor.is_floating_point() or (tensor.dim() == 4 and tensor.shape[-1] > 1):
                continue
            if name.endswith("running_var"):
                tensor.copy_(0.5 + torch.rand(tensor.shape, generator=gen))
            elif tensor.dim() <= 1 or name.endswith("inside_all"):
                tensor.copy_(0.5 * torch.randn(tensor.shape, generator=gen))
    return module
