"""Snow: particle masks of several sizes and densities, with the veil of falling snow.

Composition as in Snow100K / DesNowNet (Liu et al. 2018), O = z a + (1 - z) J with snow mask z
and snow colour a, followed by the veiling term of CSD / HDCW-Net (Chen et al. 2021),
O' = t O + (1 - t) A. Layers run from dense fine flakes far away to sparse large soft flakes
near the lens (defocused, hence blurrier), each smeared a little along the fall direction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage, signal

from irnext.data.synth.common import grey_veil, line_kernel, linear_to_srgb, srgb_to_linear

# (radius range px, density range per pixel): far/fine, middle, near/large.
_LAYER_KINDS = (
    ((0.6, 1.4), (0.002, 0.01)),
    ((1.5, 3.0), (0.0005, 0.003)),
    ((3.5, 7.0), (0.00005, 0.0004)),
)


def flake_layer(
    shape: tuple[int, int],
    rng: np.random.Generator,
    *,
    radius_px: float,
    density: float,
    fall_deg: float,
    streak_px: float,
) -> np.ndarray:
    """Opacity in [0, 1] of one layer of soft round flakes."""
    pad = int(4 * radius_px + streak_px) + 2
    canvas = (shape[0] + 2 * pad, shape[1] + 2 * pad)
    seeds = (rng.random(canvas) < density) * rng.uniform(0.5, 1.0, canvas)
    flakes = ndimage.gaussian_filter(seeds, sigma=radius_px / 1.5) * (
        2 * np.pi * (radius_px / 1.5) ** 2
    )
    if streak_px >= 1.0:
        kernel = line_kernel(length_px=streak_px, angle_deg=fall_deg, width_px=1.0)
        flakes = signal.fftconvolve(flakes, kernel / kernel.sum(), mode="same")
    return np.clip(flakes[pad : pad + shape[0], pad : pad + shape[1]], 0.0, 1.0)


def degrade_snow(
    clean: np.ndarray, depth: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, dict[str, Any]]:
    shape = clean.shape[:2]
    fall_deg = float(rng.uniform(60.0, 120.0))
    clear = np.ones(shape)  # product of (1 - z_i): light passing every layer
    params_layers = []
    for radii, densities in _LAYER_KINDS:
        if rng.random() < 0.25 and params_layers:  # not every scene has every flake size
            continue
        layer = {
            "radius_px": float(rng.uniform(*radii)),
            "density": float(rng.uniform(*densities)),
            "fall_deg": fall_deg,
            "streak_px": float(rng.uniform(0.0, 6.0)),
        }
        clear *= 1.0 - flake_layer(shape, rng, **layer)
        params_layers.append({k: round(v, 5) for k, v in layer.items()})
    mask = (1.0 - clear)[:, :, None]
    snow_srgb = np.clip(rng.uniform(0.88, 1.0) + np.array([0.0, 0.0, 0.02]), 0.0, 1.0)
    snowy = mask * srgb_to_linear(snow_srgb)[None, None, :] + (1 - mask) * srgb_to_linear(clean)
    beta = float(rng.uniform(0.05, 0.6))
    airlight = float(rng.uniform(0.7, 0.95))
    snowy = grey_veil(snowy, depth, beta=beta, airlight_srgb=airlight)
    params = {
        "model": "O = t (z a + (1 - z) J) + (1 - t) A, in linear light",
        "layers": params_layers,
        "snow_colour_srgb": [round(float(c), 4) for c in snow_srgb],
        "mask_mean": round(float(mask.mean()), 4),
        "veil_beta": round(beta, 4),
        "veil_airlight_srgb": round(airlight, 4),
    }
    return linear_to_srgb(snowy), params
