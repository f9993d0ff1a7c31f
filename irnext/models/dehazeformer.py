"""DehazeFormer (Song, He, Qin, Jiang, "Vision Transformers for Single Image Dehazing", IEEE TIP
2023), written from the paper and its published configurations; no package ships it.

A Swin-style U-Net of five stages (widths C, 2C, 4C, 2C, C) whose blocks are: RescaleNorm ->
shifted-window attention in parallel with a depth-wise conv on V -> MLP. The last stages are
convolution-only (attention ratio 0). The network predicts a per-pixel gain K and offset B and
outputs K * x - B + x (the paper's soft reconstruction), on images scaled to [-1, 1].

Published sizes: T 0.686 M, S 1.283 M, B 2.514 M, M 4.634 M, L 25.44 M parameters; they count
leaf modules only, so RescaleNorm's own weight and bias (2 x width per attention block) are
not in them (tests/test_baselines.py checks both counts).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from irnext.models.entries import ModelEntry


class RescaleNorm(nn.Module):
    """RLN (rescale layer norm): layer norm over C x H x W whose removed mean and std are fed back
    through 1x1 convs after the block, so the block keeps the image's absolute brightness."""

    def __init__(self, *, dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(1, dim, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, dim, 1, 1))
        self.meta_scale, self.meta_shift = nn.Conv2d(1, dim, 1), nn.Conv2d(1, dim, 1)
        nn.init.trunc_normal_(self.meta_scale.weight, std=0.02)
        nn.init.constant_(self.meta_scale.bias, 1.0)
        nn.init.trunc_normal_(self.meta_shift.weight, std=0.02)
        nn.init.zeros_(self.meta_shift.bias)

    def forward(self, x: torch.Tensor):
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        std = torch.sqrt((x - mean).pow(2).mean(dim=(1, 2, 3), keepdim=True) + self.eps)
        normed = (x - mean) / std * self.weight + self.bias
        return normed, self.meta_scale(std), self.meta_shift(mean)


def _relative_positions_log(window_size: int) -> torch.Tensor:
    """Log-spaced relative offsets between the tokens of a window , N x N x 2."""
    coords = torch.stack(
        torch.meshgrid(torch.arange(window_size), torch.arange(window_size), indexing="ij")
    ).flatten(1)
    relative = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0).float()
    return torch.sign(relative) * torch.log1p(relative.abs())


