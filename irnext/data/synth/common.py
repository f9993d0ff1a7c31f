"""Shared pieces of the degradation models: light, convolution, depth, line kernels.

Blur, haze, rain and snow all act on scene radiance, so every model converts the sRGB photograph
to linear light first and back at the end (IEC 61966-2-1 transfer curve). GoPro's blurred frames
are likewise averages of linear-ish sensor frames ('blur' vs 'blur_gamma', Nah et al. 2017).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, signal


def srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    srgb = np.clip(srgb, 0.0, 1.0)
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0.0, 1.0)
    srgb = np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.clip(srgb, 0.0, 1.0).astype(np.float32)


def convolve_image(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Each channel of HxWxC `image` convolved with `kernel`, borders by reflection."""
    pad_y, pad_x = kernel.shape[0] // 2, kernel.shape[1] // 2
    padded = np.pad(image, ((pad_y, pad_y), (pad_x, pad_x), (0, 0)), mode="reflect")
    out = signal.fftconvolve(padded, kernel[:, :, None], mode="valid", axes=(0, 1))
    return out[: image.shape[0], : image.shape[1]]


def line_kernel(*, length_px: float, angle_deg: float, width_px: float = 1.0) -> np.ndarray:
    """Anti-aliased segment of `length_px` at `angle_deg` (peak 1): a streak's footprint."""
    half = int(np.ceil(length_px / 2 + 2 * width_px)) + 1
    y, x = np.mgrid[-half : half + 1, -half : half + 1].astype(np.float64)
    theta = np.deg2rad(angle_deg)
    along = x * np.cos(theta) + y * np.sin(theta)
    across = -x * np.sin(theta) + y * np.cos(theta)
    beyond = np.maximum(np.abs(along) - length_px / 2, 0.0)
    distance = np.hypot(beyond, across)
    return np.exp(-0.5 * (distance / max(width_px / 2, 0.3)) ** 2)


def disc_kernel(radius_px: float) -> np.ndarray:
    """Uniform disc of `radius_px` with an anti-aliased rim, summing to 1 (a defocus PSF)."""
    if radius_px < 0.5:
        return np.ones((1, 1))
    half = int(np.ceil(radius_px)) + 1
    y, x = np.mgrid[-half : half + 1, -half : half + 1].astype(np.float64)
    kernel = np.clip(radius_px + 0.5 - np.hypot(x, y), 0.0, 1.0)
    return kernel / kernel.sum()


def synthetic_depth(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A smooth plausible depth in [0, 1] (0 near, 1 far): a tilted ground plane plus hills.

    Outdoor scenes recede towards the top of the frame; low-frequency noise adds the relief a
    real scene has. Used where a photograph has no measured depth.
    """
    height, width = shape
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    tilt = rng.uniform(-0.3, 0.3)
    plane = (1.0 - y) + tilt * (x - 0.5)
    relief = ndimage.gaussian_filter(rng.standard_normal(shape), sigma=max(shape) / 6, mode="wrap")
    relief /= np.abs(relief).max() + 1e-8
    depth = plane + rng.uniform(0.2, 0.6) * relief
    depth -= depth.min()
    return (depth / (depth.max() + 1e-8)).astype(np.float32)


def scatter(linear: np.ndarray, depth: np.ndarray, *, beta: float, airlight: np.ndarray):
    """Koschmieder's model I = J t + A (1 - t), t = exp(-beta d): haze, rain and snow veils."""
    transmission = np.exp(-beta * depth)[:, :, None]
    return linear * transmission + airlight[None, None, :] * (1.0 - transmission), transmission


def grey_veil(linear: np.ndarray, depth: np.ndarray, *, beta: float, airlight_srgb: float):
    """`scatter` under a neutral grey airlight given as an sRGB level: the veil of rain and snow
    scenes (haze draws a tinted airlight of its own)."""
    airlight = np.full(3, srgb_to_linear(np.array(airlight_srgb)))
    return scatter(linear, depth, beta=beta, airlight=airlight)[0]


def psnr_db(clean: np.ndarray, degraded: np.ndarray) -> float:
    mse = float(np.mean((clean.astype(np.float64) - degraded.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(1.0 / mse)
