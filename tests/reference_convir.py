"""An independent reference of the official ConvIR, for tests only.

It follows the release's module structure (github c-yn/ConvIR@05dcbff, Dehazing/ITS/models/
layers.py and ConvIR.py; the other task folders differ only in the dilations): IRNeXt's network
(tests/reference_irnext.py) whose `DeepPoolLayer.dynas[i]` is a `MultiShapeKernel` of a
dilated square `dynamic_filter` (`square_att`: the IRNeXt reference's, with its `dilation`)
and a `cubic_attention` (`strip_att`) of two `spatial_strip_att` (`H_spatial_att`,
`W_spatial_att`), under the release's attribute names, so its state_dict has the release's keys.
The filters use the release's unfold formulation and its reflection-pad modules. Written for
this suite, not copied; the library imports nothing here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from tests.reference_irnext import DeepPoolLayer, OfficialIRNeXt, dynamic_filter


class spatial_strip_att(nn.Module):  # noqa: N801
    """A 1 x k (H=True) or k x 1 kernel per group from the global mean (1x1 conv, tanh; no
    BatchNorm), applied along the strip; modulated with the mean of each row (H) or column."""

    def __init__(self, dim, kernel=3, dilation=1, group=2, H=True):  # noqa: N803
        super().__init__()
        self.k, self.dilation, self.group = kernel, dilation, group
        pad = dilation * (kernel - 1) // 2
        self.kernel = (1, kernel) if H else (kernel, 1)
        self.pad = nn.ReflectionPad2d((pad, pad, 0, 0) if H else (0, 0, pad, pad))
        self.conv = nn.Conv2d(dim, group * kernel, 1, 1, bias=False)
        self.ap = nn.AdaptiveAvgPool2d((1, 1))
        self.filter_act = nn.Tanh()
        self.inside_all = nn.Parameter(torch.zeros(dim, 1, 1))
        self.lamb_l = nn.Parameter(torch.zeros(dim))
        self.lamb_h = nn.Parameter(torch.zeros(dim))
        self.gap = nn.AdaptiveAvgPool2d((None, 1) if H else (1, None))

    def forward(self, x):
        n, c, h, w = x.shape
        weights = self.filter_act(self.conv(self.ap(x)).reshape(n, self.group, self.k, 1))
        windows = F.unfold(self.pad(x), kernel_size=self.kernel, dilation=self.dilation)
        windows = windows.reshape(n, self.group, c // self.group, self.k, h * w)
        out = torch.sum(windows * weights.unsqueeze(2), dim=3).reshape(n, c, h, w)
        low = out * (self.inside_all + 1.0) - self.inside_all * self.gap(x)
        return low * self.lamb_l[None, :, None, None] + x * (self.lamb_h[None, :, None, None] + 1)


class cubic_attention(nn.Module):  # noqa: N801
    def __init__(self, dim, group, dilation, kernel):
        super().__init__()
        self.H_spatial_att = spatial_strip_att(dim, kernel, dilation, group, H=True)
        self.W_spatial_att = spatial_strip_att(dim, kernel, dilation, group, H=False)
        self.gamma = nn.Parameter(torch.zeros(dim, 1, 1))
        self.beta = nn.Parameter(torch.ones(dim, 1, 1))

    def forward(self, x):
        return self.gamma * self.W_spatial_att(self.H_spatial_att(x)) + x * self.beta


class MultiShapeKernel(nn.Module):
    def __init__(self, dim, kernel_size=3, dilation=1, group=8):
        super().__init__()
        self.square_att = dynamic_filter(dim, kernel_size, group=group, dilation=dilation)
        self.strip_att = cubic_attention(dim, group=group, dilation=dilation, kernel=kernel_size)

    def forward(self, x):
        return self.strip_att(x) + self.square_att(x)


def official_convir(num_res: int, dilations=(7, 9, 11)) -> nn.Module:
    """The release's ConvIR(version) (num_res 4 / 8 / 16 = small / base / large)."""
    model = OfficialIRNeXt(num_res=num_res)
    for module in model.modules():
        if isinstance(module, DeepPoolLayer):
            channels = module.convs[0].in_channels
            module.dynas = nn.ModuleList(MultiShapeKernel(channels, 3, d) for d in dilations)
    return model
