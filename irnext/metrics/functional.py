"""The metric kernels: PSNR, SSIM (2-D Gaussian or uniform window, 3-D Gaussian), MAE, Y.

Every function takes batched float tensors N x C x H x W and returns one value per image
(a tensor of shape N), so a whole batch is scored in one pass on whichever device holds it.
Conventions are arguments, never guesses: `data_range` is always given by the caller.

The SSIM here is Wang et al.'s (IEEE TIP 2004): K1 = 0.01, K2 = 0.03, local statistics from a
normalised window, the map averaged over the positions where the window fits ("valid"
filtering, as in Wang's MATLAB `ssim_index` and scikit-image's crop of its reflected borders).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

K1, K2 = 0.01, 0.03  # Wang et al. 2004, section III-C


def psnr(prediction: torch.Tensor, target: torch.Tensor, *, data_range: float) -> torch.Tensor:
    """Per-image PSNR in dB = 10 log10(data_range^2 / MSE); +inf where the images are equal.

    The squared error is reduced in float64 so uint8-valued images score exactly.
    """
    error = (prediction.double() - target.double()).pow(2).flatten(1).mean(dim=1)
    return 10.0 * torch.log10(data_range**2 / error)


def mae(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image mean absolute error over all pixels and channels."""
    return (prediction.double() - target.double()).abs().flatten(1).mean(dim=1)


def gaussian_kernel_1d(*, size: int, sigma: float, device=None) -> torch.Tensor:
    """Normalised 1-D Gaussian taps, centred, as MATLAB `fspecial` and scipy.ndimage build them."""
    coords = torch.arange(size, dtype=torch.float64, device=device) - (size - 1) / 2
    taps = torch.exp(-(coords**2) / (2 * sigma**2))
    return taps / taps.sum()