class WindowAttention(nn.Module):
    def __init__(self, *, dim: int, window_size: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads, self.scale = num_heads, (dim // num_heads) ** -0.5
        self.register_buffer("positions", _relative_positions_log(window_size), persistent=False)
        # The bias of each offset comes from a small MLP of the log offset, not a lookup table.
        self.meta = nn.Sequential(nn.Linear(2, 256), nn.ReLU(True), nn.Linear(256, num_heads))

    def forward(self, qkv: torch.Tensor) -> torch.Tensor:
        windows, tokens, channels = qkv.shape
        q, k, v = qkv.reshape(windows, tokens, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        attn = attn + self.meta(self.positions).permute(2, 0, 1).unsqueeze(0)
        out = attn.softmax(dim=-1) @ v
        return out.transpose(1, 2).reshape(windows, tokens, channels // 3)


class Mixer(nn.Module):
    """Token mixer: window attention on (Q, K, V) plus a conv branch on V, then a projection."""

    def __init__(self, *, dim, num_heads, window_size, shift_size, use_attn, conv_type) -> None:
        super().__init__()
        self.window_size, self.shift_size, self.use_attn = window_size, shift_size, use_attn
        self.conv_type = conv_type
        if conv_type == "Conv":
            self.conv = nn.Sequential(
                nn.Conv2d(dim, dim, 3, padding=1, padding_mode="reflect"),
                nn.ReLU(True),
                nn.Conv2d(dim, dim, 3, padding=1, padding_mode="reflect"),
            )
        else:  # "DWConv"
            self.conv = nn.Conv2d(dim, dim, 5, padding=2, groups=dim, padding_mode="reflect")
        if conv_type == "DWConv" or use_attn:
            self.V, self.proj = nn.Conv2d(dim, dim, 1), nn.Conv2d(dim, dim, 1)
        if use_attn:
            self.QK = nn.Conv2d(dim, dim * 2, 1)
            self.attn = WindowAttention(dim=dim, window_size=window_size, num_heads=num_heads)

    def _windowed(self, qkv: torch.Tensor) -> torch.Tensor:
        # Shifted windows by reflection padding (no attention mask), as the official release.
        (height, width), w, s = qkv.shape[-2:], self.window_size, self.shift_size
        pad_h, pad_w = (w - s - height % w) % w, (w - s - width % w) % w
        qkv = F.pad(qkv, (s, pad_w, s, pad_h), mode="reflect")
        b, c, ht, wt = qkv.shape
        windows = qkv.view(b, c, ht // w, w, wt // w, w).permute(0, 2, 4, 3, 5, 1)
        out = self.attn(windows.reshape(-1, w * w, c))
        out = out.view(b, ht // w, wt // w, w, w, c // 3).permute(0, 5, 1, 3, 2, 4)
        return out.reshape(b, c // 3, ht, wt)[:, :, s : s + height, s : s + width]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.use_attn:
            return self.conv(x) if self.conv_type == "Conv" else self.proj(self.conv(self.V(x)))
        v = self.V(x)
        attended = self._windowed(torch.cat([self.QK(x), v], dim=1))
        return self.proj(self.conv(v) + attended)


class DehazeBlock(nn.Module):
    def __init__(
        self, *, dim, num_heads, mlp_ratio, window_size, shift_size, use_attn, conv_type
    ) -> None:
        super().__init__()
        self.use_attn = use_attn
        self.norm = RescaleNorm(dim=dim) if use_attn else None
        self.mixer = Mixer(
            dim=dim,
            num_heads=num_heads,
            window_size=window_size,
            shift_size=shift_size,
            use_attn=use_attn,
            conv_type=conv_type,
        )
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(
            nn.Conv2d(dim, hidden, 1), nn.ReLU(True), nn.Conv2d(hidden, dim, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_attn:
            normed, scale, shift = self.norm(x)
            x = x + self.mixer(normed) * scale + shift
        else:
            x = x + self.mixer(x)
        return x + self.mlp(x)


def _stage(*, dim, depth, num_heads, mlp_ratio, window_size, attn_ratio, conv_type) -> nn.Module:
    # Attention sits in the last attn_ratio x depth blocks; odd blocks shift by half a window.
    first_attn = depth - int(attn_ratio * depth)
    return nn.Sequential(
        *(
            DehazeBlock(
                dim=dim,
                num_heads=num_heads,
                mlp_ratio=mlp_ratio,
                window_size=window_size,
                shift_size=0 if i % 2 == 0 else window_size // 2,
                use_attn=i >= first_attn,
                conv_type=conv_type,
            )
            for i in range(depth)
        )
    )


class SKFusion(nn.Module):
    """Selective-kernel fusion of the decoder and skip features ."""

    def __init__(self, *, dim: int, branches: int = 2, reduction: int = 8) -> None:
        super().__init__()
        hidden = max(dim // reduction, 4)
        self.branches = branches
        self.mlp = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(dim, hidden, 1, bias=False),
            nn.ReLU(True),
            nn.Conv2d(hidden, dim * branches, 1, bias=False),
        )

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        stacked = torch.stack(features, dim=1)
        weights = self.mlp(stacked.sum(dim=1)).view(stacked.shape[0], self.branches, -1, 1, 1)
        return (stacked * weights.softmax(dim=1)).sum(dim=1)


def _down(cin: int, cout: int) -> nn.Module:
    return nn.Conv2d(cin, cout, 2, stride=2)


def _up(cin: int, cout: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(cin, cout * 4, 1), nn.PixelShuffle(2))


class DehazeFormer(nn.Module):
    size_multiple = 4  # two 2x down-samplings; windows pad themselves
    min_size = 16  # reflection padding of the coarsest windows needs a few pixels

    def __init__(
        self,
        *,
        embed_dims: tuple[int, ...] = (24, 48, 96, 48, 24),
        mlp_ratios: tuple[float, ...] = (2.0, 4.0, 4.0, 2.0, 2.0),
        depths: tuple[int, ...] = (16, 16, 16, 8, 8),
        num_heads: tuple[int, ...] = (2, 4, 6, 1, 1),
        attn_ratios: tuple[float, ...] = (0.25, 0.5, 0.75, 0.0, 0.0),
        conv_type: str = "DWConv",
        window_size: int = 8,
    ) -> None:
        super().__init__()
        d = embed_dims
        self.embed = nn.Conv2d(3, d[0], 3, padding=1, padding_mode="reflect")
        self.stages = nn.ModuleList(
            _stage(
                dim=d[i],
                depth=depths[i],
                num_heads=num_heads[i],
                mlp_ratio=mlp_ratios[i],
                window_size=window_size,
                attn_ratio=attn_ratios[i],
                conv_type=conv_type,
            )
            for i in range(5)
        )
        self.down1, self.down2 = _down(d[0], d[1]), _down(d[1], d[2])
        self.skip1, self.skip2 = nn.Conv2d(d[0], d[0], 1), nn.Conv2d(d[1], d[1], 1)
        self.up1, self.up2 = _up(d[2], d[3]), _up(d[3], d[4])
        self.fuse1, self.fuse2 = SKFusion(dim=d[3]), SKFusion(dim=d[4])
        # 4 output channels: gain K and offset B (3) of the soft reconstruction.
        self.head = nn.Conv2d(d[4], 4, 3, padding=1, padding_mode="reflect")

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = image * 2 - 1  # trained on [-1, 1] (official data loader)
        f1 = self.stages[0](self.embed(x))
        f2 = self.stages[1](self.down1(f1))
        z = self.up1(self.stages[2](self.down2(f2)))
        z = self.stages[3](self.fuse1([z, self.skip2(f2)]) + z)
        z = self.up2(z)
        z = self.stages[4](self.fuse2([z, self.skip1(f1)]) + z)
        gain, offset = self.head(z).split((1, 3), dim=1)
        return ((gain * x - offset + x) + 1) / 2


ARCHITECTURES = {"dehazeformer": DehazeFormer}

_SOURCE = "Song et al., TIP 2023; official code github IDKiro/DehazeFormer (dehazeformer_t.._l)"
_WIDE = {"embed_dims": (48, 96, 192, 96, 48)}
_CONFIGS = {
    "t": {"depths": (4, 4, 4, 2, 2), "attn_ratios": (0.0, 0.5, 1.0, 0.0, 0.0)},
    "s": {"depths": (8, 8, 8, 4, 4)},
    "b": {},
    "m": {"depths": (12, 12, 12, 6, 6), "conv_type": "Conv"},
    "l": {**_WIDE, "depths": (16, 16, 16, 12, 12), "conv_type": "Conv"},
}
ENTRIES = tuple(
    ModelEntry(
        name=f"dehazeformer-{suffix}",
        architecture="dehazeformer",
        kwargs=kwargs,
        task="dehaze",
        licence="MIT",
        source=_SOURCE,
    )
    for suffix, kwargs in _CONFIGS.items()
)
