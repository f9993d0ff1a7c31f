"""The training pipeline: paired random patches, flips and rotations, deterministic by seed.

Randomness never comes from a global generator. The sampler draws, for each step, a dataset
index and a 64-bit sample seed from its own generator (seeded by `seed` and the epoch); the
dataset turns that seed into the crop and flips. So the batches depend on `seed` alone, not on
the number of workers or which worker ran which sample.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from irnext.data.paired import PairedImageDataset, to_tensor, to_unit_float
from irnext.errors import InputError


def random_patch(
    degraded: np.ndarray,
    clean: np.ndarray,
    *,
    patch_size: int,
    flip: bool = True,
    rotate: bool = False,
    generator: torch.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """The same random `patch_size` square, flip and 90-degree rotation of both images."""
    height, width = degraded.shape[:2]
    if height < patch_size or width < patch_size:
        raise InputError(
            f"image of {width}x{height} is smaller than patch_size={patch_size}; expected "
            "images at least as large as the training patch"
        )
    top = int(torch.randint(0, height - patch_size + 1, (1,), generator=generator))
    left = int(torch.randint(0, width - patch_size + 1, (1,), generator=generator))
    window = (slice(top, top + patch_size), slice(left, left + patch_size))
    degraded, clean = degraded[window], clean[window]
    if flip and bool(torch.randint(0, 2, (1,), generator=generator)):
        degraded, clean = degraded[:, ::-1], clean[:, ::-1]
    if rotate:
        turns = int(torch.randint(0, 4, (1,), generator=generator))
        degraded, clean = np.rot90(degraded, turns), np.rot90(clean, turns)
    return np.ascontiguousarray(degraded), np.ascontiguousarray(clean)


class PatchDataset(Dataset):
    """Training view of a `PairedImageDataset`: item `(index, sample_seed)` -> a random patch."""

    def __init__(
        self,
        *,
        dataset: PairedImageDataset,
        patch_size: int = 256,
        flip: bool = True,
        rotate: bool = False,
    ) -> None:
        self.dataset = dataset
        self.patch_size = patch_size
        self.flip = flip
        self.rotate = rotate
        self._cached: tuple[int, tuple[np.ndarray, np.ndarray]] | None = None

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, item: tuple[int, int]) -> dict[str, Any]:
        index, sample_seed = item
        # One decoded pair is kept per worker: with `patches_per_image` > 1 the sampler repeats
        # an index within a batch, and a batch runs in one worker, so each frame decodes once.
        if self._cached is None or self._cached[0] != index:
            # Crop the stored integers, then convert: a 1280x720 frame is 11 MB as float32.
            self._cached = (index, self.dataset.read_pair(index, native=True))
        degraded, clean = self._cached[1]
        generator = torch.Generator().manual_seed(sample_seed)
        degraded, clean = random_patch(
            degraded,
            clean,
            patch_size=self.patch_size,
            flip=self.flip,
            rotate=self.rotate,
            generator=generator,
        )
        return {
            "name": self.dataset.pairs[index].name,
            "input": to_tensor(to_unit_float(degraded)),
            "target": to_tensor(to_unit_float(clean)),
        }


class SeededSampler(Sampler):
    """Yields `(index, sample_seed)`; epoch `e` is a fixed function of `(seed, e)`.

    With `repeats` > 1 each index is yielded that many times in a row (each with its own seed):
    several patches per decoded frame, the remedy when decoding large PNGs starves the GPU.

    Sharding (`world_size` > 1, one sampler per process): the epoch's order is cut into global
    batches of `world_size * block` positions and rank `r` takes the `r`-th run of `block`
    positions of each, so the union of the ranks' batch `k` is the single-process batch `k` at
    `world_size` times the batch size (incomplete global batches are dropped on every rank).
    `start` skips that many of this rank's positions in the next epoch only (a resumed run
    continuing mid-epoch); the skipped positions' draws are still made, so the rest is unchanged.
    """

    def __init__(
        self,
        *,
        length: int,
        seed: int,
        shuffle: bool = True,
        repeats: int = 1,
        rank: int = 0,
        world_size: int = 1,
        block: int = 1,
    ) -> None:
        if repeats < 1:
            raise InputError(f"patches_per_image={repeats}: expected an integer >= 1")
        if not 0 <= rank < world_size or block < 1:
            raise InputError(f"rank {rank} of world_size {world_size}, block {block}: invalid")
        self.length = length
        self.seed = seed
        self.shuffle = shuffle
        self.repeats = repeats
        self.rank = rank
        self.world_size = world_size
        self.block = block
        self.epoch = 0
        self.start = 0

    def __len__(self) -> int:
        total = self.length * self.repeats
        if self.world_size == 1:
            return total
        return total // (self.world_size * self.block) * self.block

    def __iter__(self) -> Iterator[tuple[int, int]]:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        self.epoch += 1
        start, self.start = self.start, 0
        order = torch.randperm(self.length, generator=generator) if self.shuffle else None
        seeds = torch.randint(0, 2**62, (self.length * self.repeats,), generator=generator)
        for position in self._positions()[start:]:
            frame = position // self.repeats
            index = int(order[frame]) if order is not None else frame
            yield index, int(seeds[position])

    def _positions(self) -> range | list[int]:
        if self.world_size == 1:
            return range(len(self))
        stride, offset = self.world_size * self.block, self.rank * self.block
        return [
            batch * stride + offset + j
            for batch in range(len(self) // self.block)
            for j in range(self.block)
        ]


def seed_worker(worker_id: int) -> None:
    """Seed numpy and `random` in a loader worker from torch's per-worker seed.

    Our own transforms take explicit seeds; this keeps any user transform that reaches for
    numpy's or Python's global generator reproducible too.
    """
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)  # noqa: NPY002 (the legacy global is what such transforms use)
    random.seed(seed)


def loader_settings(num_workers: int | str, device: torch.device, ranks_per_node: int = 1):
    """DataLoader worker count, pinning and prefetch for `device`; `num_workers` "auto" sizes
    the workers from the CPUs this process may use, shared by the ranks of one node.

    On CUDA the main process only launches kernels, so every core but one decodes; on CPU the
    model's own threads need the cores and decoding gets a quarter of them (none below 4)."""
    if num_workers == "auto":
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # not Linux
            cores = os.cpu_count() or 1
        cores = max(cores // max(ranks_per_node, 1), 1)
        num_workers = min(8, cores - 1) if device.type == "cuda" else min(4, cores // 4)
    if not isinstance(num_workers, int) or isinstance(num_workers, bool) or num_workers < 0:
        raise InputError(f"num_workers {num_workers!r}: expected an integer >= 0 or 'auto'")
    cuda = device.type == "cuda"
    return {
        "num_workers": num_workers,
        "pin_memory": cuda,
        "persistent_workers": num_workers > 0,
        "prefetch_factor": (4 if cuda else 2) if num_workers else None,
    }


def training_loader(
    dataset: PairedImageDataset,
    *,
    batch_size: int = 8,
    patch_size: int = 256,
    seed: int = 0,
    num_workers: int | str = 2,
    flip: bool = True,
    rotate: bool = False,
    patches_per_image: int = 1,
    drop_last: bool = True,
    device: str | torch.device | None = None,
    rank: int = 0,
    world_size: int = 1,
) -> DataLoader:
    """Shuffled batches of random paired patches; same `seed` -> same batches.

    `patches_per_image` > 1 cuts consecutive patches from each decoded pair (see
    `SeededSampler`); keep it a divisor of `batch_size` so a frame never spans two workers.
    `rank` / `world_size` give this process its shard (see `SeededSampler`), `batch_size` being
    the per-process batch. `device` (default: cuda if present) sizes the loader
    (`loader_settings`).
    """
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    patches = PatchDataset(dataset=dataset, patch_size=patch_size, flip=flip, rotate=rotate)
    sampler = SeededSampler(
        length=len(dataset),
        seed=seed,
        repeats=patches_per_image,
        rank=rank,
        world_size=world_size,
        block=batch_size,
    )
    ranks_per_node = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    return DataLoader(
        patches,
        batch_size=batch_size,
        sampler=sampler,
        worker_init_fn=seed_worker,
        generator=torch.Generator().manual_seed(seed),
        drop_last=drop_last,
        **loader_settings(num_workers, torch.device(device), ranks_per_node),
    )
