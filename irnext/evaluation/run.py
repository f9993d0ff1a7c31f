"""`evaluate`: restore every image of a dataset split and score it under a named protocol.

Inference is full-image (padded to what the model needs, or tiled with overlap for images that
do not fit), one image or a batch of equal-size images at a time; metrics are computed in
batches on the same device. The "identity" model scores the degraded input itself, the floor
any restoration must beat.

The device is kept busy: images are decoded by DataLoader workers, each chunk's scores come
back in one copy that is queued before the next chunk's forward pass is launched, and chunk k is
read only once chunk k + 1 is running (on CPU the same steps simply run in turn).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from irnext.data import PairedImageDataset, write_image
from irnext.data.sizes import completeness
from irnext.env import environment_stamp
from irnext.errors import InputError
from irnext.evaluation.loader import (
    chunks,
    default_workers,
    resolve_device,
    sample_loader,
    stack_on,
)
from irnext.evaluation.options import EvalOptions
from irnext.evaluation.precision import Bf16Check, float32_islands, fp32_islands
from irnext.evaluation.records import summarise
from irnext.evaluation.timing import StageClock, throughput
from irnext.inference import restore
from irnext.metrics import get_protocol
from irnext.metrics.protocols import PendingScores, Protocol, launch_scores
from irnext.names import check_under


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


def evaluate(
    model: nn.Module,
    dataset: PairedImageDataset,
    *,
    protocol: str | None = None,
    options: EvalOptions | None = None,
    save_dir: str | Path | None = None,
    model_name: str | None = None,
    weights_sha256: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Score `model` on every pair of `dataset`; returns (per-image rows, summary).

    `protocol` defaults to the dataset's own; `options` say how fast, not what, is computed
    (`EvalOptions`; its defaults when None). Rows hold name, group, height, width, every metric
    of the protocol, its test set ("dataset/split") and scene (`irnext.data.scenes`) and the
    inference seconds of the image (a chunk's time split evenly); the summary's timings and
    environment are under `irnext.evaluation.timing.RUN_KEYS`. Under bf16 the layers
    `fp32_islands` names run in fp32, the first images are scored in fp32 as well and
    `Bf16ToleranceError` is raised if any PSNR moved by more than the tolerance (the gaps are
    in the summary's "bf16_check").
    `progress` is called with the number of images each finished chunk held. With `save_dir`,
    restored images are written there as PNG at the protocol's `bit_depth`.
    """
    options = options or EvalOptions()
    device = resolve_device(options.device)
    workers = default_workers(device) if options.num_workers is None else options.num_workers
    chosen = get_protocol(protocol or dataset.info.protocol)  # unknown: InputError with the list
    net = prepare_model(
        model,
        device,
        channels_last=options.channels_last,
        compile=options.compile,
        backend=options.compile_backend,
    )
    bf16 = options.dtype == "bf16"
    check = Bf16Check(options.bf16_tolerance_db, where=str(dataset.root)) if bf16 else None
    run = _Run(net, device, chosen, options, where=dataset.root, check=check)
    run.save_dir = Path(save_dir) if save_dir is not None else None
    run.progress = progress
    started = time.perf_counter()
    with float32_islands(net, fp32_islands(net) if bf16 else []):
        loader = sample_loader(dataset, device=device, num_workers=workers)
        rows = run.score_all(chunks(loader, options.batch_size))
    if not rows:
        raise InputError(f"dataset '{dataset.info.name}' at {dataset.root} has no pairs")
    timing = run.timing(rows, time.perf_counter() - started)
    for row in rows:
        row["test_set"] = f"{dataset.info.name}/{dataset.split}"
    summary = summarise(rows, metrics=chosen.metrics)
    summary.update(
        model=model_name or getattr(model, "irnext_spec", {}).get("name"),
        weights_sha256=weights_sha256,
        **_provenance(dataset, len(rows), chosen),
        batch_size=options.batch_size,
        tile=options.tile,
        tile_overlap=options.tile_overlap if options.tile else None,
        dtype=options.dtype,
        bf16_check=check.record() if check else None,
        channels_last=options.channels_last,
        compiled=options.compile,
        **timing,
        environment=environment_stamp(device),
    )
    return rows, summary


def _provenance(dataset: PairedImageDataset, count: int, chosen) -> dict[str, Any]:
    """What the scores are of: the dataset split (and whether it was whole), the protocol."""
    info = dataset.info
    return {
        "dataset": info.name,
        "task": info.task,
        "split": dataset.split,
        **completeness(info.name, dataset.split, count),
        "dataset_caveat": info.caveat,
        "protocol": chosen.name,
        "protocol_source": chosen.source,
    }


