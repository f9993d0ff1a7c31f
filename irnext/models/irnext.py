"""IRNeXt (Cui et al., "IRNeXt: Rethinking Convolutional Network Design for Image Restoration",
ICML 2023): a three-level multi-input, multi-output U-Net whose stages end in a multi-scale module
of local attention (dynamic filter) branches.

`IRNeXt()` is the released dehazing model (5,455,241 parameters). Every design factor of the
paper's ablations is a keyword argument with the paper value as default; a switched-off component
removes its parameters and its compute.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from irnext.models.blocks import FeatureFusion, ShallowConvModule, Stage, conv_block
from irnext.models.deterministic import BilinearUpsample2x

LEVELS = 3  # resolutions H, H/2, H/4 with widths w, 2w, 4w (official code)
DOWNSAMPLE_MODES = ("nearest", "bilinear", "area")
UPSAMPLE_MODES = ("transposed", "bilinear")


class IRNeXt(nn.Module):
    """IRNeXt image-restoration network.

    Args (keyword only; defaults = the official dehazing release):
        num_res: residual blocks per stage (n); the last block of each stage holds the MSM.
        width: channels at full resolution (w); the levels use w, 2w, 4w.
        msm: use the multi-scale module in the last block of each stage.
        pool_sizes: MSM branch pooling factors, coarse to fine; their number is the branch count.
        lam: filter each MSM branch with the local attention module (else the identity).
        frequency_modulation: LAM re-weights low/high frequencies (W, lambda_l, lambda_h):
            out = lambda_l * (low * (1 + W) - W * mean) + (1 + lambda_h) * x. Without it the
            LAM returns its low-pass output `low` (default), or `low + x` with `lam_skip`.
        lam_skip: only with frequency_modulation=False: keep the pass-through of x, i.e. the
            formula above with W = 0, lambda_l = 1, lambda_h = 0 fixed (out = low + x), so
            that only the learned re-weighting is removed.
        filter_groups: channel groups sharing one predicted kernel in the LAM.
        filter_kernel: size of the predicted LAM kernel.
        multi_input: feed downscaled inputs through SCM/FAM into levels 2 and 3.
        multi_output: predict images at 1/4 and 1/2 scale too (multi-scale supervision).
        input_downsample: how the 1/2 and 1/4 inputs are made ("nearest": official
            `F.interpolate` default).
        upsample: decoder up-sampling, "transposed" (official 4x4 stride-2 transposed conv) or
            "bilinear" (bilinear x2 then conv3x3).
        filter_dilations: the LAM kernel's dilation in each MSM branch (None: 1, IRNeXt's);
            ConvIR (`irnext.models.convir`) dilates them.
        strip_attention: each MSM branch adds ConvIR's strip attention to the square LAM.

    `forward(x)` takes N x 3 x H x W in [0, 1] with H, W multiples of `size_multiple` and at least
    `min_size`, and returns the list of outputs from coarse to fine: `[1/4, 1/2, full]`
    (`[full]` without multi_output). The restored image is `model(x)[-1]`;
    `irnext.restore(model, image)` pads any image, takes that output, crops and clamps it.
    """

    def __init__(
        self,
        *,
        num_res: int = 4,
        width: int = 32,
        msm: bool = True,
        pool_sizes: Sequence[int] = (8, 4, 2),
        lam: bool = True,
        frequency_modulation: bool = True,
        lam_skip: bool = False,
        filter_groups: int = 8,
        filter_kernel: int = 3,
        multi_input: bool = True,
        multi_output: bool = True,
        input_downsample: str = "nearest",
        upsample: str = "transposed",
        filter_dilations: Sequence[int] | None = None,
        strip_attention: bool = False,
    ) -> None:
        super().__init__()
        pool_sizes = tuple(int(p) for p in pool_sizes)
        _check_arguments(num_res, width, msm, pool_sizes, input_downsample, upsample)
        dilations = tuple(int(d) for d in filter_dilations or (1,) * len(pool_sizes))
        if len(dilations) != len(pool_sizes) or min(dilations) < 1:
            raise ValueError(
                f"filter_dilations must give one dilation >= 1 per pool size {pool_sizes}, "
                f"got {filter_dilations}"
            )
        if lam_skip and frequency_modulation:
            raise ValueError("lam_skip=True applies only with frequency_modulation=False")
        self.config = dict(
            num_res=num_res,
            width=width,
            msm=msm,
            pool_sizes=pool_sizes,
            lam=lam,
            frequency_modulation=frequency_modulation,
            lam_skip=lam_skip,
            filter_groups=filter_groups,
            filter_kernel=filter_kernel,
            multi_input=multi_input,
            multi_output=multi_output,
            input_downsample=input_downsample,
            upsample=upsample,
            filter_dilations=None if filter_dilations is None else dilations,
            strip_attention=strip_attention,
        )
        self.multi_input, self.multi_output = multi_input, multi_output
        self.input_downsample = input_downsample
        widths = [width * 2**level for level in range(LEVELS)]
        msm_kwargs = dict(
            pool_sizes=pool_sizes,
            lam=lam,
            filter_groups=filter_groups,
            filter_kernel=filter_kernel,
            frequency_modulation=frequency_modulation,
            lam_skip=lam_skip,
            filter_dilations=dilations,
            strip_attention=strip_attention,
        )
        stage_kwargs = dict(num_res=num_res, msm_kwargs=msm_kwargs if msm else None)

        self.stem = conv_block(3, widths[0], 3)
        self.downs = nn.ModuleList(
            conv_block(widths[i], widths[i + 1], 3, stride=2) for i in range(LEVELS - 1)
        )
        self.encoders = nn.ModuleList(Stage(c, **stage_kwargs) for c in widths)
        # Decoder modules are indexed from the deepest level up, as in the official code.
        deep_first = widths[::-1]
        self.decoders = nn.ModuleList(Stage(c, **stage_kwargs) for c in deep_first)
        self.ups = nn.ModuleList(_up(c, c // 2, upsample) for c in deep_first[:-1])
        self.fuses = nn.ModuleList(conv_block(c, c // 2, 1) for c in deep_first[:-1])
        self.tail = conv_block(widths[0], 3, 3, act=False)
        if multi_output:
            self.side_outputs = nn.ModuleList(
                conv_block(c, 3, 3, act=False) for c in deep_first[:-1]
            )
        if multi_input:
            self.shallow = nn.ModuleList(ShallowConvModule(c) for c in widths[1:])
            self.fams = nn.ModuleList(FeatureFusion(c) for c in widths[1:])

    @property
    def size_multiple(self) -> int:
        """Input sides must be multiples of this (two stride-2 levels times the largest pool)."""
        pools = self.config["pool_sizes"] if self.config["msm"] else (1,)
        return 2 ** (LEVELS - 1) * max(pools)

    @property
    def min_size(self) -> int:
        """Smallest input side: at the deepest level (1/4), every branch's pooled map must
        exceed its LAM's reflection pad (dilation x kernel // 2), rounded up to size_multiple."""
        config, deepest = self.config, 2 ** (LEVELS - 1)
        if not config["msm"]:
            return self.size_multiple
        dilations = config["filter_dilations"] or (1,) * len(config["pool_sizes"])
        half = config["filter_kernel"] // 2 if config["lam"] else 0
        needed = max(
            deepest * pool * (dilation * half + 1)
            for pool, dilation in zip(config["pool_sizes"], dilations)
        )
        return -(-needed // self.size_multiple) * self.size_multiple

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        inputs = self._input_pyramid(x)
        z, skips = self.stem(x), []
        for level in range(LEVELS):
            if level > 0:
                z = self.downs[level - 1](z)
                if self.multi_input:
                    shallow = self.shallow[level - 1](inputs[level])
                    z = self.fams[level - 1](z, shallow)
            z = self.encoders[level](z)
            skips.append(z)

        outputs = []
        for step, level in enumerate(reversed(range(LEVELS))):
            if step > 0:
                z = self.fuses[step - 1](torch.cat([self.ups[step - 1](z), skips[level]], dim=1))
            z = self.decoders[step](z)
            if level > 0 and self.multi_output:
                outputs.append(self.side_outputs[step](z) + inputs[level])
        outputs.append(self.tail(z) + x)
        return outputs

    def _input_pyramid(self, x: torch.Tensor) -> list[torch.Tensor]:
        """[x, x/2, x/4]; the coarse inputs are only computed where something uses them."""
        pyramid = [x]
        if not (self.multi_input or self.multi_output):
            return pyramid
        kwargs = {"align_corners": False} if self.input_downsample == "bilinear" else {}
        for _ in range(LEVELS - 1):
            pyramid.append(
                F.interpolate(pyramid[-1], scale_factor=0.5, mode=self.input_downsample, **kwargs)
            )
        return pyramid


def _up(in_channels: int, out_channels: int, mode: str) -> nn.Sequential:
    if mode == "transposed":
        return conv_block(in_channels, out_channels, 4, stride=2, transpose=True)
    return nn.Sequential(
        BilinearUpsample2x(),
        *conv_block(in_channels, out_channels, 3),
    )


def _check_arguments(
    num_res: int,
    width: int,
    msm: bool,
    pool_sizes: tuple[int, ...],
    input_downsample: str,
    upsample: str,
) -> None:
    if num_res < 1:
        raise ValueError(f"num_res must be >= 1, got {num_res}")
    if width < 4 or width % 4:
        raise ValueError(f"width must be a positive multiple of 4 (SCM uses w/4), got {width}")
    if msm and (not pool_sizes or any(p < 1 for p in pool_sizes)):
        raise ValueError(f"pool_sizes must be a non-empty tuple of positive ints, got {pool_sizes}")
    if msm and list(pool_sizes) != sorted(pool_sizes, reverse=True):
        raise ValueError(f"pool_sizes run coarse to fine (decreasing), got {pool_sizes}")
    if input_downsample not in DOWNSAMPLE_MODES:
        raise ValueError(
            f"input_downsample must be one of {DOWNSAMPLE_MODES}, got {input_downsample!r}"
        )
    if upsample not in UPSAMPLE_MODES:
        raise ValueError(f"upsample must be one of {UPSAMPLE_MODES}, got {upsample!r}")
