"""`irnext collect` and `irnext visual`: the pipeline's per-task summaries.

irnext collect --task haze --models irnext-mini restormer-mini --seeds 0 1
    -> results/metrics/haze.json, DVC metrics: {model: {psnr_db, ssim, seeds,
       psnr_db_std_seeds (with 2+ seeds)}}
irnext visual --task haze --dataset synth-haze --root data/synth/haze --models ... --seed 0
    -> results/visual/haze/K_{input,target,MODEL}.png and visual.json: the --count test images
       whose PSNR differs most between the models, each zoomed where their outputs differ most

Both read only files the pipeline wrote (summary.json of each evaluation, the checkpoints).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Any

from irnext.errors import InputError
from irnext.names import check_name


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    collect = subparsers.add_parser("collect", help="per-task DVC metrics from the evaluations")
    visual = subparsers.add_parser("visual", help="test images restored by every model")
    for parser in (collect, visual):
        parser.add_argument("--task", required=True, help="the task whose results are read")
        parser.add_argument("--models", nargs="+", required=True, help="models of the profile")
        parser.add_argument("--results", type=Path, default=Path("results"), help="results folder")
    collect.add_argument("--seeds", nargs="+", type=int, required=True, help="seeds to aggregate")
    collect.add_argument("--out", type=Path, help="default RESULTS/metrics/TASK.json")
    collect.set_defaults(func=_collect)
    visual.add_argument("--dataset", required=True, help="the test set's dataset name")
    visual.add_argument("--root", required=True, type=Path, help="the dataset's folder")
    visual.add_argument("--seed", type=int, default=0, help="which seed's checkpoints")
    visual.add_argument(
        "--models-dir", type=Path, default=Path("models"), help="trained checkpoints"
    )
    visual.add_argument("--crop", type=int, default=64, help="side of the zoomed window")
    visual.add_argument(
        "--count", type=int, default=3, help="test images shown: those the models differ most on"
    )
    visual.set_defaults(func=_visual)


def _summary_paths(folder: Path) -> dict[str, Path]:
    """{dataset: summary.json} of one evaluation folder: one sub-folder per test set, or the
    folder's own summary under "" (its one test set)."""
    if (folder / "summary.json").is_file():
        return {"": folder / "summary.json"}
    found = sorted(folder.glob("*/summary.json"))
    if not found:
        raise InputError(f"{folder}: no summary.json (run the evaluate stage first)")
    return {path.parent.name: path for path in found}


def _runs(folder: Path, task: str, seed: int | None) -> dict[str, dict[str, Any]]:
    from irnext.report.load import read_run

    return {key: read_run(path, task, seed) for key, path in _summary_paths(folder).items()}


