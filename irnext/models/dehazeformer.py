"""DehazeFormer (Song, He, Qin, Jiang, "Vision Transformers for Single Image Dehazing", IEEE TIP
2023), written from the paper and the official release (github IDKiro/DehazeFormer,
models/dehazeformer.py); no package ships it. Module names equal the authors', so their
checkpoints load as they are (`irnext.models.dehazeformer_weights`).

A Swin-style U-Net of five stages (widths C, 2C, 4C, 2C, C) whose blocks are: RLN -> shifted-window
attention in parallel with a conv on V -> MLP; blocks without attention are conv-only. The network
predicts a per-pixel gain K and offset B and outputs K * x - B + x (soft reconstruction). The
authors' network works on [-1, 1]; `forward` takes and returns the suite's [0, 1], so
`restore(model, x)` equals their test path `net(2x - 1).clamp(-1, 1) * 0.5 + 0.5`.

Parameter counts (T 687,404, S 1,284,884, B 2,517,612, M 4,635,952, L 25,451,652) count every
parameter, RLN weight and bias included: `sum(p.numel() for p in net.parameters())` of the
official models. The paper's table is a little lower (T 0.686 M, S 1.283 M, B 2.514 M,
M 4.634 M, L 25.44 M).
"""

from __future__ import annotations

import torch
from torch import nn

from irnext.models.dehazeformer_layers import (
    RLN,
    Proj,
    ReflectConv2d,
    SKFusion,
    init_conv,
    reflect_pad,
)
from irnext.models.entries import ModelEntry


def _relative_positions_log(window_size: int) -> torch.Tensor:
    """Log-spaced relative offsets between the tokens of a window, N x N x 2."""
    coords = torch.stack(
        torch.meshgrid(torch.arange(window_size), torch.arange(window_size), indexing="ij")
    ).flatten(1)
    relative = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0).float()
    return torch.sign(relative) * torch.log(1.0 + relative.abs())


