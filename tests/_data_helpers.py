"""Miniature copies of every dataset layout, written with random pixels, for the data tests.

Each entry lists (input path, target path) relative to the dataset root exactly as the
authors distribute them (docs/datasets.md), plus files that must be ignored or used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from irnext.data.images import encode_png16

SIZE = (20, 24)  # height, width of the miniature images

_REALBLUR = "RealBlur-J_ECC_IMCORR_centroid_itensity_ref"

# name -> (split, [(input, target), ...]); targets may repeat (RESIDE: many hazy per GT).
LAYOUT_FILES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "its-train": (
        "train",
        [
            ("train/hazy/1_1_0.90179.png", "train/gt/1.png"),
            ("train/hazy/1_2_0.7.png", "train/gt/1.png"),
            ("train/hazy/2_1_0.8.png", "train/gt/2.png"),
        ],
    ),
    "ots-train": (
        "train",
        [("hazy/0001_0.8_0.2.jpg", "clear/0001.jpg"), ("hazy/0002_0.9_0.1.jpg", "clear/0002.jpg")],
    ),
    "sots-indoor": (
        "test",
        [
            ("hazy/1400_1.png", "gt/1400.png"),
            ("hazy/1400_2.png", "gt/1400.png"),
            ("hazy/1401_1.png", "gt/1401.png"),
        ],
    ),
    "sots-outdoor": (
        "test",
        [
            ("outdoor/hazy/0001_0.8_0.2.jpg", "outdoor/gt/0001.png"),
            ("outdoor/hazy/0002_1_0.16.jpg", "outdoor/gt/0002.png"),
        ],
    ),
    "haze4k": (
        "test",
        [("test/IN/1_0.87_1.42.png", "test/GT/1.png"), ("test/IN/2_0.9_0.8.png", "test/GT/2.png")],
    ),
    "gopro": (
        "test",
        [
            ("test/GOPR0384_11_00/blur/000001.png", "test/GOPR0384_11_00/sharp/000001.png"),
            ("test/GOPR0384_11_00/blur/000002.png", "test/GOPR0384_11_00/sharp/000002.png"),
            ("test/GOPR0410_11_00/blur/000047.png", "test/GOPR0410_11_00/sharp/000047.png"),
        ],
    ),
    "hide": (
        "test",
        [
            ("test/test-close-ups/1fromGOPR0950.png", "GT/1fromGOPR0950.png"),
            ("test/test-long-shot/10fromGOPR1062.png", "GT/10fromGOPR1062.png"),
        ],
    ),
    "realblur-j": (
        "test",
        [
            (f"{_REALBLUR}/scene230/blur/blur_1.png", f"{_REALBLUR}/scene230/gt/gt_1.png"),
            (f"{_REALBLUR}/scene231/blur/blur_2.png", f"{_REALBLUR}/scene231/gt/gt_2.png"),
        ],
    ),
    "realblur-r": ("test", [("test/input/scene001_blur_1.png", "test/target/scene001_blur_1.png")]),
    "dpdd": (
        "test",
        [
            ("test_c/source/1P0A1001.png", "test_c/target/1P0A1001.png"),
            ("test_c/source/1P0A2.png", "test_c/target/1P0A2.png"),
            ("test_c/source/1P0A10.png", "test_c/target/1P0A10.png"),
        ],
    ),
    "rain13k": (
        "train",
        [("input/1.jpg", "target/1.jpg"), ("input/norain_2.png", "target/norain_2.png")],
    ),
    "test100": ("test", [("input/1.png", "target/1.png"), ("input/2.png", "target/2.png")]),
    "rain100h": (
        "test",
        [
            ("rain/rain-001.png", "norain/norain-001.png"),
            ("rain/rain-002.png", "norain/norain-002.png"),
        ],
    ),
    "rain100l": ("test", [("input/1.png", "target/1.png")]),
    "test2800": ("test", [("input/1.png", "target/1.png")]),
    "test1200": ("test", [("input/1.png", "target/1.png")]),
    "csd": ("test", [("Test/Snow/1.tif", "Test/Gt/1.tif"), ("Test/Snow/2.tif", "Test/Gt/2.tif")]),
    "srrs": ("test", [("test2000/Snow/a.jpg", "test2000/Gt/a.jpg")]),
    "snow100k": (
        "test-l",
        [("Snow100K-L/synthetic/beautiful_1.jpg", "Snow100K-L/gt/beautiful_1.jpg")],
    ),
}
# Files of the real distributions that the loaders must not take as pairs.
EXTRA_FILES = {
    "gopro": [
        "test/GOPR0384_11_00/blur_gamma/000001.png",
        "test/GOPR0384_11_00/blur_gamma/000002.png",
        "test/GOPR0410_11_00/blur_gamma/000047.png",
    ],
    "csd": ["Test/Mask/1.tif", "Test/Mask/2.tif"],
    "snow100k": ["Snow100K-L/mask/beautiful_1.jpg"],
}


def random_image(rng: np.random.Generator, size=SIZE, channels: int = 3) -> np.ndarray:
    shape = (*size, channels) if channels > 1 else size
    return rng.integers(0, 256, shape, dtype=np.uint8)


def write_uint8(path: Path, pixels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    quality = {"quality": 95} if path.suffix == ".jpg" else {}
    Image.fromarray(pixels).save(path, **quality)


def make_layout(name: str, root: Path, *, seed: int = 0) -> list[tuple[str, str]]:
    """Write the miniature `name` layout under `root`; returns its (input, target) pairs."""
    rng = np.random.default_rng(seed)
    split, pairs = LAYOUT_FILES[name]
    for input_rel, target_rel in pairs:
        if name == "dpdd":  # 16-bit RGB PNG, as distributed
            for rel in (input_rel, target_rel):
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                pixels = rng.integers(0, 65536, (*SIZE, 3), dtype=np.uint16)
                (root / rel).write_bytes(encode_png16(pixels))
            continue
        write_uint8(root / input_rel, random_image(rng))
        if not (root / target_rel).exists():
            size = (SIZE[0] + 20, SIZE[1] + 20) if name == "sots-indoor" else SIZE
            write_uint8(root / target_rel, random_image(rng, size))
    for rel in EXTRA_FILES.get(name, []):
        write_uint8(root / rel, random_image(rng))
    if name == "realblur-j":
        lines = [f"{target} {source}" for source, target in pairs]
        (root / "RealBlur_J_test_list.txt").write_text("\n".join(lines) + "\n")
    return pairs
