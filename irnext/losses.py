"""IRNeXt's training loss (docs/training.md; official train.py).

For each output scale s: L1(out_s, gt_s) + fft_weight * L1(FFT(out_s), FFT(gt_s)), summed over
scales, where gt_s is the ground truth bilinearly resized to the output's size and FFT is the
unnormalised 2-D FFT with real and imaginary parts stacked. Mean reduction throughout.

The pixel term is L1 by default; the baselines' own recipes (irnext.training.recipes) use
NAFNet's PSNR loss or Uformer's Charbonnier loss in its place.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F


def frequency_l1(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 between unnormalised 2-D spectra, real and imaginary parts as separate values."""
    # FFT in float32 even under bf16 autocast: cuFFT has no bf16 path for arbitrary sizes.
    spectra = [torch.view_as_real(torch.fft.fft2(t.float())) for t in (prediction, target)]
    return F.l1_loss(*spectra)


CHARBONNIER_EPS = 1e-3  # Uformer losses.py CharbonnierLoss(eps=1e-3)


def psnr_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """NAFNet's PSNRLoss (basicsr/models/losses/losses.py): the mean over images of
    10 / ln 10 * ln(MSE + 1e-8), i.e. minus the per-image PSNR (peak 1), up to the 1e-8."""
    mse = (prediction - target).pow(2).mean(dim=(1, 2, 3))
    return (10 / math.log(10)) * torch.log(mse + 1e-8).mean()


def charbonnier_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Uformer's Charbonnier loss: mean of sqrt(d^2 + eps^2), eps 1e-3."""
    return torch.sqrt((prediction - target).pow(2) + CHARBONNIER_EPS**2).mean()


PIXEL_LOSSES = {"l1": F.l1_loss, "psnr": psnr_loss, "charbonnier": charbonnier_loss}


def multiscale_loss(
    outputs: Sequence[torch.Tensor],
    target: torch.Tensor,
    *,
    fft_weight: float = 0.1,
    all_scales: bool = True,
    pixel: str = "l1",
) -> torch.Tensor:
    """Sum over the outputs (coarse to fine, the last full size) of L1 + fft_weight * FFT-L1.

    `all_scales=False` supervises only the full-scale output (an ablation of the paper's
    multi-output supervision).
    """
    if isinstance(outputs, torch.Tensor):
        # A bare N x C x H x W tensor would be iterated over its batch and broadcast against
        # every target: callers wrap single-output models' results as [out].
        raise TypeError("multiscale_loss takes a sequence of output scales; wrap one as [out]")
    if pixel not in PIXEL_LOSSES:
        raise ValueError(f"pixel loss {pixel!r}: expected one of {sorted(PIXEL_LOSSES)}")
    supervised = outputs if all_scales else outputs[-1:]
    total = target.new_zeros(())
    for out in supervised:
        # Official: F.interpolate(gt, scale_factor=0.5, mode='bilinear') per level, i.e.
        # align_corners=False; resizing to the output's size is the same grid.
        gt = (
            target
            if out.shape[-2:] == target.shape[-2:]
            else F.interpolate(target, size=out.shape[-2:], mode="bilinear", align_corners=False)
        )
        total = total + PIXEL_LOSSES[pixel](out.float(), gt.float())
        if fft_weight:
            total = total + fft_weight * frequency_l1(out, gt)
    return total
