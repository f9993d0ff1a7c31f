"""`irnext latency --models ...`: several models timed side by side (the pipeline's cost stages).

With --out-dir, one record per model in DIR/MODEL.json, timed with interleaved repeats in this
one process (irnext.cost.latency.compare_latency); on CUDA, --cuda-size adds a frame size
(DIR/MODEL-HxW.json). With --sweep, the latency and memory of each model against the image
side (irnext.cost.scaling.resolution_sweep), one list in --out.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch

from irnext.cost.latency import compare_latency
from irnext.cost.scaling import check_sides, padded_side, resolution_sweep
from irnext.errors import InputError
from irnext.evaluation import json_safe, resolve_device
from irnext.models.registry import create_model

# Keys of a scaling record (the rest of the latency record stays in the latency stage).
SCALING_KEYS = (
    "model",
    "size",
    "oom",
    "latency_ms_median",
    "latency_ms_iqr",
    "peak_memory_mib",
    "device",
    "device_name",
    "precision",
    "threads",
    "flagged",
    "flag_reasons",
    "load",
)


def run_many(args: argparse.Namespace) -> int:
    if args.train_step or args.compile or args.channels_last or args.dataset:
        raise InputError(
            "--models times plain forward passes: drop --train-step, --compile, "
            "--channels-last and --dataset (use --model for those)"
        )
    if len(set(args.models)) != len(args.models):
        raise InputError(f"--models {' '.join(args.models)}: a model is named twice")
    device = resolve_device(args.device)
    if args.sweep:
        return _sweep(args, device)
    if not args.out_dir:
        raise InputError("--models needs --out-dir (one record per model) or --sweep")
    sizes = [tuple(args.size)]
    if args.cuda_size and device.type == "cuda":
        sizes.append(tuple(args.cuda_size))
    for index, size in enumerate(sizes):
        records = _compare(args, device, size)
        for name, record in records.items():
            suffix = "" if index == 0 else f"-{size[0]}x{size[1]}"
            _write(args.out_dir / f"{name}{suffix}.json", record)
            _print(record)
    return 0


def _compare(args, device: torch.device, size: tuple[int, int]) -> dict[str, dict[str, Any]]:
    """Models that share a padded size are timed together; each pads as inference would."""
    models = {name: create_model(name) for name in args.models}
    for name, model in models.items():
        check_sides(name, model, size)
    padded = {
        name: tuple(padded_side(s, getattr(m, "size_multiple", 1)) for s in size)
        for name, m in models.items()
    }
    records = {}
    for shape in dict.fromkeys(padded.values()):
        group = {name: m for name, m in models.items() if padded[name] == shape}
        timed = compare_latency(
            group,
            (args.batch, 3, *shape),
            device=device,
            dtype=args.dtype,
            warmup=args.warmup,
            runs=args.runs,
        )
        for name, record in timed.items():
            records[name] = {
                "model": name,
                "requested_size": list(size),
                "padded_size": list(shape),
                **record,
            }
    return {name: records[name] for name in args.models}


def _sweep(args, device: torch.device) -> int:
    if not args.out:
        raise InputError("--sweep needs --out (the JSON list of records)")
    if min(args.sweep) < 1:
        raise InputError(f"--sweep {args.sweep}: sides must be >= 1")
    builders = {name: (lambda name=name: create_model(name)) for name in args.models}
    records = resolution_sweep(
        builders,
        args.sweep,
        device=device,
        dtype=args.dtype,
        warmup=args.warmup,
        runs=args.runs,
        batch=args.batch,
    )
    kept = [{key: record.get(key) for key in SCALING_KEYS} for record in records]
    _write(args.out, kept)
    for record in kept:
        state = "out of memory" if record["oom"] else f"{record['latency_ms_median']:.2f} ms"
        print(f"{record['model']} at {record['size']}: {state}")
    return 0


def _write(path: Path, value: Any) -> None:
    from irnext.io import atomic_write_text

    atomic_write_text(path, json.dumps(json_safe(value), indent=1) + "\n")


def _print(record: dict[str, Any]) -> None:
    flag = f" FLAGGED: {'; '.join(record['flag_reasons'])}" if record["flagged"] else ""
    size = record["padded_size"]
    print(
        f"{record['model']} {size[0]}x{size[1]} on {record['device_name']} "
        f"({record['threads']} threads): {record['latency_ms_median']:.2f} ms median, "
        f"IQR {record['latency_ms_iqr']:.2f}{flag}"
    )
