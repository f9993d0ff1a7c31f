"""`build_benchmark`: write one task of the offline synthetic benchmark to disk.

Layout (what the synth-* datasets read): `OUT/{train,val,test}/{input,target}/NAME.png` and
`OUT/manifest.json` with every sample's photograph, crop and degradation parameters. Each sample
draws from its own generator seeded by (seed, task, split, index), so a fixed seed gives
byte-identical files whatever the order or number of samples built before it.

The validation split holds further crops and degradation draws of the *training* photographs
(their own generator streams, so no validation pair repeats a training one): validating during
training never looks at a test scene.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
import PIL
import scipy
import skimage
from skimage.transform import resize

from irnext import __version__
from irnext.data.images import read_image, write_image
from irnext.data.layouts import SYNTH_TASKS
from irnext.data.synth.common import psnr_db, synthetic_depth
from irnext.data.synth.defocus import degrade_defocus
from irnext.data.synth.haze import degrade_haze
from irnext.data.synth.motion_blur import degrade_motion_blur
from irnext.data.synth.photos import Photo, load_photo, photo_path, photos_for
from irnext.data.synth.rain import degrade_rain
from irnext.data.synth.snow import degrade_snow
from irnext.errors import InputError
from irnext.io import atomic_write_json
from irnext.names import check_name

DEGRADATIONS = {
    "haze": degrade_haze,
    "motion-blur": degrade_motion_blur,
    "defocus": degrade_defocus,
    "rain": degrade_rain,
    "snow": degrade_snow,
}
TASK_NAMES = tuple(name for name, _, _ in SYNTH_TASKS)
# Index of each split in the sample generator's seed; train and test keep their original
# streams (0, 1), so adding the validation split changed no earlier pair.
SPLIT_STREAMS = {"train": 0, "test": 1, "val": 2}


@functools.cache
def _photo(photo: Photo) -> tuple[np.ndarray, np.ndarray | None]:
    return load_photo(photo)


def sample_crop(
    photo: Photo, rng: np.random.Generator, *, size_px: int
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """A random rescaled square crop of a photograph and of its depth (measured or synthetic)."""
    image, depth = _photo(photo)
    shortest = min(image.shape[:2])
    low = max(size_px / shortest, 0.5)
    scale = float(rng.uniform(low, max(low, 1.0)))
    height = max(size_px, round(image.shape[0] * scale))
    width = max(size_px, round(image.shape[1] * scale))
    top = int(rng.integers(0, height - size_px + 1))
    left = int(rng.integers(0, width - size_px + 1))
    window = (slice(top, top + size_px), slice(left, left + size_px))
    scaled = resize(image, (height, width), order=1, anti_aliasing=True, preserve_range=True)
    crop = np.clip(scaled[window], 0.0, 1.0).astype(np.float32)
    if depth is not None:
        depth_crop = resize(depth, (height, width), order=1, anti_aliasing=True)[window]
        depth_source = "disparity"
    else:
        depth_crop = synthetic_depth((size_px, size_px), rng)
        depth_source = "synthetic"
    crop_info = {
        "scale": round(scale, 4),
        "top": top,
        "left": left,
        "size_px": size_px,
        "depth_source": depth_source,
    }
    return crop, depth_crop.astype(np.float32), crop_info


def build_sample(
    task: str, photo: Photo, *, seed: int, split: str, index: int, size_px: int
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    task_id = TASK_NAMES.index(task)
    rng = np.random.default_rng([seed, task_id, SPLIT_STREAMS[split], index])
    clean, depth, crop_info = sample_crop(photo, rng, size_px=size_px)
    degraded, params = DEGRADATIONS[task](clean, depth, rng)
    return clean, degraded, {"crop": crop_info, "degradation": params}


def build_benchmark(
    *,
    task: str,
    out: str | Path,
    seed: int = 0,
    train_count: int = 32,
    test_count: int = 24,
    size_px: int = 256,
    val_count: int = 0,
) -> dict[str, Any]:
    """Write train, validation and test pairs for `task` under `out`; returns the manifest."""
    if task not in DEGRADATIONS:
        raise InputError(f"unknown synthetic task {task!r}; expected one of {list(TASK_NAMES)}")
    if size_px < 32 or train_count < 0 or test_count < 1 or val_count < 0:
        raise InputError(
            f"size_px={size_px}, train_count={train_count}, test_count={test_count}, "
            f"val_count={val_count}: expected size_px >= 32, train_count >= 0, test_count >= 1, "
            "val_count >= 0"
        )
    out = Path(out)
    _clear_previous_build(out)
    samples = []
    for split, count in (("train", train_count), ("val", val_count), ("test", test_count)):
        for index in range(count):
            samples.append(
                _write_sample(task, out, seed=seed, split=split, index=index, size_px=size_px)
            )
    manifest = _manifest(task, seed, train_count, test_count, size_px, samples)
    if val_count:  # only then: a build without validation pairs keeps its manifest's bytes
        manifest["val_count"] = val_count
    atomic_write_json(out / "manifest.json", manifest, indent=1)
    return manifest


def _write_sample(
    task: str, out: Path, *, seed: int, split: str, index: int, size_px: int
) -> dict[str, Any]:
    """Build and write one pair; its manifest record (PSNR measured on the stored PNGs)."""
    photos = photos_for("train" if split == "val" else split)
    # Test photographs in turn (so 24 pairs are 12 crops and degradation draws of each of the
    # two held-out scenes), training ones drawn at random; the two sets never share a scene.
    # Validation pairs: training photographs, drawn with their own generator.
    if split == "test":
        photo = photos[index % len(photos)]
    elif split == "train":
        photo = photos[int(np.random.default_rng([seed, index]).integers(len(photos)))]
    else:  # val: the training photographs in turn, every one of them validated
        photo = photos[index % len(photos)]
    clean, degraded, record = build_sample(
        task, photo, seed=seed, split=split, index=index, size_px=size_px
    )
    name = f"{index:04d}_{photo.name}"
    paths = {side: out / split / side / f"{name}.png" for side in ("input", "target")}
    write_image(paths["input"], degraded)
    write_image(paths["target"], clean)
    stored_psnr = psnr_db(read_image(paths["target"]), read_image(paths["input"]))
    return {
        "split": split,
        "name": name,
        "photo": photo.name,
        **record,
        "psnr_db": round(float(stored_psnr), 3),
    }


def _clear_previous_build(out: Path) -> None:
    """Remove an earlier build's pairs so no stale pair survives a smaller rebuild.

    Only a folder this function recognises as an earlier build is cleared: its manifest.json
    is in the format `_manifest` writes, and its train/ and test/ folders hold exactly the
    files that manifest lists. Only those files are removed; anything else is refused, naming
    the folder and the first unknown files, rather than deleted or mixed with new pairs.
    """
    if not out.exists() or not any(out.iterdir()):
        return
    listed = _previous_files(out)
    present = {p for split in SPLIT_STREAMS for p in (out / split).rglob("*") if p.is_file()}
    unknown = sorted(present - listed)
    if unknown:
        raise InputError(
            f"{out}: holds files an earlier `irnext data synth` build did not write "
            f"({', '.join(str(p) for p in unknown[:5])}{' ...' if len(unknown) > 5 else ''}); "
            "expected a new or empty folder, or an unchanged earlier build; nothing was removed"
        )
    for path in sorted(present):
        path.unlink()
    for folder in [out / s / side for s in SPLIT_STREAMS for side in ("input", "target")]:
        for empty in (folder, folder.parent):
            if empty.is_dir() and not any(empty.iterdir()):
                empty.rmdir()


def _previous_files(out: Path) -> set[Path]:
    """The image files the manifest of an earlier build in `out` lists; `InputError` when
    `out` holds no manifest of this builder's format."""
    refusal = (
        f"{out}: folder is not empty and holds no manifest.json of an earlier synthetic build "
        "(as `irnext data synth` writes it); expected a new or empty folder; nothing was removed"
    )
    try:
        manifest = json.loads((out / "manifest.json").read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        raise InputError(refusal) from None
    samples = manifest.get("samples") if isinstance(manifest, dict) else None
    if (
        not isinstance(samples, list)
        or manifest.get("dataset") != f"synth-{manifest.get('task')}"
        or manifest.get("task") not in DEGRADATIONS
        or not isinstance(manifest.get("generator"), dict)
        or not all(isinstance(s, dict) and s.get("split") in SPLIT_STREAMS for s in samples)
    ):
        raise InputError(refusal)
    source = out / "manifest.json"
    return {
        out
        / s["split"]
        / side
        / f"{check_name(s.get('name'), what='sample name', source=source)}.png"
        for s in samples
        for side in ("input", "target")
    }


def _manifest(task, seed, train_count, test_count, size_px, samples) -> dict[str, Any]:
    # No timestamp or host here: the manifest is part of the data and must be byte-identical
    # for a fixed seed; the versions that can change pixels are recorded instead.
    return {
        "dataset": f"synth-{task}",
        "task": task,
        "seed": seed,
        "train_count": train_count,
        "test_count": test_count,
        "size_px": size_px,
        "photos": {
            split: {p.name: f"{p.package}:{photo_path(p).name}" for p in photos_for(split)}
            for split in ("train", "test")
        },
        "generator": {
            "irnext": __version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "scikit-image": skimage.__version__,
            "pillow": PIL.__version__,
        },
        "samples": samples,
    }
