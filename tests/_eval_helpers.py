"""Miniature datasets for the evaluation tests, written as the real layouts store them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import skimage.data
import torch
from PIL import Image


def _photo_crops(count: int, size: tuple[int, int]) -> list[np.ndarray]:
    photos = (skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea())
    h, w = size
    return [photos[i % 3][20 * i : 20 * i + h, 30 * i : 30 * i + w] for i in range(count)]


def degrade(clean: np.ndarray, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0, 10, clean.shape)
    return np.clip(np.round(clean + noise), 0, 255).astype(np.uint8)


def write_synth_layout(
    root: Path, *, count: int = 3, size: tuple[int, int] = (64, 80), identical: int | None = None
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """ROOT/test/{input,target}/NAME.png (the synth-* layout); pair `identical` is undegraded.
    Returns name -> (input, target) uint8 arrays as written."""
    written = {}
    for index, clean in enumerate(_photo_crops(count, size)):
        degraded = clean.copy() if index == identical else degrade(clean, index)
        name = f"{index:04d}_photo"
        for side, image in (("input", degraded), ("target", clean)):
            (root / "test" / side).mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(root / "test" / side / f"{name}.png")
        written[name] = (degraded, clean)
    return written


def write_dpdd_layout(root: Path, *, indoor: int = 2, outdoor: int = 3) -> dict[str, Path]:
    """ROOT/test_c/{source,target}/NAME.png as 16-bit PNGs plus indoor/outdoor name lists."""
    from irnext.data import write_image

    names = {"indoor": [], "outdoor": []}
    crops = _photo_crops(indoor + outdoor, (48, 64))
    for index, clean in enumerate(crops):
        group = "indoor" if index < indoor else "outdoor"
        name = f"{index + 1:02d}_scene"
        write_image(root / "test_c" / "target" / f"{name}.png", clean / 255.0, bit_depth=16)
        blurred = degrade(clean, index) / 255.0
        write_image(root / "test_c" / "source" / f"{name}.png", blurred, bit_depth=16)
        names[group].append(name)
    lists = {}
    for group, members in names.items():
        lists[group] = root / f"{group}.txt"
        lists[group].write_text("\n".join(members) + "\n")
    return lists


def with_active_branches(model: torch.nn.Module, *, seed: int = 0, std: float = 0.5):
    """Give all-zero parameters (the LAM gates; norm biases) random values, in place.

    A freshly built IRNeXt's LAM is the identity (W, lambda_l and lambda_h start at zero, official
    init), so its filter cannot change the output and a numerics check of an untrained model
    would not see it. Trained weights are not available to the tests and the GPU suite.
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.numel() and not parameter.any():
                noise = torch.randn(parameter.shape, generator=generator) * std
                parameter.copy_(noise.to(parameter.device, parameter.dtype))
    return model
