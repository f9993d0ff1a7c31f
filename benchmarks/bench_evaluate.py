"""End-to-end `irnext.evaluation.evaluate` throughput on CPU: two code versions, interleaved.

    python benchmarks/bench_evaluate.py --before DIR --out benchmarks/results/cpu-evaluate-xeon-2t

DIR holds another copy of the `irnext` package (e.g. `git archive REV irnext | tar -x -C DIR`);
each measurement runs in a fresh process importing either that copy ("before") or this checkout
(or the copy given by `--after`: "after"), alternating cell by cell and repeat by repeat, so that
the load of a shared machine falls on both versions alike. A cell evaluates N synthetic 256 x 256
pairs (written once, in the synth-* layout) with the identity (reading, transfer and metrics
only) or `irnext-test` (plus a tiny IRNeXt's inference), after a warm-up pass on two pairs; the
record is images/s of the pass over all. Writes results.json (every repeat, medians, spreads,
environment) and table.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

MODELS = ("identity", "irnext-test")
HERE = Path(__file__).resolve()
REPO = HERE.parents[1]


def write_pairs(root: Path, *, count: int, size: int, seed: int = 0) -> Path:
    """`count` smooth-texture pairs (input = target + noise) under root/test/{input,target}."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for index in range(count):
        low = rng.random((size // 16, size // 16, 3))
        clean = np.kron(low, np.ones((16, 16, 1)))
        noisy = np.clip(clean + rng.normal(0, 0.05, clean.shape), 0, 1)
        for side, image in (("input", noisy), ("target", clean)):
            folder = root / "test" / side
            folder.mkdir(parents=True, exist_ok=True)
            pixels = np.round(image * 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{index:04d}.png")
    return root


def measure(root: Path, model_name: str, *, workers: int | None, batch: int) -> dict:
    """One cell in this process: a warm-up pass on two pairs, then the timed pass over all
    (images/s, wall clock)."""
    import torch

    from irnext.data import open_dataset
    from irnext.evaluation import IdentityModel, evaluate
    from irnext.models.registry import create_model

    torch.manual_seed(0)
    model = IdentityModel() if model_name == "identity" else create_model(model_name)
    dataset = open_dataset("synth-haze", root)
    options = {"batch_size": batch, "device": "cpu"}
    if workers is not None:
        options["num_workers"] = workers
    try:  # this checkout's API; an older copy ("before") may take the options as keywords
        from irnext.evaluation import EvalOptions

        keywords = {"options": EvalOptions(**options)}
    except ImportError:
        keywords = options
    warm = open_dataset("synth-haze", root)
    warm.pairs = warm.pairs[:2]  # the first calls' one-off costs, on two pairs
    evaluate(model, warm, **keywords)
    tic = time.perf_counter()
    rows, _ = evaluate(model, dataset, **keywords)
    seconds = time.perf_counter() - tic
    return {"images": len(rows), "seconds": seconds, "images_per_second": len(rows) / seconds}


def _spawn(version: str, before: Path, args: argparse.Namespace, model: str) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    env["PYTHONPATH"] = str(before if version == "before" else args.after)
    command = [sys.executable, str(HERE), "--cell", model, "--data", str(args.data)]
    command += ["--batch", str(args.batch)]
    if args.workers is not None and version == "after":
        command += ["--workers", str(args.workers)]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _summary(values: list[float]) -> dict:
    q1, _, q3 = statistics.quantiles(values, n=4) if len(values) > 1 else (values[0],) * 3
    return {"median": statistics.median(values), "iqr": q3 - q1, "min": min(values),
            "max": max(values)}  # fmt: skip


def compare(args: argparse.Namespace) -> dict:
    write_pairs(args.data, count=args.count, size=args.size)
    runs: dict[str, dict[str, list[float]]] = {
        v: {m: [] for m in MODELS} for v in ("before", "after")
    }
    loads = []
    for repeat in range(args.repeats):
        order = ("before", "after") if repeat % 2 == 0 else ("after", "before")
        for model in MODELS:
            for version in order:
                loads.append(os.getloadavg()[0])
                record = _spawn(version, args.before, args, model)
                runs[version][model].append(record["images_per_second"])
                print(f"{repeat} {model:<12} {version:<6} {record['images_per_second']:.2f}")
    return {"runs": runs, "loadavg_1m": loads}


def _environment() -> dict:
    sys.path.insert(0, str(REPO))
    from irnext.env import environment_stamp

    stamp = environment_stamp("cpu")
    stamp.pop("timestamp_utc", None)
    return stamp


def render(result: dict) -> str:
    env = result["environment"]
    lines = [
        f"# `evaluate` throughput, CPU: {env['device_name']} ({result['threads']} threads)",
        "",
        f"{result['count']} synthetic {result['size']}x{result['size']} pairs (synth-haze "
        f"layout, dehaze_pooled protocol), batch {result['batch']}, images/s over all pairs "
        f"(median, IQR, min-max over {result['repeats']} interleaved repeats, one process each). "
        f"before: {result['before_label']}; after: {result['after_label']}, with "
        f"{result['workers_label']}.",
        "",
        f"1-minute load average while this ran: {min(result['loadavg_1m']):.1f} to "
        f"{max(result['loadavg_1m']):.1f} on {env['cpu_count']} cores, the benchmark's own "
        f"{result['threads']} threads included"
        + (
            ": the machine was shared with other jobs, read the ratio, not the absolute figures."
            if max(result["loadavg_1m"]) > env["cpu_count"] + 0.5
            else "."
        ),
        "",
        "| model | before images/s | after images/s | ratio of medians | ratio per repeat |",
        "|---|---|---|---|---|",
    ]
    for model in MODELS:
        b, a = (result["summary"][v][model] for v in ("before", "after"))
        pairs = zip(result["runs"]["after"][model], result["runs"]["before"][model], strict=True)
        paired = ", ".join(f"{after / before:.2f}" for after, before in pairs)
        lines.append(
            f"| {model} | {b['median']:.2f} (IQR {b['iqr']:.2f}, {b['min']:.2f}-{b['max']:.2f}) "
            f"| {a['median']:.2f} (IQR {a['iqr']:.2f}, {a['min']:.2f}-{a['max']:.2f}) "
            f"| {a['median'] / b['median']:.2f} | {paired} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="folder holding the other `irnext` copy")
    parser.add_argument(
        "--after", type=Path, default=REPO, help="folder holding the `irnext` to compare"
    )
    parser.add_argument("--out", type=Path, help="results folder (results.json, table.md)")
    parser.add_argument("--data", type=Path, default=Path("/tmp/irnext-bench-evaluate"))
    parser.add_argument("--count", type=int, default=24, help="pairs")
    parser.add_argument("--size", type=int, default=256, help="square side in pixels")
    parser.add_argument("--batch", type=int, default=1, help="evaluate(batch_size=...)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved repeats per cell")
    parser.add_argument("--threads", type=int, default=2, help="OMP_NUM_THREADS of each cell")
    parser.add_argument("--workers", type=int, help="after: num_workers (default: its own)")
    parser.add_argument("--before-label", default="the previous commit")
    parser.add_argument("--after-label", default="this checkout")
    parser.add_argument("--cell", choices=MODELS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cell:  # one measurement, run by `compare` in a fresh process
        print(json.dumps(measure(args.data, args.cell, workers=args.workers, batch=args.batch)))
        return 0
    if args.before is None or args.out is None:
        parser.error("--before and --out are required")
    result = compare(args)
    result.update(
        count=args.count,
        size=args.size,
        batch=args.batch,
        repeats=args.repeats,
        threads=args.threads,
        before_label=args.before_label,
        after_label=args.after_label,
        workers_label=f"num_workers={args.workers}"
        if args.workers is not None
        else "its default num_workers",  # fmt: skip
        summary={
            v: {m: _summary(values) for m, values in per.items()}
            for v, per in result["runs"].items()
        },
        environment=_environment(),
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    (args.out / "table.md").write_text(render(result))
    print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
