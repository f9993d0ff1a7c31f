"""Which scene each test image shows: the unit a comparison's interval resamples.

Crops of one photograph, frames of one video and hazy renders of one clear image are not
independent samples; a bootstrap over them as if they were gives intervals that are too narrow
(`irnext.report.stats`). The scene of a pair is, by layout:
- synth-*: the source photograph recorded in the build's manifest.json (`irnext data synth`);
- datasets of several inputs per target (RESIDE, SOTS, Haze4K): the shared clear image;
- GoPro and RealBlur: the sequence folder (`GOPR0384_11_00/...`, `scene001/...`);
- HIDE: the video a frame was cut from (`12fromGOPR1054.MP4` -> `GOPR1054.MP4`);
- every other dataset: the image itself.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

from irnext.data.discover import Pair
from irnext.data.layouts import Layout
from irnext.errors import InputError

_HIDE_VIDEO = re.compile(r"^\d+from(?P<video>.+)$")


def assign_scenes(layout: Layout, root: Path, split: str, pairs: list[Pair]) -> list[Pair]:
    """`pairs` with their `scene` filled in (rules in the module docstring)."""
    photos = _synth_photos(root, split) if layout.info.name.startswith("synth-") else None
    return [dataclasses.replace(p, scene=_scene(layout, p, photos, root)) for p in pairs]


def _scene(layout: Layout, pair: Pair, photos: dict[str, str] | None, root: Path) -> str:
    if photos is not None:
        if pair.name not in photos:
            raise InputError(
                f"{root / 'manifest.json'}: no sample named {pair.name!r}; the manifest must "
                "list every pair of the build (rebuild with `irnext data synth`)"
            )
        return photos[pair.name]
    if layout.many_to_one:
        return pair.target_path.stem
    if layout.finder == "hide":
        match = _HIDE_VIDEO.match(Path(pair.name).name)
        return match["video"] if match else pair.name
    folder, _, _ = pair.name.rpartition("/")
    return folder or pair.name


def _synth_photos(root: Path, split: str) -> dict[str, str] | None:
    """{pair name: photograph} of the build's `split`; None for a folder without a manifest
    (pairs copied by hand: nothing records their photographs, so each image is its own scene)."""
    path = root / "manifest.json"
    if not path.is_file():
        return None
    try:
        samples = json.loads(path.read_text())["samples"]
        return {s["name"]: s["photo"] for s in samples if s["split"] == split}
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise InputError(
            f"{path}: not a manifest of `irnext data synth` (samples with name, split and "
            f"photo): {error}"
        ) from error