def prepare_model(
    model: nn.Module,
    device: torch.device,
    *,
    channels_last: bool = False,
    compile: bool = False,
    backend: str = "inductor",
) -> nn.Module:
    """`model` on `device` in eval mode, optionally in channels_last layout and compiled (the
    compiled module forwards `size_multiple` / `min_size` to the original for `restore`)."""
    model = model.to(device).eval()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return torch.compile(model, backend=backend) if compile else model


class _Run:
    """The chunk loop of one evaluation: restore, launch the scores, read the previous chunk."""

    def __init__(self, net, device, protocol: Protocol, options: EvalOptions, *, where, check):
        self.net, self.device, self.protocol, self.where = net, device, protocol, where
        self.check, self.channels_last = check, options.channels_last
        self.tile, self.tile_overlap = options.tile, options.tile_overlap
        self.save_dir: Path | None = None  # where restorations are written, if anywhere
        self.progress: Callable[[int], None] | None = None
        self.inference, self.metrics = StageClock(device), StageClock(device)

    def score_all(self, chunk_iter) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        previous = None
        for chunk in chunk_iter:
            launched = self._launch(chunk)
            if previous is not None:  # chunk k is read while chunk k + 1 runs
                rows.extend(self._finish(*previous))
            previous = launched
        if previous is not None:
            rows.extend(self._finish(*previous))
        return rows

    def _launch(self, chunk) -> tuple[list[dict[str, Any]], PendingScores, Any, Any]:
        degraded = stack_on(chunk, "input", self.device)
        target = stack_on(chunk, "target", self.device)
        if self.channels_last:
            degraded = degraded.contiguous(memory_format=torch.channels_last)
        started = self.inference.start()
        restored = self._restore(degraded, bf16=self.check is not None)
        self.inference.stop(started)
        on_cuda = self.device.type == "cuda"
        images = restored.to("cpu", non_blocking=on_cuda) if self.save_dir else None
        started = self.metrics.start()
        with self._named(chunk):
            pending = launch_scores(restored, target, protocol=self.protocol.name)
        self.metrics.stop(started)
        reference = None
        if self.check is not None and self.check.wanted:  # the same images in fp32, untimed
            fp32 = self._restore(degraded, bf16=False)
            with self._named(chunk):
                reference = launch_scores(fp32, target, protocol=self.protocol.name)
        return chunk, pending, images, reference

    def _restore(self, degraded: torch.Tensor, *, bf16: bool) -> torch.Tensor:
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bf16):
            # Decoded from integer files, the inputs are finite: no host read for that check
            # (a NaN output is still named by the scores' fused check).
            restored = restore(
                self.net,
                degraded,
                tile=self.tile,
                tile_overlap=self.tile_overlap,
                check_finite=False,
            )
        return restored.float().contiguous()

    def _finish(self, chunk, pending, images, reference) -> list[dict[str, Any]]:
        with self._named(chunk):
            scores = pending.read()  # waits for this chunk's copy only (queued before the next)
            if reference is not None:
                self.check.add(scores, reference.read(), [s["name"] for s in chunk])
        if images is not None:
            for sample, image in zip(chunk, images, strict=True):
                path = self.save_dir / f"{sample['name']}.png"  # the name may hold sub-folders
                check_under(path, self.save_dir, what="restored image")
                write_image(path, image, bit_depth=self.protocol.bit_depth)
        if self.progress is not None:
            self.progress(len(chunk))
        return [
            {
                "name": s["name"],
                "scene": s["scene"],
                "group": s["group"],
                "height": s["input"].shape[-2],
                "width": s["input"].shape[-1],
                **values,
                "chunk": len(chunk),
            }
            for s, values in zip(chunk, scores, strict=True)
        ]

    @contextlib.contextmanager
    def _named(self, chunk):
        try:
            yield
        except InputError:
            raise
        except ValueError as error:  # e.g. RealBlur's ECC alignment failing on a pair
            names = [s["name"] for s in chunk]
            raise InputError(f"{self.where}: scoring {names} failed: {error}") from error

    def timing(self, rows: list[dict[str, Any]], total_s: float) -> dict[str, float]:
        """Fill each row's "seconds" (its chunk's inference time split evenly) and return the
        totals; reads the device clocks, so it waits for the device once."""
        inference, metrics = self.inference.seconds(), self.metrics.seconds()
        index = 0
        for seconds in inference:
            size = rows[index]["chunk"]
            for row in rows[index : index + size]:
                row["seconds"] = seconds / size
                del row["chunk"]
            index += size
        return throughput(len(rows), total_s, sum(inference), sum(metrics))
