"""`irnext latency`: time a named model's forward pass (or a training step) on this machine.

irnext latency --model irnext-dehaze                       # 1x3x256x256, fp32, eager
irnext latency --model irnext-dehaze --dataset gopro --dtype bf16 --device cuda
irnext latency --model restormer --size 512 512 --batch 4 --compile --json
irnext latency --model irnext-dehaze --train-step --batch 4 --device cuda
irnext latency --models irnext-mini nafnet-mini --out-dir results/latency   # interleaved
irnext latency --models irnext-mini nafnet-mini --sweep 64 128 256 --out scaling.json

Sizes that the model cannot take are padded up to its size multiple, as inference pads them
(GoPro's 720x1280 is timed at 736x1280 for IRNeXt); the record gives both sizes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from irnext.errors import InputError
from irnext.precisions import PRECISIONS


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "latency", help="forward (or training-step) latency and peak memory of a named model"
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", metavar="MODEL", help="a named model (see `irnext models`)")
    which.add_argument(
        "--models",
        nargs="+",
        metavar="MODEL",
        help="several models timed with interleaved repeats; one record each in --out-dir",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--size", nargs=2, type=int, metavar=("H", "W"), default=(256, 256), help="input size"
    )
    where.add_argument(
        "--dataset",
        help="time at this test set's frame size (padded to the model's multiple), e.g. gopro",
    )
    parser.add_argument("--batch", type=int, default=1, help="images per forward pass")
    parser.add_argument("--dtype", choices=list(PRECISIONS), default="fp32", help="bf16: autocast")
    parser.add_argument("--compile", action="store_true", help="torch.compile (default mode)")
    parser.add_argument("--channels-last", action="store_true", help="NHWC weights and input")
    parser.add_argument("--train-step", action="store_true", help="time a full optimiser step")
    parser.add_argument("--device", default="auto", help="auto (cuda if present), cpu, cuda:0")
    parser.add_argument("--warmup", type=int, default=10, help="untimed runs first")
    parser.add_argument("--runs", type=int, default=50, help="timed runs (median and spread)")
    parser.add_argument("--json", action="store_true", help="print the record as JSON")
    parser.add_argument("--out", type=Path, help="also write the record (JSON) here")
    parser.add_argument("--out-dir", type=Path, help="--models: write DIR/MODEL.json")
    parser.add_argument(
        "--cuda-size",
        nargs=2,
        type=int,
        metavar=("H", "W"),
        help="--models on CUDA: also time this frame (e.g. 720 1280), DIR/MODEL-HxW.json",
    )
    parser.add_argument(
        "--sweep", nargs="+", type=int, metavar="SIDE", help="--models: latency against size"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from irnext.models.registry import model_entry

    for name in [args.model] if args.model else args.models:
        model_entry(name)  # an unknown name is an error naming the nearest known ones
    if min(args.size) < 1 or args.batch < 1 or args.runs < 1 or args.warmup < 0:
        raise InputError(
            f"--size {args.size[0]} {args.size[1]}, --batch {args.batch}, --runs {args.runs}, "
            f"--warmup {args.warmup}: sides, batch and runs must be >= 1, warm-up >= 0"
        )
    if args.models:
        return _run_models(args)
    from irnext.cost.scaling import check_sides, padded_side
    from irnext.io import check_writable
    from irnext.models.registry import create_model

    if args.out:
        check_writable(args.out)  # before minutes of timing, not after
    model = create_model(args.model)
    if args.train_step:  # a model with BatchNorm (IRNeXt's LAM) trains on >= 2 images
        from irnext.training.config import check_norm_batch

        check_norm_batch(model, args.batch, what="--batch")
    requested = _frame_size(args.dataset) if args.dataset else tuple(args.size)
    check_sides(args.model, model, requested)
    multiple = getattr(model, "size_multiple", 1)
    size = tuple(padded_side(side, multiple) for side in requested)
    record = _measure(args, model, size)
    _report(args, record, requested, size)
    return 0


def _run_models(args: argparse.Namespace) -> int:
    """--models: one record per model in --out-dir (and at --cuda-size on CUDA), or with
    --sweep the scaling records in --out (irnext.pipeline.cost)."""
    from irnext.evaluation import resolve_device
    from irnext.pipeline.cost import compare_models, scaling_records, write_records

    if args.train_step or args.compile or args.channels_last or args.dataset:
        raise InputError(
            "--models times plain forward passes: drop --train-step, --compile, "
            "--channels-last and --dataset (use --model for those)"
        )
    if len(set(args.models)) != len(args.models):
        raise InputError(f"--models {' '.join(args.models)}: a model is named twice")
    device = resolve_device(args.device)
    timing = {"device": device, "dtype": args.dtype, "warmup": args.warmup, "runs": args.runs}
    timing["batch"] = args.batch
    if args.sweep:
        if not args.out:
            raise InputError("--sweep needs --out (the JSON list of records)")
        if min(args.sweep) < 1:
            raise InputError(f"--sweep {args.sweep}: sides must be >= 1")
        records = scaling_records(args.models, args.sweep, **timing)
        write_records(args.out, records)
        for record in records:
            state = "out of memory" if record["oom"] else f"{record['latency_ms_median']:.2f} ms"
            print(f"{record['model']} at {record['size']}: {state}")
        return 0
    if not args.out_dir:
        raise InputError("--models needs --out-dir (one record per model) or --sweep")
    sizes = [tuple(args.size)]
    if args.cuda_size and device.type == "cuda":
        sizes.append(tuple(args.cuda_size))
    for index, size in enumerate(sizes):
        for name, record in compare_models(args.models, size, **timing).items():
            suffix = "" if index == 0 else f"-{size[0]}x{size[1]}"
            write_records(args.out_dir / f"{name}{suffix}.json", record)
            _print_compared(record)
    return 0


def _print_compared(record: dict) -> None:
    flag = f" FLAGGED: {'; '.join(record['flag_reasons'])}" if record["flagged"] else ""
    size = record["padded_size"]
    print(
        f"{record['model']} {size[0]}x{size[1]} on {record['device_name']} "
        f"({record['threads']} threads): {record['latency_ms_median']:.2f} ms median, "
        f"IQR {record['latency_ms_iqr']:.2f}{flag}"
    )


def _frame_size(dataset: str) -> tuple[int, int]:
    from irnext.data.sizes import NATIVE_RESOLUTION

    if dataset not in NATIVE_RESOLUTION:
        known = ", ".join(sorted(NATIVE_RESOLUTION))
        raise InputError(f"--dataset {dataset!r}: no fixed frame size on record; known: {known}")
    return NATIVE_RESOLUTION[dataset]


def _measure(args: argparse.Namespace, model, size: tuple[int, int]) -> dict:
    from irnext.cost.latency import measure_latency
    from irnext.cost.train_step import measure_train_step
    from irnext.evaluation import resolve_device

    device = resolve_device(args.device)
    if args.train_step:
        return measure_train_step(
            model,
            batch=args.batch,
            size=size,
            device=device,
            dtype=args.dtype,
            warmup=args.warmup,
            runs=args.runs,
        )
    return measure_latency(
        model,
        (args.batch, 3, *size),
        device=device,
        dtype=args.dtype,
        compile=args.compile,
        channels_last=args.channels_last,
        warmup=args.warmup,
        runs=args.runs,
    )


def _report(args: argparse.Namespace, record: dict, requested, size) -> None:
    from irnext.evaluation import json_safe
    from irnext.io import atomic_write_text

    record = {
        "model": args.model,
        "dataset": args.dataset,
        "requested_size": list(requested),
        "padded_size": list(size),
        **record,
    }
    text = json.dumps(json_safe(record), indent=1)
    if args.out:
        atomic_write_text(args.out, text + "\n")
    if args.json:
        print(text)
        return
    memory = record["peak_memory_mib"]
    what = "train step" if args.train_step else "forward"
    print(
        f"{args.model} {what}, {args.batch}x3x{size[0]}x{size[1]} {args.dtype} on "
        f"{record['environment']['device_name']}: {record['latency_ms_median']:.2f} ms median "
        f"(IQR {record['latency_ms_iqr']:.2f}, {record['runs']} runs), peak "
        + (f"{memory:.0f} MiB" if memory is not None else "n/a (CPU)")
    )
