"""Haze: the atmospheric scattering model I = J t + A (1 - t), t = exp(-beta d).

Ranges follow RESIDE's synthesis (Li et al. 2019: A in [0.7, 1.0], beta in [0.6, 1.8] on a
normalised depth), with the depth offset by a random near distance; the airlight gets a
slight random tint because real skylight is rarely neutral grey.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from irnext.data.synth.common import linear_to_srgb, scatter, srgb_to_linear


def degrade_haze(
    clean: np.ndarray, depth: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, dict[str, Any]]:
    beta = float(rng.uniform(0.3, 1.2))
    near = float(rng.uniform(0.0, 0.2))  # nothing in a photograph sits at zero distance
    airlight_srgb = np.clip(rng.uniform(0.7, 1.0) + rng.uniform(-0.03, 0.03, 3), 0.0, 1.0)
    distance = near + (1.0 - near) * depth
    hazy, transmission = scatter(
        srgb_to_linear(clean), distance, beta=beta, airlight=srgb_to_linear(airlight_srgb)
    )
    params = {
        "model": "I = J t + A (1 - t), t = exp(-beta d), in linear light",
        "beta": round(beta, 4),
        "near_distance": round(near, 4),
        "airlight_srgb": [round(float(a), 4) for a in airlight_srgb],
        "transmission_min": round(float(transmission.min()), 4),
        "transmission_mean": round(float(transmission.mean()), 4),
    }
    return linear_to_srgb(hazy), params