class WindowAttention(nn.Module):
    def __init__(self, *, dim: int, window_size: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads, self.scale = num_heads, (dim // num_heads) ** -0.5
        # Persistent: the official state_dict holds it (N x N x 2).
        self.register_buffer("relative_positions", _relative_positions_log(window_size))
        # The bias of each offset comes from a small MLP of the log offset, not a lookup table.
        self.meta = nn.Sequential(nn.Linear(2, 256), nn.ReLU(True), nn.Linear(256, num_heads))

    def forward(self, qkv: torch.Tensor) -> torch.Tensor:
        windows, tokens, channels = qkv.shape
        q, k, v = qkv.reshape(windows, tokens, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        attn = attn + self.meta(self.relative_positions).permute(2, 0, 1).unsqueeze(0)
        out = attn.softmax(dim=-1) @ v
        return out.transpose(1, 2).reshape(windows, tokens, channels // 3)


class Attention(nn.Module):
    """Token mixer: window attention on (Q, K, V) plus a conv branch on V, then a projection."""

    def __init__(self, *, dim, num_heads, window_size, shift_size, use_attn, conv_type, gain):
        super().__init__()
        self.window_size, self.shift_size, self.use_attn = window_size, shift_size, use_attn
        self.conv_type = conv_type
        if conv_type == "Conv":
            self.conv = nn.Sequential(
                ReflectConv2d(dim, dim, 3, padding=1, padding_mode="reflect"),
                nn.ReLU(True),
                ReflectConv2d(dim, dim, 3, padding=1, padding_mode="reflect"),
            )
        else:  # "DWConv"
            self.conv = ReflectConv2d(dim, dim, 5, padding=2, groups=dim, padding_mode="reflect")
        if conv_type == "DWConv" or use_attn:
            self.V, self.proj = nn.Conv2d(dim, dim, 1), nn.Conv2d(dim, dim, 1)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                init_conv(module, gain)
        if use_attn:
            self.QK = nn.Conv2d(dim, dim * 2, 1)
            init_conv(self.QK, 1.0)  # official: the QK conv has no depth gain
            self.attn = WindowAttention(dim=dim, window_size=window_size, num_heads=num_heads)

    def _windowed(self, qkv: torch.Tensor) -> torch.Tensor:
        # Shifted windows by reflection padding (no attention mask), as the official check_size.
        (height, width), w, s = qkv.shape[-2:], self.window_size, self.shift_size
        mod_h, mod_w = (w - height % w) % w, (w - width % w) % w
        if s:  # shifted: s before, the rest of the window after
            qkv = reflect_pad(qkv, (s, (w - s + mod_w) % w, s, (w - s + mod_h) % w))
        else:
            qkv = reflect_pad(qkv, (0, mod_w, 0, mod_h))
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


class Mlp(nn.Module):
    def __init__(self, *, dim: int, hidden: int, gain: float) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Conv2d(dim, hidden, 1), nn.ReLU(True), nn.Conv2d(hidden, dim, 1)
        )
        init_conv(self.mlp[0], gain)
        init_conv(self.mlp[2], gain)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(x)


class TransformerBlock(nn.Module):
    def __init__(self, *, dim, mlp_ratio, use_attn, gain, **attention) -> None:
        super().__init__()
        self.use_attn = use_attn
        self.norm1 = RLN(dim=dim) if use_attn else nn.Identity()
        self.attn = Attention(dim=dim, use_attn=use_attn, gain=gain, **attention)
        self.mlp = Mlp(dim=dim, hidden=int(dim * mlp_ratio), gain=gain)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_attn:
            normed, rescale, rebias = self.norm1(x)
            x = x + self.attn(normed) * rescale + rebias
        else:
            x = x + self.attn(x)
        return x + self.mlp(x)


class BasicLayer(nn.Module):
    def __init__(self, *, depth: int, attn_ratio: float, window_size: int, **block) -> None:
        super().__init__()
        # Attention in the last attn_ratio x depth blocks (official attn_loc="last");
        # odd blocks shift their windows by half a window.
        self.blocks = nn.ModuleList(
            TransformerBlock(
                window_size=window_size,
                shift_size=0 if i % 2 == 0 else window_size // 2,
                use_attn=i >= depth - attn_ratio * depth,
                **block,
            )
            for i in range(depth)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return x


class DehazeFormer(nn.Module):
    size_multiple = 4  # official check_image_size: reflect-pad to a multiple of the patch size 4
    min_size = 1  # `reflect_pad` replicates where reflection cannot pad the coarse windows

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
        d, gain = embed_dims, (8 * sum(depths)) ** -0.25  # official depth-dependent init gain
        if len(d) != 5 or d[0] != d[4] or d[1] != d[3]:
            # The skips add stage 1 to stage 5 and stage 2 to stage 4: their widths must match.
            raise ValueError(f"embed_dims: 5 widths with 1st == 5th and 2nd == 4th, got {d}")
        if conv_type not in ("Conv", "DWConv"):
            raise ValueError(f"conv_type must be 'Conv' or 'DWConv', got {conv_type!r}")
        self.patch_embed = Proj(ReflectConv2d(3, d[0], 3, padding=1, padding_mode="reflect"))
        for i in range(5):
            layer = BasicLayer(
                dim=d[i],
                depth=depths[i],
                num_heads=num_heads[i],
                mlp_ratio=mlp_ratios[i],
                window_size=window_size,
                attn_ratio=attn_ratios[i],
                conv_type=conv_type,
                gain=gain,
            )
            self.add_module(f"layer{i + 1}", layer)
        self.patch_merge1 = Proj(nn.Conv2d(d[0], d[1], 2, stride=2))
        self.patch_merge2 = Proj(nn.Conv2d(d[1], d[2], 2, stride=2))
        self.skip1, self.skip2 = nn.Conv2d(d[0], d[0], 1), nn.Conv2d(d[1], d[1], 1)
        self.patch_split1 = Proj(nn.Conv2d(d[2], d[3] * 4, 1), shuffle=2)
        self.patch_split2 = Proj(nn.Conv2d(d[3], d[4] * 4, 1), shuffle=2)
        self.fusion1, self.fusion2 = SKFusion(dim=d[3]), SKFusion(dim=d[4])
        # 4 output channels: gain K (1) and offset B (3) of the soft reconstruction.
        head = ReflectConv2d(d[4], 4, 3, padding=1, padding_mode="reflect")
        self.patch_unembed = Proj(head, shuffle=1)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        skip1 = self.layer1(self.patch_embed(x))
        skip2 = self.layer2(self.patch_merge1(skip1))
        x = self.patch_split1(self.layer3(self.patch_merge2(skip2)))
        x = self.layer4(self.fusion1([x, self.skip2(skip2)]) + x)
        x = self.patch_split2(x)
        x = self.layer5(self.fusion2([x, self.skip1(skip1)]) + x)
        return self.patch_unembed(x)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        height, width = image.shape[-2:]
        x = image * 2 - 1  # the authors' data loader scales images to [-1, 1]
        x = reflect_pad(x, (0, -width % self.size_multiple, 0, -height % self.size_multiple))
        gain, offset = self.forward_features(x).split((1, 3), dim=1)
        out = gain * x - offset + x
        return (out[..., :height, :width] + 1) / 2


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
