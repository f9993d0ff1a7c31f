"""The three ways pairs are laid out: paired folders, HIDE's shared GT folder, RealBlur lists."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from irnext.data.discover import (
    Pair,
    image_files,
    layout_error,
    natural_key,
    pair_folders,
    scene_folders,
    side_folders,
)
from irnext.data.layouts import Layout
from irnext.data.scenes import assign_scenes
from irnext.errors import InputError
from irnext.names import check_name


def find_pairs(layout: Layout, root: Path, split: str, **options) -> list[Pair]:
    """Every pair of `split` under `root`, sorted by name; raises `InputError` on any gap."""
    if not root.is_dir():
        raise layout_error(layout, root, f"{root}: dataset root not found (not a folder)")
    unknown = set(options) - set(layout.options)
    if unknown:
        raise InputError(
            f"dataset '{layout.info.name}': unknown option(s) {sorted(unknown)}; "
            f"expected one of {list(layout.options) or 'none'}"
        )
    finder = {"folders": _folders, "hide": _hide, "realblur": _realblur}[layout.finder]
    pairs = finder(layout, root, split)
    if not pairs:
        raise layout_error(layout, root, f"{root}: split '{split}' holds no image pairs")
    pairs.sort(key=lambda pair: natural_key(pair.name))
    if options.get("group_lists"):
        pairs = assign_groups(layout, root, pairs, options["group_lists"])
    return assign_scenes(layout, root, split, pairs)


def _folders(layout: Layout, root: Path, split: str) -> list[Pair]:
    tried = [(root / c) if c != "." else root for c in layout.bases[split]]
    for base in tried:  # flat input/target folders first, at any candidate base
        sides = side_folders(layout, base)
        if sides is not None:
            return pair_folders(layout, root, *sides)
    for base in tried:  # then GoPro-style scene folders
        scenes, unpaired = scene_folders(layout, base)
        if scenes and unpaired:  # a partly extracted download would score a smaller test set
            sides = " or ".join(f"{i}/ + {t}/" for i, t in layout.sides)
            raise layout_error(
                layout, root, f"scene folder(s) of {base} without a {sides} pair:", unpaired
            )
        if scenes:
            pairs = []
            for scene, inputs, targets in scenes:
                pairs += pair_folders(layout, root, inputs, targets, prefix=f"{scene}/")
            return pairs
    sides = " or ".join(f"{i}/ + {t}/" for i, t in layout.sides)
    raise layout_error(
        layout, root, f"no folder pair ({sides}) for split '{split}' in any of:", tried
    )


def _hide(layout: Layout, root: Path, split: str) -> list[Pair]:
    """HIDE_dataset: blurred images in test/<subset>/ (or train/), GT by file name in GT/."""
    gt, images = root / "GT", root / split
    if not (gt.is_dir() and images.is_dir()) or side_folders(layout, images) is not None:
        return _folders(layout, root, split)
    by_name = {path.name: path for path in image_files(gt)}
    pairs, missing = [], []
    for path in image_files(images):
        target = by_name.get(path.name)
        if target is None:
            missing.append(path)
        else:
            name = path.relative_to(images).with_suffix("").as_posix()
            pairs.append(Pair(name, path, target))
    if missing:
        raise layout_error(
            layout, root, f"{len(missing)} blurred image(s) have no GT in {gt}:", missing
        )
    return pairs


def _realblur(layout: Layout, root: Path, split: str) -> list[Pair]:
    """RealBlur: the official 'GT_PATH BLUR_PATH' list, or a flattened input/target copy."""
    variant = layout.info.name[-1].upper()
    listing = root / f"RealBlur_{variant}_{split}_list.txt"
    if not listing.is_file():
        if any(root.glob(f"RealBlur-{variant}_*")) or any(root.glob("scene[0-9]*")):
            raise layout_error(
                layout,
                root,
                f"{listing}: list file missing; the scene folders alone do not "
                "say which scenes are train and which are test",
            )
        return _folders(layout, root, split)
    pairs, missing = [], []
    for number, line in enumerate(listing.read_text().splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 2:
            raise InputError(f"{listing}:{number}: expected 'GT_PATH BLUR_PATH', got {line!r}")
        where = f"{listing}:{number}"
        target, blurred = (root / _relative(field, where) for field in fields[:2])
        missing += [p for p in (blurred, target) if not p.is_file()]
        # the pair's name names its restored image when evaluate saves images
        scene = check_name(blurred.parent.parent.name, what="scene folder", source=where)
        stem = check_name(blurred.stem, what="file name", source=where)
        pairs.append(Pair(f"{scene}/{stem}", blurred, target))
    if missing:
        raise layout_error(
            layout, root, f"{len(missing)} file(s) named in {listing} do not exist:", missing
        )
    return pairs


def _relative(field: str, where: str) -> Path:
    """A path of a list file, which must stay inside the dataset root."""
    path = Path(field)
    if path.is_absolute() or ".." in path.parts:
        raise InputError(f"{where}: {field!r}: expected a path relative to the dataset root")
    return path


def _read_group_list(path: Path, names: list[str]) -> set[str]:
    """Names from a text file of names or of 1-based indices, or a .npy of 1-based indices.

    Restormer indexes its DPDD results with `psnr[indoor_labels - 1]` over the natural-sorted
    file list, so the distributed indices are 1-based.
    """
    if not path.is_file():
        raise InputError(f"{path}: group list not found (expected .txt of names or .npy)")
    if path.suffix == ".npy":
        entries = [str(int(i)) for i in np.load(path).ravel()]
    else:
        entries = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if all(entry.isdigit() for entry in entries):
        indices = [int(entry) for entry in entries]
        bad = [i for i in indices if not 1 <= i <= len(names)]
        if bad:
            raise InputError(
                f"{path}: indices {bad[:5]} outside 1..{len(names)} (1-based, natural-sorted)"
            )
        return {names[i - 1] for i in indices}
    known = set(names)
    stems = {Path(entry).stem for entry in entries}
    unknown = sorted(stems - known)
    if unknown:
        raise InputError(f"{path}: names not in the split: {unknown[:5]}")
    return stems


def assign_groups(layout: Layout, root: Path, pairs: list[Pair], group_lists) -> list[Pair]:
    names = [pair.name for pair in pairs]
    wanted = set(layout.info.groups)
    if set(group_lists) != wanted:
        raise InputError(
            f"group_lists has groups {sorted(group_lists)}; dataset '{layout.info.name}' "
            f"expects exactly {sorted(wanted)}"
        )
    membership: dict[str, str] = {}
    for group, path in group_lists.items():
        for name in _read_group_list(Path(path), names):
            if name in membership:
                raise InputError(f"{path}: {name!r} is in both '{membership[name]}' and '{group}'")
            membership[name] = group
    ungrouped = [name for name in names if name not in membership]
    if ungrouped:
        raise InputError(
            f"{len(ungrouped)} pair(s) of {root} are in no group list: {ungrouped[:5]}"
        )
    return [dataclasses.replace(p, group=membership[p.name]) for p in pairs]
