"""Training throughput on this machine: ms per optimiser step of the engine's `train_step`
(Adam, the recipe's loss and clipping) and the training loader's images/s alone.

    python benchmarks/bench_train.py --out benchmarks/results/cpu-train-xeon-2t

The step runs on in-memory random batches (`--model`, default irnext-dehaze, batch 4 of
256 x 256, fp32); the loader reads a synthetic set of 256 x 256 PNG pairs the script writes to
a temporary folder, with the workers `num_workers="auto"` gives this machine. The two are
measured in interleaved rounds (one step, then one pass of the loader), so a neighbour's load
on a shared machine hits both alike; medians and spreads are reported.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import irnext
from irnext.data import open_dataset, training_loader, write_image
from irnext.data.transforms import loader_settings
from irnext.env import environment_stamp
from irnext.precisions import PRECISIONS
from irnext.training import TrainConfig, train_step


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _step_timer(args, device):
    torch.manual_seed(0)
    model = irnext.create_model(args.model).to(device).train()
    config = TrainConfig(batch_size=args.batch, patch_size=args.size, precision=args.precision)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, betas=config.betas)
    shape = (args.batch, 3, args.size, args.size)
    batch = {"input": torch.rand(shape), "target": torch.rand(shape)}

    def one_step() -> float:
        _synchronise(device)
        started = time.perf_counter()
        train_step(model, optimizer, batch, config, device)
        _synchronise(device)
        return (time.perf_counter() - started) * 1e3

    return one_step


def _loader_timer(args, folder: Path, device):
    rng = np.random.default_rng(0)
    for index in range(args.images):
        clean = rng.random((args.size, args.size, 3)).astype(np.float32)
        write_image(folder / "train" / "target" / f"{index:03d}.png", clean)
        write_image(folder / "train" / "input" / f"{index:03d}.png", 0.7 * clean + 0.2)
    dataset = open_dataset("synth-haze", folder, split="train")
    loader = training_loader(
        dataset, batch_size=args.batch, patch_size=args.size, num_workers="auto", device=device
    )

    def one_pass() -> float:
        started, images = time.perf_counter(), 0
        for batch in loader:
            images += batch["input"].shape[0]
        return images / (time.perf_counter() - started)

    return one_pass, loader_settings("auto", device)


def _spread(values: list[float]) -> dict[str, float]:
    quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return {
        "median": statistics.median(values),
        "iqr": quartiles[2] - quartiles[0],
        "min": min(values),
        "max": max(values),
        "runs": len(values),
    }


def measure(args) -> dict:
    device = torch.device(args.device)
    step = _step_timer(args, device)
    with tempfile.TemporaryDirectory() as folder:
        loader_pass, settings = _loader_timer(args, Path(folder), device)
        warm = [step() for _ in range(args.warmup)] + [loader_pass()]
        steps, rates = [], []
        for _ in range(args.runs):  # interleaved: step, loader pass, step, ...
            steps.append(step())
            rates.append(loader_pass())
    return {
        "environment": environment_stamp(device),
        "model": args.model,
        "batch": args.batch,
        "size": [args.size, args.size],
        "precision": args.precision,
        "warmup": args.warmup,
        "warmup_ms": warm[:-1],
        "train_step_ms": _spread(steps),
        "train_step_ms_runs": steps,
        "train_images_per_s": args.batch * 1e3 / statistics.median(steps),
        "loader": {**settings, "images": args.images, "images_per_s": _spread(rates)},
        "loader_images_per_s_runs": rates,
        "shared_machine": args.shared,
    }


def table(result: dict) -> str:
    env, step, load = result["environment"], result["train_step_ms"], result["loader"]
    size = "x".join(map(str, result["size"]))
    lines = [
        f"# Training throughput: {env['device_name']} ({env['torch_num_threads']} threads, "
        f"torch {env['torch']})",
        "",
        f"{result['model']}, batch {result['batch']}, {size}, {result['precision']}; median "
        f"± IQR (min-max) of {step['runs']} interleaved runs after {result['warmup']} warm-up "
        "steps (results.json).",
    ]
    if result["shared_machine"]:
        lines += ["", "The machine was shared with other work at the time: read these as rough."]
    lines += [
        "",
        "| measure | median ± IQR | min - max |",
        "|---|---|---|",
        f"| train step (ms) | {step['median']:.0f} ± {step['iqr']:.0f} "
        f"| {step['min']:.0f} - {step['max']:.0f} |",
        f"| loader alone, {load['num_workers']} workers (images/s) | "
        f"{load['images_per_s']['median']:.1f} ± {load['images_per_s']['iqr']:.1f} | "
        f"{load['images_per_s']['min']:.1f} - {load['images_per_s']['max']:.1f} |",
        "",
        f"One step trains {result['train_images_per_s']:.2f} images/s; the loader delivers "
        f"{load['images_per_s']['median'] / result['train_images_per_s']:.0f}x that.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for results.json")
    parser.add_argument("--model", default="irnext-dehaze")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--precision", default="fp32", choices=PRECISIONS)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--images", type=int, default=16, help="PNG pairs the loader reads")
    parser.add_argument("--shared", action="store_true", help="note a shared machine")
    args = parser.parse_args()
    result = measure(args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    (args.out / "table.md").write_text(table(result))
    print(table(result))


if __name__ == "__main__":
    main()