def _filter_2d(images: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
    """Separable 'valid' filtering of every channel of N x C x H x W with the same 1-D taps.

    Each pass is a sum of k shifted copies weighted by the taps (k multiply-adds per pixel):
    on CPU, torch's grouped (depthwise) convolution of a thin k x 1 kernel is ~100x slower.
    The taps stay on the images' device, so no value is read back to the host.
    """
    weights = taps.to(images.dtype)
    size = weights.numel()
    height, width = images.shape[-2] - size + 1, images.shape[-1] - size + 1
    rows = images[..., :height, :] * weights[0]
    for i in range(1, size):
        rows.addcmul_(images[..., i : i + height, :], weights[i])
    out = rows[..., :width] * weights[0]
    for i in range(1, size):
        out.addcmul_(rows[..., i : i + width], weights[i])
    return out


def _ssim_map(x, y, filt, *, data_range: float, covariance_norm: float = 1.0) -> torch.Tensor:
    """Wang's SSIM map from a linear local-mean operator `filt`."""
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    mu_x, mu_y = filt(x), filt(y)
    # Population (co)variances, optionally rescaled to sample ones (scikit-image's default).
    var_x = covariance_norm * (filt(x * x) - mu_x * mu_x)
    var_y = covariance_norm * (filt(y * y) - mu_y * mu_y)
    cov_xy = covariance_norm * (filt(x * y) - mu_x * mu_y)
    numerator = (2 * mu_x * mu_y + c1) * (2 * cov_xy + c2)
    denominator = (mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2)
    return numerator / denominator


def ssim(
    prediction: torch.Tensor,
    target: torch.Tensor,
    *,
    data_range: float,
    window: str = "gaussian",
    window_size: int = 11,
    sigma: float = 1.5,
    sample_covariance: bool = False,
) -> torch.Tensor:
    """Per-image 2-D SSIM: each channel's map averaged over valid positions, then over channels.

    `window="gaussian"` (size 11, sigma 1.5, population covariance) is Wang's MATLAB SSIM and
    scikit-image's `gaussian_weights=True, sigma=1.5, use_sample_covariance=False`;
    `window="uniform"` with size 7 and `sample_covariance=True` is scikit-image's default.
    Images are first divided by `data_range` so float32 keeps its precision at any range.
    """
    if window == "gaussian":
        taps = gaussian_kernel_1d(size=window_size, sigma=sigma, device=prediction.device)
    elif window == "uniform":
        taps = torch.full((window_size,), 1.0 / window_size, device=prediction.device)
    else:
        raise ValueError(f"window must be 'gaussian' or 'uniform', got {window!r}")
    if min(prediction.shape[-2:]) < window_size:
        raise ValueError(f"SSIM needs images of at least {window_size} pixels per side")
    n = window_size * window_size
    norm = n / (n - 1) if sample_covariance else 1.0
    x, y = _as_unit(prediction, data_range), _as_unit(target, data_range)
    ssim_map = _ssim_map(x, y, lambda t: _filter_2d(t, taps), data_range=1.0, covariance_norm=norm)
    return ssim_map.flatten(2).mean(dim=2).mean(dim=1).double()


def _as_unit(images: torch.Tensor, data_range: float) -> torch.Tensor:
    dtype = images.dtype if images.dtype in (torch.float32, torch.float64) else torch.float32
    return images.to(dtype) / data_range


def ssim_3d(
    prediction: torch.Tensor,
    target: torch.Tensor,
    *,
    data_range: float,
    window_size: int = 11,
    sigma: float = 1.5,
) -> torch.Tensor:
    """Per-image SSIM of the image as one H x W x C volume, as MATLAB's `ssim` scores RGB arrays.

    MATLAB (R2017a and later) filters 3-D inputs with `imgaussfilt3` (11 x 11 x 11, sigma 1.5)
    using 'replicate' padding and averages the whole 'same'-size map; along the 3-deep colour
    axis this mixes R, G and B statistics, which is why it scores higher than per-channel SSIM.
    """
    taps = gaussian_kernel_1d(size=window_size, sigma=sigma, device=prediction.device)
    pad = window_size // 2
    mixing = _replicate_mixing(taps, prediction.shape[1])

    def filt(volume: torch.Tensor) -> torch.Tensor:
        spatial = _filter_2d(F.pad(volume, (pad, pad, pad, pad), mode="replicate"), taps)
        return torch.einsum("dc,nchw->ndhw", mixing.to(spatial.dtype), spatial)

    x, y = _as_unit(prediction, data_range), _as_unit(target, data_range)
    return _ssim_map(x, y, filt, data_range=1.0).flatten(1).mean(dim=1).double()


def _replicate_mixing(taps: torch.Tensor, depth: int) -> torch.Tensor:
    """The colour-axis pass of a 3-D filter as a depth x depth matrix: with 'replicate' padding,
    output channel d sums taps[k] x channel clamp(d + k - r, 0, depth - 1)."""
    radius = taps.numel() // 2
    mixing = torch.zeros(depth, depth, dtype=taps.dtype, device=taps.device)
    for d in range(depth):
        for k, weight in enumerate(taps):
            mixing[d, min(max(d + k - radius, 0), depth - 1)] += weight
    return mixing


def rgb_to_y_matlab(images: torch.Tensor) -> torch.Tensor:
    """MATLAB `rgb2ycbcr` luma of RGB in [0, 1], on the 0-255 scale, not rounded.

    BT.601 studio range: Y = 16 + 65.481 R + 128.553 G + 24.966 B (Y in [16, 235]), summed in
    MATLAB's order (`imlincomb`: weighted channels left to right, then the offset) so that
    rounding ties fall the same way. Returns N x 1 x H x W.
    """
    r, g, b = images[:, 0:1], images[:, 1:2], images[:, 2:3]
    return 65.481 * r + 128.553 * g + 24.966 * b + 16.0


def round_half_up(values: torch.Tensor) -> torch.Tensor:
    """MATLAB's rounding of non-negative values (half away from zero), unlike torch.round."""
    return torch.floor(values + 0.5)


def quantize_uint8(images: torch.Tensor) -> torch.Tensor:
    """What saving a float image in [0, 1] as an 8-bit PNG keeps: round(255 x) / 255.

    Rounds half to even, as NumPy's `round` does in the official test scripts before `imwrite`.
    """
    return torch.round(images.clamp(0, 1) * 255.0) / 255.0


def pooled_size(height: int, width: int) -> tuple[int, int]:
    """DehazeFormer's SSIM down-sampling: factor r = max(1, round(min(H, W) / 256))."""
    ratio = max(1, round(min(height, width) / 256))
    return int(height / ratio), int(width / ratio)


def release_padded_side(side: int, factor: int = 32) -> int:
    """The side the IRNeXt release's dehazing eval computes its SSIM pooling from:
    (side + factor) // factor * factor, one whole `factor` above a side that is already a
    multiple (the image is not padded then, but the pooled size still uses this number)."""
    return (side + factor) // factor * factor
