"""The paired-image dataset: every named layout behind one torch `Dataset`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from irnext.data.discover import Pair
from irnext.data.finders import find_pairs
from irnext.data.images import read_image_native
from irnext.data.layouts import DatasetInfo, layout
from irnext.errors import InputError


def to_unit_float(pixels: np.ndarray) -> np.ndarray:
    """uint8 / uint16 pixels scaled by their own bit depth to float32 in [0, 1]."""
    if pixels.dtype in (np.uint8, np.uint16):
        return pixels.astype(np.float32) / np.float32(np.iinfo(pixels.dtype).max)
    return pixels.astype(np.float32)


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """HxWx3 float32 array -> 3xHxW float32 tensor (no copy of values beyond the layout)."""
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))


class PairedImageDataset(Dataset):
    """Pairs of (degraded input, clean target) found eagerly under `root`.

    `ds[i]` is `{"name", "input", "target", "group", "scene"}` with float32 3xHxW tensors in [0, 1],
    after the dataset's quirks (SOTS-indoor GT border crop) and, if given, `transform(sample)`.
    """

    def __init__(
        self,
        *,
        name: str,
        root: str | Path,
        split: str | None = None,
        transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        **options: Any,
    ) -> None:
        self.layout = layout(name)
        self.info: DatasetInfo = self.layout.info
        self.split = split or self.info.default_split
        if self.split not in self.info.splits:
            raise InputError(
                f"dataset '{name}': unknown split {self.split!r}; expected one of "
                f"{list(self.info.splits)}"
            )
        self.root = Path(root)
        self.transform = transform
        self.pairs: list[Pair] = find_pairs(self.layout, self.root, self.split, **options)

    def __len__(self) -> int:
        return len(self.pairs)

    def read_pair(self, index: int, *, native: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The decoded (input, target) HxWx3 arrays of pair `index`, quirks applied, sizes
        checked: float32 in [0, 1], or with `native` the stored uint8/uint16 integers."""
        pair = self.pairs[index]
        degraded = read_image_native(pair.input_path)
        clean = read_image_native(pair.target_path)
        border = self.layout.gt_border_px
        if (
            border
            and clean.shape[0] == degraded.shape[0] + 2 * border
            and (clean.shape[1] == degraded.shape[1] + 2 * border)
        ):
            # SOTS-indoor GT keeps the NYU frame that the hazy renders drop (640x480 vs
            # 620x460); DehazeFormer and the IRNeXt test code compare the central region.
            clean = clean[border:-border, border:-border]
        if degraded.shape != clean.shape:
            raise InputError(
                f"{pair.input_path}: size {degraded.shape[1]}x{degraded.shape[0]} differs from "
                f"its target {pair.target_path} ({clean.shape[1]}x{clean.shape[0]}); a pair "
                "must have equal sizes"
            )
        if native:
            return degraded, clean
        return to_unit_float(degraded), to_unit_float(clean)

    def __getitem__(self, index: int) -> dict[str, Any]:
        degraded, clean = self.read_pair(index)
        pair = self.pairs[index]
        sample = {
            "name": pair.name,
            "input": to_tensor(degraded),
            "target": to_tensor(clean),
            "group": pair.group,
            "scene": pair.scene,
        }
        return self.transform(sample) if self.transform is not None else sample

    def group_indices(self) -> dict[str, list[int]]:
        """Indices of each group (DPDD indoor/outdoor); an error when groups were not given."""
        if not self.info.groups:
            raise InputError(f"dataset '{self.info.name}' has no groups")
        if any(pair.group is None for pair in self.pairs):
            raise InputError(
                f"dataset '{self.info.name}' at {self.root}: groups {list(self.info.groups)} "
                "requested but no group lists were given; pass group_lists={'indoor': FILE, "
                "'outdoor': FILE} (a .npy of 1-based indices such as Restormer's "
                "indoor_labels.npy, or a text file of names)"
            )
        groups: dict[str, list[int]] = {group: [] for group in self.info.groups}
        for index, pair in enumerate(self.pairs):
            groups[pair.group].append(index)
        return groups


def open_dataset(
    name: str,
    root: str | Path,
    *,
    split: str | None = None,
    transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    **options: Any,
) -> PairedImageDataset:
    """The named dataset's split under `root` (see `list_datasets()` for the names)."""
    return PairedImageDataset(name=name, root=root, split=split, transform=transform, **options)
