"""Motion blur from random camera-shake trajectories (after Boracchi and Foi, IEEE TIP 2012).

The camera path is a random walk whose velocity has inertia, is pulled back towards the start
(hands correct drift) and takes occasional abrupt jerks; the kernel is the time the path spends
over each pixel, so curved, kinked and uneven-speed kernels appear, not only straight lines.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from irnext.data.synth.common import convolve_image, linear_to_srgb, srgb_to_linear

_STEPS = 64


def shake_trajectory(rng: np.random.Generator, *, length_px: float) -> np.ndarray:
    """(steps, 2) camera offsets in pixels whose path length is `length_px`."""
    anxiety = rng.uniform(0.05, 0.6)  # how much the direction wanders
    jerk_probability = rng.uniform(0.0, 0.08)
    velocity = np.exp(1j * rng.uniform(0, 2 * np.pi))
    position = np.zeros(_STEPS, dtype=np.complex128)
    for step in range(1, _STEPS):
        change = anxiety * (rng.standard_normal() + 1j * rng.standard_normal())
        change -= 0.02 * position[step - 1]  # drift correction
        if rng.random() < jerk_probability:
            change += 2.0 * velocity * np.exp(1j * rng.uniform(0.75 * np.pi, 1.25 * np.pi))
        velocity = velocity + change
        velocity /= abs(velocity) + 1e-12
        position[step] = position[step - 1] + velocity * rng.uniform(0.5, 1.5)  # uneven speed
    path = np.abs(np.diff(position)).sum()
    position = (position - position.mean()) * (length_px / max(path, 1e-6))
    return np.stack([position.real, position.imag], axis=1)


def trajectory_kernel(trajectory: np.ndarray) -> np.ndarray:
    """Rasterise a trajectory (bilinear splats at 8x sub-steps) into a kernel summing to 1."""
    fine = np.linspace(0, len(trajectory) - 1, 8 * len(trajectory))
    xs = np.interp(fine, np.arange(len(trajectory)), trajectory[:, 0])
    ys = np.interp(fine, np.arange(len(trajectory)), trajectory[:, 1])
    half = int(np.ceil(max(np.abs(xs).max(), np.abs(ys).max()))) + 1
    kernel = np.zeros((2 * half + 1, 2 * half + 1))
    xs, ys = xs + half, ys + half
    x0, y0 = np.floor(xs).astype(int), np.floor(ys).astype(int)
    fx, fy = xs - x0, ys - y0
    for dy, dx, weight in (
        (0, 0, (1 - fy) * (1 - fx)),
        (0, 1, (1 - fy) * fx),
        (1, 0, fy * (1 - fx)),
        (1, 1, fy * fx),
    ):
        np.add.at(kernel, (y0 + dy, x0 + dx), weight)
    return kernel / kernel.sum()


def degrade_motion_blur(
    clean: np.ndarray, depth: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, dict[str, Any]]:
    length = float(rng.uniform(8.0, 32.0))
    trajectory = shake_trajectory(rng, length_px=length)
    kernel = trajectory_kernel(trajectory)
    blurred = convolve_image(srgb_to_linear(clean), kernel)
    params = {
        "model": "shake-trajectory kernel, convolved in linear light",
        "trajectory_length_px": round(length, 3),
        "kernel_size_px": int(kernel.shape[0]),
        "trajectory_px": [[round(float(x), 3), round(float(y), 3)] for x, y in trajectory],
    }
    return linear_to_srgb(blurred), params
