"""Shared fixtures: small datasets the tests make themselves."""

from __future__ import annotations

import numpy as np
import pytest

from irnext.data import write_image


@pytest.fixture(scope="session")
def tiny_haze(tmp_path_factory):
    """A synth-haze folder: clean random textures, 'hazy' inputs = 0.6 J + 0.4 A."""
    root = tmp_path_factory.mktemp("haze")
    rng = np.random.default_rng(0)
    for split, count in (("train", 6), ("test", 2)):
        for i in range(count):
            clean = rng.random((48, 48, 3)).astype(np.float32)
            write_image(root / split / "target" / f"{i:03d}.png", clean)
            write_image(root / split / "input" / f"{i:03d}.png", 0.6 * clean + 0.4 * 0.9)
    return root