def metrics_of(results: Path, task: str, models: list[str], seeds: list[int]) -> dict:
    """Mean over seeds (and the seeds' standard deviation) of each model's PSNR and SSIM, after
    checking that every run scored the identity's test set (`irnext.report.cells.check_task`)."""
    from irnext.report.cells import check_task, seed_problem

    problem = seed_problem(seeds)
    if problem:
        raise InputError(f"--seeds {seeds}: {problem}")
    folder = results / "evaluate" / task
    runs = {"identity": [_runs(folder / "identity", task, None)]}
    for model in models:
        runs[model] = [_runs(folder / f"{model}-s{seed}", task, seed) for seed in seeds]
    datasets = list(runs["identity"][0])
    for dataset in datasets:
        cells = [(name, run.get(dataset)) for name, per_seed in runs.items() for run in per_seed]
        lacking = [name for name, run in cells if run is None]
        if lacking:
            raise InputError(f"{folder}: {lacking} have no evaluation of test set {dataset!r}")
        check_task([run for _, run in cells])
    table: dict[str, Any] = {}
    for name, per_seed in runs.items():
        rows = {}
        for dataset in datasets:
            means = [run[dataset]["summary"]["means"] for run in per_seed]
            psnr = [m["psnr_db"] for m in means]
            row = {
                "psnr_db": statistics.fmean(psnr),
                "ssim": statistics.fmean(m["ssim"] for m in means),
                "seeds": len(per_seed),
            }
            if name != "identity" and len(psnr) > 1:  # one seed has no spread to report
                row["psnr_db_std_seeds"] = statistics.stdev(psnr)
            rows[dataset] = {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
        table[name] = rows[datasets[0]] if len(datasets) == 1 else rows
    return table


def _collect(args: argparse.Namespace) -> int:
    from irnext.io import atomic_write_json

    _check_names(args)
    out = args.out or args.results / "metrics" / f"{args.task}.json"
    table = metrics_of(args.results, args.task, args.models, args.seeds)
    atomic_write_json(out, table)
    print(f"wrote {out}")
    return 0


def _check_names(args: argparse.Namespace) -> None:
    """The task and model names (from params.yaml, through dvc.yaml) name files here."""
    check_name(args.task, what="--task", source="the command line")
    for model in args.models:
        check_name(model, what="--models entry", source="the command line")


def largest_error_window(error, size: int) -> tuple[int, int, int]:
    """(top, left, side) of the size x size window with the largest summed error (H x W array),
    found with an integral image; ties go to the first window in raster order."""
    import numpy as np

    height, width = error.shape
    side = min(size, height, width)
    integral = np.pad(np.cumsum(np.cumsum(error, 0), 1), ((1, 0), (1, 0)))
    sums = (
        integral[side:, side:]
        - integral[:-side, side:]
        - integral[side:, :-side]
        + integral[:-side, :-side]
    )
    top, left = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return int(top), int(left), side


def differing_images(results: Path, task: str, models: list[str], seed: int, count: int):
    """The `count` test images whose PSNR differs most between the models (range over models,
    seed `seed`), from their per_image.csv; ties by name."""
    from irnext.report.load import read_per_image

    scores = {}
    for model in models:
        path = results / "evaluate" / task / f"{model}-s{seed}" / "per_image.csv"
        table = read_per_image(path)
        if table is None or "psnr_db" not in table.columns:
            raise InputError(f"{path}: missing or without psnr_db (run the cell stage first)")
        scores[model] = table["psnr_db"].astype(float)
    names = sorted(set.intersection(*(set(s.index) for s in scores.values())))
    spread = {
        n: max(s[n] for s in scores.values()) - min(s[n] for s in scores.values()) for n in names
    }
    return sorted(names, key=lambda n: (-spread[n], n))[:count]


def _visual(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from irnext.checkpoint import load_checkpoint
    from irnext.data import open_dataset, write_image
    from irnext.inference import restore
    from irnext.io import atomic_write_json

    _check_names(args)
    dataset = open_dataset(args.dataset, args.root, split="test")
    chosen = differing_images(args.results, args.task, args.models, args.seed, args.count)
    index = {pair.name: i for i, pair in enumerate(dataset.pairs)}
    out = args.results / "visual" / args.task
    nets = {m: load_checkpoint(args.models_dir / args.task / f"{m}-s{args.seed}.pt")[0]
            for m in args.models}  # fmt: skip
    images = []
    for number, name in enumerate(chosen):
        sample = dataset[index[name]]
        prefix = f"{number}_"
        write_image(out / f"{prefix}input.png", sample["input"])
        write_image(out / f"{prefix}target.png", sample["target"])
        restored = {m: restore(net, sample["input"]).cpu() for m, net in nets.items()}
        for model, image in restored.items():
            write_image(out / f"{prefix}{model}.png", image)
        # Where the models' outputs disagree most (standard deviation over models).
        disagreement = torch.stack(list(restored.values())).std(dim=0, correction=0)
        crop = largest_error_window(np.asarray(disagreement.mean(dim=0)), args.crop)
        images.append({"image": name, "prefix": prefix, "crop": list(crop)})
    record = {"dataset": args.dataset, "seed": args.seed, "models": list(args.models)}
    atomic_write_json(out / "visual.json", {**record, "images": images})
    print(f"wrote {out}")
    return 0
