"""`evaluate`: restore every image of a dataset split and score it under a named protocol.

Inference is full-image (padded to what the model needs, or tiled with overlap for images that
do not fit), one image or a batch of equal-size images at a time; metrics are computed in
batches on the same device. The "identity" model scores the degraded input itself, the floor
any restoration must beat.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from irnext.data import PairedImageDataset, write_image
from irnext.data.sizes import completeness
from irnext.env import environment_stamp
from irnext.errors import InputError
from irnext.evaluation.records import summarise
from irnext.inference import restore
from irnext.metrics import get_protocol, score_batch


class IdentityModel(nn.Module):
    """Returns its input: scoring it scores the degraded images as they are."""

    irnext_spec = {"name": "identity", "architecture": "identity", "kwargs": {}}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _chunks(loader, batch_size: int):
    """Consecutive samples of equal size, at most `batch_size` at a time."""
    pending: list[dict[str, Any]] = []
    for sample in loader:
        if pending and (
            len(pending) == batch_size or pending[0]["input"].shape != sample["input"].shape
        ):
            yield pending
            pending = []
        pending.append(sample)
    if pending:
        yield pending


def evaluate(
    model: nn.Module,
    dataset: PairedImageDataset,
    *,
    protocol: str | None = None,
    device: str | torch.device | None = None,
    batch_size: int = 1,
    tile: int | None = None,
    tile_overlap: int = 32,
    num_workers: int = 0,
    save_dir: str | Path | None = None,
    model_name: str | None = None,
    weights_sha256: str | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Score `model` on every pair of `dataset`; returns (per-image rows, summary).

    `protocol` defaults to the dataset's own. Rows hold name, group, height, width, every metric
    of the protocol and the inference seconds of the image (a batch's time split evenly).
    With `save_dir`, restored images are written there as PNG (16-bit for `dpdd_float`).
    """
    if batch_size < 1 or num_workers < 0:
        raise InputError(f"batch_size {batch_size} must be >= 1 and num_workers {num_workers} >= 0")
    protocol = protocol or dataset.info.protocol
    chosen = get_protocol(protocol)  # an unknown name is an InputError listing the known ones
    device = resolve_device(device)
    model = model.to(device).eval()
    loader = DataLoader(dataset, batch_size=None, num_workers=num_workers)
    rows: list[dict[str, Any]] = []
    timing = {"inference_s": 0.0, "metrics_s": 0.0}
    started = time.perf_counter()
    for chunk in _chunks(loader, batch_size):
        restored, seconds = _restore_chunk(model, chunk, device, tile, tile_overlap)
        target = torch.stack([s["target"] for s in chunk]).to(device, non_blocking=True)
        tic = time.perf_counter()
        try:
            scores = score_batch(restored, target, protocol=protocol)
        except ValueError as error:  # e.g. RealBlur's ECC alignment failing on a pair
            names = [s["name"] for s in chunk]
            raise InputError(f"{dataset.root}: scoring {names} failed: {error}") from error
        timing["metrics_s"] += time.perf_counter() - tic
        timing["inference_s"] += seconds
        for sample, values in zip(chunk, scores, strict=True):
            height, width = sample["input"].shape[-2:]
            rows.append(
                {
                    "name": sample["name"],
                    "group": sample["group"],
                    "height": height,
                    "width": width,
                    **values,
                    "seconds": seconds / len(chunk),
                }
            )
        if save_dir is not None:
            _save(restored, chunk, Path(save_dir), bit_depth=16 if protocol == "dpdd_float" else 8)
    if not rows:
        raise InputError(f"dataset '{dataset.info.name}' at {dataset.root} has no pairs")
    summary = summarise(rows, metrics=chosen.metrics)
    summary.update(
        model=model_name or getattr(model, "irnext_spec", {}).get("name"),
        weights_sha256=weights_sha256,
        dataset=dataset.info.name,
        task=dataset.info.task,
        split=dataset.split,
        **completeness(dataset.info.name, dataset.split, len(rows)),
        dataset_caveat=dataset.info.caveat,
        protocol=protocol,
        protocol_source=chosen.source,
        batch_size=batch_size,
        tile=tile,
        tile_overlap=tile_overlap if tile else None,
        **_throughput(len(rows), time.perf_counter() - started, timing),
        environment=environment_stamp(device),
    )
    return rows, summary


def _throughput(count: int, total_s: float, timing: dict[str, float]) -> dict[str, float]:
    return {
        "seconds_total": total_s,
        "inference_seconds_total": timing["inference_s"],
        "metric_seconds_total": timing["metrics_s"],
        "images_per_second": count / total_s,
        "metric_images_per_second": count / max(timing["metrics_s"], 1e-12),
    }


def _restore_chunk(model, chunk, device, tile, tile_overlap) -> tuple[torch.Tensor, float]:
    """Restored images of a chunk of equal-size samples, and the seconds inference took
    (synchronised on CUDA, so the clock stops when the GPU work is done)."""
    degraded = torch.stack([s["input"] for s in chunk]).to(device, non_blocking=True)
    _synchronise(device)
    tic = time.perf_counter()
    restored = restore(model, degraded, tile=tile, tile_overlap=tile_overlap).float()
    _synchronise(device)
    return restored, time.perf_counter() - tic


def _save(restored: torch.Tensor, chunk, save_dir: Path, *, bit_depth: int) -> None:
    for sample, image in zip(chunk, restored.cpu(), strict=True):
        write_image(save_dir / f"{sample['name']}.png", image, bit_depth=bit_depth)
