"""Reading a dataset for evaluation: decoding in worker processes, equal-size chunks, devices.

Images are decoded by DataLoader workers while the main process runs the network; on CUDA the
pin-memory thread pins every sample so its copy to the GPU is asynchronous.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from irnext.errors import InputError

PREFETCH_FACTOR = 4  # samples queued per worker: enough for a chunk ahead at batch sizes <= 8


def default_workers(device: torch.device | str = "cuda") -> int:
    """Decoding processes for evaluating on `device`. CUDA: one fewer than the CPUs (the main
    process drives the GPU), at most 4 (one PNG per worker keeps up with a GPU at these sizes).
    CPU: none, since the network and the metrics already use every core and decoding is a few
    per cent of the work; a worker only competes for the cores and costs a fork per run."""
    if torch.device(device).type != "cuda":
        return 0
    return max(0, min(4, (os.cpu_count() or 1) - 1))


def resolve_device(device: str | torch.device | None) -> torch.device:
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, ValueError) as error:
        raise InputError(f"device '{device}': expected auto, cpu, cuda or cuda:N") from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device '{device}' requested but CUDA is not available; use cpu")
    return device


def sample_loader(dataset: Dataset, *, device: torch.device, num_workers: int) -> DataLoader:
    """One sample at a time, in order, decoded by `num_workers` processes (0: in this one)."""
    return DataLoader(
        dataset,
        batch_size=None,
        num_workers=num_workers,
        pin_memory=device.type == "cuda",
        prefetch_factor=PREFETCH_FACTOR if num_workers else None,
    )


def chunks(samples: Iterable[dict[str, Any]], batch_size: int) -> Iterator[list[dict[str, Any]]]:
    """Consecutive samples of equal size, at most `batch_size` at a time."""
    pending: list[dict[str, Any]] = []
    for sample in samples:
        if pending and (
            len(pending) == batch_size or pending[0]["input"].shape != sample["input"].shape
        ):
            yield pending
            pending = []
        pending.append(sample)
    if pending:
        yield pending


def stack_on(chunk: list[dict[str, Any]], key: str, device: torch.device) -> torch.Tensor:
    """The chunk's `key` images as one N x 3 x H x W batch on `device`: each (pinned) sample is
    copied asynchronously, then stacked there, so no pageable host copy of the batch is made."""
    return torch.stack([sample[key].to(device, non_blocking=True) for sample in chunk])
