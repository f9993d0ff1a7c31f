"""The pipeline's per-task summaries (dvc.yaml's `summary` stage: `irnext collect`, `visual`).

metrics_of: results/metrics/TASK.json, DVC metrics: {model: {psnr_db, ssim, seeds,
    psnr_db_std_seeds (with 2+ seeds)}}, one mapping per test set where the task has several
write_visual: results/visual/TASK/K_{input,target,MODEL}.png and visual.json: the `count` test
    images whose PSNR differs most between the models, each zoomed where their outputs differ
    most

Both read only files the pipeline wrote (irnext.pipeline.layout: each evaluation's summary and
per-image scores, the checkpoints).
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from irnext.errors import InputError
from irnext.pipeline import layout


def _runs(folder: Path, task: str, seed: int | None) -> dict[str, dict[str, Any]]:
    """{test set: run} of one evaluation folder ("" for its one test set)."""
    from irnext.report.load import read_run

    paths = layout.summary_paths(folder)
    if not paths:
        raise InputError(f"{folder}: no summary.json (run the evaluate stage first)")
    return {key: read_run(path, task, seed) for key, path in paths.items()}


def metrics_of(results: Path, task: str, models: list[str], seeds: list[int]) -> dict:
    """Mean over seeds (and the seeds' standard deviation) of each model's PSNR and SSIM, after
    checking that every run scored the identity's test set (`irnext.report.cells.check_task`)."""
    from irnext.report.cells import check_task, seed_problem

    problem = seed_problem(seeds)
    if problem:
        raise InputError(f"--seeds {seeds}: {problem}")
    folder = results / "evaluate" / task
    identity = layout.evaluation_folder(results, task, layout.IDENTITY)
    runs = {layout.IDENTITY: [_runs(identity, task, None)]}
    for model in models:
        runs[model] = [
            _runs(layout.evaluation_folder(results, task, model, seed), task, seed)
            for seed in seeds
        ]
    datasets = list(runs[layout.IDENTITY][0])
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
            if name != layout.IDENTITY and len(psnr) > 1:  # one seed has no spread to report
                row["psnr_db_std_seeds"] = statistics.stdev(psnr)
            rows[dataset] = {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
        table[name] = rows[datasets[0]] if len(datasets) == 1 else rows
    return table


def write_metrics(results: Path, task: str, models: list[str], seeds: list[int], out=None):
    """`metrics_of` written as the task's DVC metrics (default results/metrics/TASK.json)."""
    from irnext.io import atomic_write_json

    out = out or layout.metrics_path(results, task)
    atomic_write_json(out, metrics_of(results, task, models, seeds))
    return out


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
        path = layout.evaluation_folder(results, task, model, seed) / layout.PER_IMAGE
        table = read_per_image(path)
        if table is None or "psnr_db" not in table.columns:
            raise InputError(f"{path}: missing or without psnr_db (run the cell stage first)")
        scores[model] = table["psnr_db"].astype(float)
    names = sorted(set.intersection(*(set(s.index) for s in scores.values())))
    spread = {
        n: max(s[n] for s in scores.values()) - min(s[n] for s in scores.values()) for n in names
    }
    return sorted(names, key=lambda n: (-spread[n], n))[:count]


def write_visual(
    results: Path,
    task: str,
    models: list[str],
    *,
    dataset: str,
    root: Path,
    models_dir: Path,
    seed: int,
    crop: int,
    count: int,
) -> Path:
    """The `count` test images of `dataset` (its test split at `root`) the models differ most on,
    each restored by every model (checkpoints of seed `seed` under `models_dir`) with the
    window where their outputs disagree most; returns the folder written."""
    import numpy as np
    import torch

    from irnext.checkpoint import load_checkpoint
    from irnext.data import open_dataset, write_image
    from irnext.inference import restore
    from irnext.io import atomic_write_json

    test_set = open_dataset(dataset, root, split="test")
    chosen = differing_images(results, task, models, seed, count)
    index = {pair.name: i for i, pair in enumerate(test_set.pairs)}
    out = layout.visual_folder(results, task)
    nets = {m: load_checkpoint(layout.checkpoint_path(models_dir, task, m, seed))[0]
            for m in models}  # fmt: skip
    images = []
    for number, name in enumerate(chosen):
        sample = test_set[index[name]]
        prefix = f"{number}_"
        write_image(out / f"{prefix}input.png", sample["input"])
        write_image(out / f"{prefix}target.png", sample["target"])
        restored = {m: restore(net, sample["input"]).cpu() for m, net in nets.items()}
        for model, image in restored.items():
            write_image(out / f"{prefix}{model}.png", image)
        # Where the models' outputs disagree most (standard deviation over models).
        disagreement = torch.stack(list(restored.values())).std(dim=0, correction=0)
        window = largest_error_window(np.asarray(disagreement.mean(dim=0)), crop)
        images.append({"image": name, "prefix": prefix, "crop": list(window)})
    record = {"dataset": dataset, "seed": seed, "models": list(models)}
    atomic_write_json(out / "visual.json", {**record, "images": images})
    return out
