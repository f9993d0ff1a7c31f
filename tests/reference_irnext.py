"""An independent reference of the official IRNeXt, for tests only.

Written from docs/network.md#structure in the official release's structure: its module names
(so its state_dict has the official keys), its unfold formulation of the dynamic filter and its
scale_factor=2 up-sampling in the multi-scale module. The suite's own network must give the same
outputs for the same weights.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class BasicConv(nn.Module):
    def __init__(self, cin, cout, k, stride=1, relu=True, transpose=False, bias=True):
        super().__init__()
        if transpose:
            layer = nn.ConvTranspose2d(cin, cout, k, stride, padding=k // 2 - 1, bias=bias)
        else:
            layer = nn.Conv2d(cin, cout, k, stride, padding=k // 2, bias=bias)
        self.main = nn.Sequential(layer, nn.GELU()) if relu else nn.Sequential(layer)

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


class DynaFilter(nn.Module):
    def __init__(self, c, group=8, k=3):
        super().__init__()
        self.group = group
        self.lamb_l = nn.Parameter(torch.zeros(c))
        self.lamb_h = nn.Parameter(torch.zeros(c))
        self.inside_all = nn.Parameter(torch.zeros(c, 1, 1))
        self.conv = nn.Conv2d(c, group * k * k, 1, bias=False)
        self.bn = nn.BatchNorm2d(group * k * k)

    def forward(self, x):
        gap = F.adaptive_avg_pool2d(x, 1)
        kernels = torch.tanh(self.bn(self.conv(gap)))
        low = dynamic_filter_unfold(x, kernels.flatten(1), self.group)
        out_low = low * (self.inside_all + 1.0) - self.inside_all * gap
        out_low = out_low * self.lamb_l[None, :, None, None]
        return out_low + x * (self.lamb_h[None, :, None, None] + 1.0)


class PoolLayer(nn.Module):
    def __init__(self, c, pools=(8, 4, 2)):
        super().__init__()
        self.pools = pools
        self.convs = nn.ModuleList(nn.Conv2d(c, c, 3, 1, 1, bias=False) for _ in pools)
        self.dynas = nn.ModuleList(DynaFilter(c) for _ in pools)
        self.conv_sum = nn.Conv2d(c, c, 3, 1, 1, bias=False)

    def forward(self, x):
        total, up = x, None
        for i, p in enumerate(self.pools):
            pooled = F.avg_pool2d(x, p, p)
            y = self.dynas[i](self.convs[i](pooled if up is None else pooled + up))
            total = total + F.interpolate(y, x.shape[2:], mode="bilinear", align_corners=True)
            up = F.interpolate(y, scale_factor=2, mode="bilinear", align_corners=True)
        return self.conv_sum(F.gelu(total))


class Res(nn.Module):
    def __init__(self, c, last):
        super().__init__()
        self.main = nn.Sequential(
            BasicConv(c, c, 3),
            PoolLayer(c) if last else nn.Identity(),
            BasicConv(c, c, 3, relu=False),
        )

    def forward(self, x):
        return self.main(x) + x


class Block(nn.Module):
    def __init__(self, c, n):
        super().__init__()
        self.layers = nn.Sequential(*(Res(c, i == n - 1) for i in range(n)))

    def forward(self, x):
        return self.layers(x)


class SCM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.main = nn.Sequential(
            BasicConv(3, c // 4, 3),
            BasicConv(c // 4, c // 2, 1),
            BasicConv(c // 2, c // 2, 3),
            BasicConv(c // 2, c, 1, relu=False),
            nn.InstanceNorm2d(c, affine=True),
        )

    def forward(self, x):
        return self.main(x)


class FAM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.merge = BasicConv(2 * c, c, 3, relu=False)

    def forward(self, a, b):
        return self.merge(torch.cat([a, b], 1))


class OfficialIRNeXt(nn.Module):
    def __init__(self, num_res=4, w=32):
        super().__init__()
        self.Encoder = nn.ModuleList(
            [Block(w, num_res), Block(2 * w, num_res), Block(4 * w, num_res)]
        )
        self.feat_extract = nn.ModuleList(
            [
                BasicConv(3, w, 3),
                BasicConv(w, 2 * w, 3, stride=2),
                BasicConv(2 * w, 4 * w, 3, stride=2),
                BasicConv(4 * w, 2 * w, 4, stride=2, transpose=True),
                BasicConv(2 * w, w, 4, stride=2, transpose=True),
                BasicConv(w, 3, 3, relu=False),
            ]
        )
        self.Decoder = nn.ModuleList(
            [Block(4 * w, num_res), Block(2 * w, num_res), Block(w, num_res)]
        )
        self.Convs = nn.ModuleList([BasicConv(4 * w, 2 * w, 1), BasicConv(2 * w, w, 1)])
        self.ConvsOut = nn.ModuleList(
            [BasicConv(4 * w, 3, 3, relu=False), BasicConv(2 * w, 3, 3, relu=False)]
        )
        self.FAM1, self.SCM1 = FAM(4 * w), SCM(4 * w)
        self.FAM2, self.SCM2 = FAM(2 * w), SCM(2 * w)

    def forward(self, x):
        x_2 = F.interpolate(x, scale_factor=0.5)
        x_4 = F.interpolate(x_2, scale_factor=0.5)
        z2, z4 = self.SCM2(x_2), self.SCM1(x_4)
        res1 = self.Encoder[0](self.feat_extract[0](x))
        res2 = self.Encoder[1](self.FAM2(self.feat_extract[1](res1), z2))
        z = self.Encoder[2](self.FAM1(self.feat_extract[2](res2), z4))
        z = self.Decoder[0](z)
        out4 = self.ConvsOut[0](z) + x_4
        z = self.Convs[0](torch.cat([self.feat_extract[3](z), res2], 1))
        z = self.Decoder[1](z)
        out2 = self.ConvsOut[1](z) + x_2
        z = self.Convs[1](torch.cat([self.feat_extract[4](z), res1], 1))
        z = self.feat_extract[5](self.Decoder[2](z))
        return [out4, out2, z + x]


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
