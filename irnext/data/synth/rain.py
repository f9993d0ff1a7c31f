"""Rain: streak layers of several densities, lengths and angles, and the veil of heavy rain.

The composition follows the heavy-rain model of Li, Cheong and Tan (CVPR 2019),
O = t (B + sum_i S_i) + (1 - t) A: streak layers S_i add light (drops refract the bright sky)
and dense rain far away scatters like fog with transmission t over depth. Each layer is sparse
drops smeared into streaks along one wind direction, nearer layers longer, wider and sparser;
angles stay within a few degrees of one another as in Rain100H/Rain13K renders.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import signal

from irnext.data.synth.common import grey_veil, line_kernel, linear_to_srgb, srgb_to_linear


def streak_layer(
    shape: tuple[int, int],
    rng: np.random.Generator,
    *,
    density: float,
    length_px: float,
    angle_deg: float,
    width_px: float,
    brightness: float,
) -> np.ndarray:
    """One layer of streaks in [0, brightness]: random drops convolved with a segment."""
    kernel = line_kernel(length_px=length_px, angle_deg=angle_deg, width_px=width_px)
    pad = kernel.shape[0]
    canvas = (pad + shape[0] + pad, pad + shape[1] + pad)  # streaks may enter from outside
    drops = (rng.random(canvas) < density) * rng.uniform(0.4, 1.0, canvas)
    streaks = signal.fftconvolve(drops, kernel, mode="same")
    streaks = np.clip(streaks[pad : pad + shape[0], pad : pad + shape[1]], 0.0, 1.0)
    return brightness * streaks


def degrade_rain(
    clean: np.ndarray, depth: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, dict[str, Any]]:
    shape = clean.shape[:2]
    wind_deg = float(rng.uniform(60.0, 120.0))  # 90 = vertical fall
    heavy = bool(rng.random() < 0.5)
    layers, params_layers = np.zeros(shape), []
    for _ in range(int(rng.integers(1, 4))):
        layer = {
            "density": float(rng.uniform(0.0005, 0.006)),
            "length_px": float(rng.uniform(8.0, 40.0)),
            "angle_deg": wind_deg + float(rng.uniform(-4.0, 4.0)),
            "width_px": float(rng.uniform(0.8, 2.2)),
            "brightness": float(rng.uniform(0.15, 0.5)),
        }
        layers += streak_layer(shape, rng, **layer)
        params_layers.append({k: round(v, 4) for k, v in layer.items()})
    rainy = srgb_to_linear(clean) + layers[:, :, None]
    beta, airlight = 0.0, float(rng.uniform(0.75, 0.95))
    if heavy:
        beta = float(rng.uniform(0.3, 1.0))
        rainy = grey_veil(rainy, depth, beta=beta, airlight_srgb=airlight)
    params = {
        "model": "O = t (B + sum S_i) + (1 - t) A, in linear light",
        "layers": params_layers,
        "heavy_veil": heavy,
        "veil_beta": round(beta, 4),
        "veil_airlight_srgb": round(airlight, 4),
    }
    return linear_to_srgb(rainy), params
