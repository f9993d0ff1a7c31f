"""Named metric protocols: how each benchmark of the field turns a restored image into numbers.

A published PSNR moves by up to ~0.6 dB with the protocol (quantisation, colour space, SSIM
window, pooling), so every score in this suite names one. Each protocol is a function of two
batches of float images in [0, 1] (N x 3 x H x W) built from the kernels of `functional`.

`realblur_aligned` re-implements RealBlur's ECC alignment in torch (see `realblur`); OpenCV,
whose `findTransformECC` the official script calls, is not a dependency of this suite.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from irnext.errors import InputError, lookup
from irnext.metrics import functional as M

Scorer = Callable[[torch.Tensor, torch.Tensor], dict[str, torch.Tensor]]


@dataclass(frozen=True)
class Protocol:
    """A benchmark's scoring, with how its images are decoded.

    `bit_depth` is that of the benchmark's image files (8, or 16 for DPDD's PNGs): restored
    images are saved at it, so that the official script reads what it would read of its own
    outputs. `scores_floats` says whether the scores are of the float images themselves (True)
    or of their uint8 quantisation, as the official scripts that score saved PNGs do (False).
    """

    name: str
    metrics: tuple[str, ...]
    source: str  # whose evaluation code the protocol reproduces
    scorer: Scorer
    bit_depth: int
    scores_floats: bool


def _dehaze_pooled(prediction, target):
    # DehazeFormer test.py (copied by the IRNeXt authors): float PSNR with peak 1, then
    # pytorch_msssim's SSIM (11x11 Gaussian, valid) on adaptively average-pooled images.
    size = M.pooled_size(*prediction.shape[-2:])
    pooled_p = F.adaptive_avg_pool2d(prediction, size)
    pooled_t = F.adaptive_avg_pool2d(target, size)
    return {
        "psnr_db": M.psnr(prediction, target, data_range=1.0),
        "ssim": M.ssim(pooled_p, pooled_t, data_range=1.0),
    }


def _dehaze_pooled_release(prediction, target):
    # NOTE: the IRNeXt release's dehazing eval (ConvIR lineage) departs from DehazeFormer in one
    # place: r and the pooled size come from the padded sides H' = (h + 32) // 32 * 32
    # (docs/protocols.md, "IRNeXt release evaluation"), so SOTS-indoor (460 x 620) is pooled to
    # 240 x 320, not 230 x 310.
    height, width = (M.release_padded_side(side) for side in prediction.shape[-2:])
    size = M.pooled_size(height, width)
    return {
        "psnr_db": M.psnr(prediction, target, data_range=1.0),
        "ssim": M.ssim(
            F.adaptive_avg_pool2d(prediction, size),
            F.adaptive_avg_pool2d(target, size),
            data_range=1.0,
        ),
    }


def _matlab_rgb3d(prediction, target):
    # GoPro/HIDE scripts: MATLAB psnr/ssim on the saved uint8 PNGs, RGB array as a 3-D volume.
    p, t = M.quantize_uint8(prediction), M.quantize_uint8(target)
    return {
        "psnr_db": M.psnr(p, t, data_range=1.0),
        "ssim": M.ssim_3d(p, t, data_range=1.0),
    }


def _matlab_y(prediction, target):
    # Rain13K scripts: uint8 RGB -> rgb2ycbcr luma rounded to integers, peak 255, Wang's SSIM.
    def luma(images):
        # Quantise in float64 so k/255 is exact and Y rounds as MATLAB's double arithmetic does.
        return M.round_half_up(M.rgb_to_y_matlab(M.quantize_uint8(images.double())))

    p, t = luma(prediction), luma(target)
    return {
        "psnr_db": M.psnr(p, t, data_range=255.0),
        "ssim": M.ssim(p, t, data_range=255.0),
    }


def _dpdd_float(prediction, target):
    # DPDD test (Abuolaim & Brown 2020, kept by Restormer): float images, peak 1, MAE, and
    # scikit-image's default SSIM (7x7 uniform window, sample covariance) with data range 1.
    return {
        "psnr_db": M.psnr(prediction, target, data_range=1.0),
        "ssim": M.ssim(
            prediction,
            target,
            data_range=1.0,
            window="uniform",
            window_size=7,
            sample_covariance=True,
        ),
        "mae": M.mae(prediction, target),
    }


def _dpdd_float_lpips(prediction, target):
    # Restormer's DPDD evaluation adds LPIPS (AlexNet, v0.1) to PSNR, SSIM and MAE.
    from irnext.metrics.lpips import lpips_distance

    return {**_dpdd_float(prediction, target), "lpips": lpips_distance(prediction, target)}


def _basicsr_rgb(prediction, target):
    # BasicSR calculate_psnr/calculate_ssim: uint8 RGB, per-channel Gaussian SSIM averaged.
    p, t = M.quantize_uint8(prediction), M.quantize_uint8(target)
    return {"psnr_db": M.psnr(p, t, data_range=1.0), "ssim": M.ssim(p, t, data_range=1.0)}


def _realblur_aligned(prediction, target):
    # RealBlur evaluation: uint8 images, intensity match, ECC homography, masked PSNR/SSIM.
    from irnext.metrics import realblur

    aligned, target, mask = realblur.align(M.quantize_uint8(prediction), M.quantize_uint8(target))
    return realblur.masked_scores(aligned, target, mask)


# How each benchmark's images are decoded (see `Protocol`): dehazing scripts score the float
# outputs of 8-bit images, the MATLAB, BasicSR and RealBlur scripts their uint8 PNGs, and
# DPDD's images are 16-bit PNGs (Abuolaim & Brown, ECCV 2020) scored as floats.
_FLOAT_8 = {"bit_depth": 8, "scores_floats": True}
_UINT8 = {"bit_depth": 8, "scores_floats": False}
_FLOAT_16 = {"bit_depth": 16, "scores_floats": True}

PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        Protocol(
            "dehaze_pooled", ("psnr_db", "ssim"), "DehazeFormer test.py", _dehaze_pooled, **_FLOAT_8
        ),
        Protocol(
            "dehaze_pooled_release",
            ("psnr_db", "ssim"),
            "IRNeXt release eval (pooling from padded sides)",
            _dehaze_pooled_release,
            **_FLOAT_8,
        ),
        Protocol(
            "matlab_rgb3d", ("psnr_db", "ssim"), "MATLAB psnr/ssim (GoPro)", _matlab_rgb3d, **_UINT8
        ),
        Protocol(
            "matlab_y", ("psnr_db", "ssim"), "MATLAB rgb2ycbcr + ssim_index", _matlab_y, **_UINT8
        ),
        Protocol(
            "dpdd_float", ("psnr_db", "ssim", "mae"), "DPDD / Restormer", _dpdd_float, **_FLOAT_16
        ),
        Protocol(
            "dpdd_float_lpips",
            ("psnr_db", "ssim", "mae", "lpips"),
            "Restormer DPDD evaluation (LPIPS-alex weights downloaded on first use)",
            _dpdd_float_lpips,
            **_FLOAT_16,
        ),
        Protocol("basicsr_rgb", ("psnr_db", "ssim"), "BasicSR metrics", _basicsr_rgb, **_UINT8),
        Protocol(
            "realblur_aligned",
            ("psnr_db", "ssim"),
            "RealBlur evaluation (ECC)",
            _realblur_aligned,
            **_UINT8,
        ),
    )
}


def list_protocols() -> list[str]:
    return list(PROTOCOLS)


def get_protocol(name: str) -> Protocol:
    return lookup(PROTOCOLS, name, "metric protocol")


def score_batch(
    prediction: torch.Tensor, target: torch.Tensor, *, protocol: str, crop_border: int = 0
) -> list[dict[str, float]]:
    """Score N image pairs (N x 3 x H x W, float in [0, 1] or uint8) -> one dict per image.

    Float predictions are clamped to [0, 1] first, as every official script does before
    saving or scoring. `crop_border` removes that many pixels from each side (0 in every
    protocol of the field; kept for super-resolution-style cross-checks). PSNR is +inf for
    identical images (see `summarise` in `irnext.evaluation` for how means treat it).
    """
    return launch_scores(prediction, target, protocol=protocol, crop_border=crop_border).read()


class PendingScores:
    """Scores of a batch launched on its device, read by `read()` with one device->host copy.

    The value checks of both inputs (one min/max reduction per float tensor) travel in the same
    copy as every metric, so scoring a batch costs one host synchronisation; on CUDA the copy is
    queued at once, before whatever the caller launches next (the next batch's forward pass).
    """

    def __init__(self, metrics: tuple[str, ...], checked: list[str], table: torch.Tensor):
        self.metrics, self.checked = metrics, checked  # two rows (min, max) per checked role
        on_cuda = table.device.type == "cuda"
        self._table = table.to("cpu", non_blocking=on_cuda)
        self._ready = torch.cuda.Event() if on_cuda else None
        if self._ready is not None:
            self._ready.record()

    def read(self) -> list[dict[str, float]]:
        if self._ready is not None:
            self._ready.synchronize()
        table = self._table.tolist()
        for index, role in enumerate(self.checked):
            _check_range(role, table[2 * index : 2 * index + 2])
        columns = table[2 * len(self.checked) :]
        return [dict(zip(self.metrics, image, strict=True)) for image in zip(*columns)]


def launch_scores(
    prediction: torch.Tensor, target: torch.Tensor, *, protocol: str, crop_border: int = 0
) -> PendingScores:
    """`score_batch` without waiting: checks and metrics are launched, `.read()` waits."""
    chosen = get_protocol(protocol)
    p, t = _unit_batch(prediction, "prediction"), _unit_batch(target, "target")
    if p.shape != t.shape:
        raise InputError(f"prediction {tuple(p.shape)} and target {tuple(t.shape)} differ")
    if not 0 <= crop_border < min(p.shape[-2:]) / 2:
        raise InputError(
            f"crop_border {crop_border} must be >= 0 and below half the shorter side of "
            f"{tuple(p.shape[-2:])}"
        )
    ranges = {"prediction": _range_rows(prediction), "target": _range_rows(target)}
    checked = [role for role, rows in ranges.items() if rows is not None]
    stats = [ranges[role].double() for role in checked]
    if crop_border:
        p = p[..., crop_border:-crop_border, crop_border:-crop_border]
        t = t[..., crop_border:-crop_border, crop_border:-crop_border]
    try:
        with torch.no_grad():
            values = chosen.scorer(p.clamp(0, 1), t.clamp(0, 1))
    except Exception:
        # A scorer with host-side steps of its own (RealBlur's ECC) may fail on the very values
        # the checks are about: name those first.
        if stats:
            PendingScores((), checked, torch.cat(stats)).read()
        raise
    metrics = torch.stack([values[k].double().to(p.device) for k in chosen.metrics])
    return PendingScores(chosen.metrics, checked, torch.cat([*stats, metrics]))


def score(prediction, target, *, protocol: str, crop_border: int = 0) -> dict[str, float]:
    """Score one pair of H x W x 3 images (NumPy arrays or tensors; uint8, uint16 or float
    in [0, 1]) under the named protocol: {"psnr_db", "ssim"} plus "mae" where it has one."""
    batch = [
        _hwc_to_batch(image, role)
        for image, role in ((prediction, "prediction"), (target, "target"))
    ]
    return score_batch(*batch, protocol=protocol, crop_border=crop_border)[0]


def _hwc_to_batch(image, role: str) -> torch.Tensor:
    tensor = (
        torch.from_numpy(np.array(image, copy=True)) if isinstance(image, np.ndarray) else image
    )
    if tensor.ndim != 3 or tensor.shape[-1] != 3:
        raise InputError(f"{role} must be an H x W x 3 image, got shape {tuple(tensor.shape)}")
    return tensor.permute(2, 0, 1).unsqueeze(0)


def _unit_batch(images: torch.Tensor, role: str) -> torch.Tensor:
    """Integer images are divided by their type's peak; floats must already be in [0, 1]
    (checked by `_range_rows`, read with the scores)."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise InputError(f"{role} must be N x 3 x H x W, got shape {tuple(images.shape)}")
    if images.dtype == torch.uint8:
        return images.float() / 255.0
    if images.dtype == torch.uint16:
        return images.float() / 65535.0
    if not images.is_floating_point():
        raise InputError(f"{role} has dtype {images.dtype}; expected uint8, uint16 or float")
    return images.float() if images.dtype not in (torch.float32, torch.float64) else images


def _range_rows(images: torch.Tensor) -> torch.Tensor | None:
    """Per-image minimum and maximum (2 x N) of a float batch, one reduction: a NaN or an
    infinity propagates into them, so they carry the finiteness check too. None for integers."""
    if not images.is_floating_point() or not images.numel():
        return None
    low, high = torch.aminmax(images.flatten(1), dim=1)
    return torch.stack([low, high])


def _check_range(role: str, rows: list[list[float]]) -> None:
    # The data range is never inferred: a float image on the 0-255 scale is an error, not a
    # guess. A small overshoot of a network output is allowed and clamped.
    low, high = rows
    bad = [i for i, (lo, hi) in enumerate(zip(low, high)) if not math.isfinite(lo + hi)]
    if bad:  # a NaN would pass a range check and score as NaN
        raise InputError(f"{role} has NaN or infinite values in image(s) {bad} of the batch")
    if min(low) < -0.5 or max(high) > 1.5:
        raise InputError(f"{role} is float with values outside [0, 1]; pass uint8 or scale it")
