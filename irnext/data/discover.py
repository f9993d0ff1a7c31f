"""Finding the pairs of a dataset split on disk, eagerly, with errors that show the layout.

Nothing is skipped silently: an input without its target, a target no input refers to (where
targets are one-to-one), a stray non-image file or an empty split each raise `InputError` naming
the paths and drawing the expected tree. Hidden files (names starting with '.') are ignored:
they are file-system bookkeeping, not data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from irnext.data.images import is_image_file
from irnext.data.layouts import Layout
from irnext.errors import InputError
from irnext.io import describe_os_error

_LISTED = 10  # how many offending paths an error message lists


@dataclass(frozen=True)
class Pair:
    name: str  # unique in the split: relative path without extension
    input_path: Path
    target_path: Path
    group: str | None = None
    scene: str | None = None  # what the image shows, the unit of a comparison (data.scenes)


def natural_key(text: str) -> list:
    """Sort key that orders '2' before '10' (Restormer's natsorted DPDD order)."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def layout_error(layout: Layout, root: Path, message: str, paths=()) -> InputError:
    listed = [str(p) for p in list(paths)[:_LISTED]]
    more = len(list(paths)) - len(listed)
    lines = [f"{message}"] + [f"  {p}" for p in listed]
    if more > 0:
        lines.append(f"  ... and {more} more")
    lines.append(
        f"expected layout for dataset '{layout.info.name}' (ROOT = {root}):\n"
        f"{layout.info.layout_help}"
    )
    return InputError("\n".join(lines))


def _child(folder: Path, name: str) -> Path | None:
    """The sub-folder of `folder` called `name`, compared case-insensitively."""
    exact = folder / name
    if exact.is_dir():
        return exact
    if not folder.is_dir():
        return None
    for entry in sorted(folder.iterdir()):
        if entry.is_dir() and entry.name.lower() == name.lower():
            return entry
    return None


def side_folders(layout: Layout, base: Path) -> tuple[Path, Path] | None:
    for input_name, target_name in layout.sides:
        inputs, targets = _child(base, input_name), _child(base, target_name)
        if inputs is not None and targets is not None:
            return inputs, targets
    return None


def scene_folders(layout: Layout, base: Path) -> tuple[list[tuple[str, Path, Path]], list[Path]]:
    """GoPro-style `base/<scene>/<side>/` trees: (scene, input folder, target folder) for each
    scene holding a side pair, and the sub-folders of `base` that hold none."""
    scenes: list[tuple[str, Path, Path]] = []
    unpaired: list[Path] = []
    if not base.is_dir():
        return scenes, unpaired
    for scene in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")):
        sides = side_folders(layout, scene)
        if sides is None:
            unpaired.append(scene)
        else:
            scenes.append((scene.name, *sides))
    return scenes, unpaired


def image_files(folder: Path) -> list[Path]:
    """Every image under `folder` (recursively); any other visible file is an error."""
    files, strays = [], []
    for path in sorted(_visible_files(folder, frozenset())):
        (files if is_image_file(path) else strays).append(path)
    if strays:
        raise InputError(
            f"{folder}: non-image files in an image folder (move them out): "
            + ", ".join(str(p) for p in strays[:_LISTED])
        )
    return files


def _visible_files(folder: Path, ancestors: frozenset) -> list[Path]:
    """The files under `folder`, hidden ones left out. Symbolic links to folders are followed
    (datasets are often assembled from links); one that leads back to a folder above it is an
    error naming it, not an endless walk."""
    try:
        where, entries = folder.stat(), list(folder.iterdir())
    except OSError as error:  # an unreadable folder is named, not skipped
        raise InputError(f"{folder}: cannot list the folder: {describe_os_error(error)}") from None
    here = (where.st_dev, where.st_ino)
    if here in ancestors:
        raise InputError(
            f"{folder}: a symbolic link loop (it leads back to {folder.resolve()}, a folder "
            "above it); expected links to folders outside the tree they are in"
        )
    found = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            found += _visible_files(entry, ancestors | {here})
        else:
            found.append(entry)
    return found


def target_stems(rule: str, stem: str) -> list[str]:
    """Candidate target stems for an input stem, in the order they are tried."""
    if rule == "prefix":  # RESIDE / Haze4K: 1400_1 -> 1400, 0001_0.8_0.2 -> 0001
        return [stem.split("_")[0]]
    if rule == "blur_gt":  # RealBlur scenes: blur_1 -> gt_1
        return [stem, re.sub(r"^blur", "gt", stem)]
    if rule == "rain_norain":  # original Rain100H/L: rain-001 -> norain-001
        return [stem, re.sub(r"^rain", "norain", stem)]
    return [stem]


def _index(files: list[Path], folder: Path, layout: Layout, root: Path) -> dict[str, Path]:
    index: dict[str, Path] = {}
    for path in files:
        key = path.relative_to(folder).with_suffix("").as_posix()
        if key in index:
            raise layout_error(
                layout, root, f"two target files share the name {key!r}", [index[key], path]
            )
        index[key] = path
    return index


def _find_target(relative: Path, rule: str, target_index: dict[str, Path]) -> str | None:
    """The target key of an input (its path relative to the input folder, no suffix): the
    same sub-folder first, then the top level."""
    folder = relative.parent.as_posix()
    for stem in target_stems(rule, relative.name):
        for key in ([f"{folder}/{stem}"] if folder != "." else []) + [stem]:
            if key in target_index:
                return key
    return None


def pair_folders(
    layout: Layout, root: Path, inputs: Path, targets: Path, *, prefix: str = "", rule=None
) -> list[Pair]:
    """Pairs from an input folder and a target folder (targets by the layout's naming rule).

    Pairing must be unambiguous: two inputs with one name (0001.png and 0001.jpg) and, where
    targets are one-to-one, two inputs for one target (a top-level 0001.png and a stray
    sub/0001.png) are errors naming every file involved, not a silent choice.
    """
    rule = rule or layout.target_rule
    target_index = _index(image_files(targets), targets, layout, root)
    pairs, missing, clashes = [], [], []
    by_name: dict[str, Path] = {}
    by_target: dict[str, Path] = {}
    for path in image_files(inputs):
        relative = path.relative_to(inputs).with_suffix("")
        found = _find_target(relative, rule, target_index)
        if relative.as_posix() in by_name:
            clashes.append(f"{by_name[relative.as_posix()]} and {path} share one name")
        elif found is None:
            missing.append(path)
        elif found in by_target and not layout.many_to_one:
            clashes.append(f"{by_target[found]} and {path} both pair with {target_index[found]}")
        else:
            by_name[relative.as_posix()] = by_target[found] = path
            pairs.append(Pair(f"{prefix}{relative.as_posix()}", path, target_index[found]))
    if clashes:
        raise layout_error(
            layout, root, f"{len(clashes)} ambiguous input image(s) in {inputs}:", clashes
        )
    if missing:
        raise layout_error(
            layout, root, f"{len(missing)} input image(s) have no target in {targets}:", missing
        )
    orphans = [target_index[k] for k in sorted(set(target_index) - set(by_target))]
    if orphans and not layout.many_to_one:
        raise layout_error(
            layout, root, f"{len(orphans)} target image(s) have no input in {inputs}:", orphans
        )
    return pairs
