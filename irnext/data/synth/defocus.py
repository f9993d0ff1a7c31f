"""Defocus: disc point-spread functions whose radius follows the thin-lens circle of confusion.

For a lens focused at distance z_f, a point at distance z blurs to a disc of radius
r = k |1/z - 1/z_f| (thin lens; DPDD's real defocus follows the same geometry). The image is
blurred with a stack of disc PSFs on a 0.5-pixel radius grid and each pixel takes the linear
interpolation of the two stack levels that bracket its radius: a gather approximation that is
exact in regions of constant depth.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from irnext.data.synth.common import convolve_image, disc_kernel, linear_to_srgb, srgb_to_linear

_RADIUS_STEP_PX = 0.5


def blur_radius_map(depth: np.ndarray, *, focus: float, max_radius_px: float) -> np.ndarray:
    """Circle-of-confusion radius per pixel for relative depth in [0, 1] (metric 1..10 units)."""
    distance = 1.0 + 9.0 * depth
    focus_distance = 1.0 + 9.0 * focus
    circle = np.abs(1.0 / distance - 1.0 / focus_distance)
    return (max_radius_px * circle / max(circle.max(), 1e-8)).astype(np.float32)


def variable_disc_blur(linear: np.ndarray, radius: np.ndarray) -> np.ndarray:
    position = radius / _RADIUS_STEP_PX
    levels = np.arange(int(np.ceil(position.max())) + 1) * _RADIUS_STEP_PX
    lower = np.floor(position).astype(int)
    weight_upper = (position - lower)[:, :, None]
    out = np.zeros_like(linear)
    for level, level_radius in enumerate(levels):
        below, above = lower == level, lower + 1 == level
        if not (below.any() or above.any()):
            continue
        blurred = convolve_image(linear, disc_kernel(level_radius))
        weight = below[:, :, None] * (1 - weight_upper) + above[:, :, None] * weight_upper
        out += weight * blurred
    return out


def degrade_defocus(
    clean: np.ndarray, depth: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, dict[str, Any]]:
    focus = float(np.quantile(depth, rng.uniform(0.0, 0.35)))  # a nearer part stays sharp
    max_radius = float(rng.uniform(4.0, 12.0))
    radius = blur_radius_map(depth, focus=focus, max_radius_px=max_radius)
    blurred = variable_disc_blur(srgb_to_linear(clean), radius)
    params = {
        "model": "disc PSF, radius = k |1/z - 1/z_focus|, in linear light",
        "focus_depth": round(focus, 4),
        "max_radius_px": round(max_radius, 3),
        "mean_radius_px": round(float(radius.mean()), 3),
    }
    return linear_to_srgb(blurred), params
