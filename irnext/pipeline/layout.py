"""The results layout: where every stage of the pipeline writes and every reader looks.

A cell is one (task, model, seed); its files are named by the cell's stem, MODEL-sSEED:

    models/TASK/STEM.pt                        the trained checkpoint (the last one)
    results/train/TASK/STEM.json               its training history (STEM.run.json: timings)
    results/plots/train/TASK/STEM.json         its validation curve, a DVC plot
    results/convergence/TASK/STEM.json         its convergence record
    results/evaluate/TASK/STEM/                summary.json, per_image.csv and run.json, or
                                               one such folder per test set (SET/)
    results/evaluate/TASK/identity/            the identity's scores: the task's reference
    results/metrics/TASK.json                  the task's DVC metrics (every model, every seed)
    results/visual/TASK/                       the test images restored by every model

and, once per profile: results/cost/complexity.json, results/latency/MODEL.json,
results/scaling/scaling.json, results/ablations/STUDY.json and results/pretrained/NAME/;
the budget study, outside the pipeline: results/budget/budget.csv.

The stages write here (irnext.pipeline.cell, irnext.pipeline.summary), the report reads here
(irnext.report.load, irnext.report.cells), and dvc.yaml's `outs` spell the same paths. Nothing
here imports more than the name check, so every reader can use it.
"""

from __future__ import annotations

import re
from pathlib import Path

from irnext.names import check_name

RESULTS = Path("results")
MODELS = Path("models")
IDENTITY = "identity"  # the evaluation of the input itself, the reference of its task
SUMMARY = "summary.json"  # one evaluation's means (irnext.evaluation)
PER_IMAGE = "per_image.csv"  # its scores image by image

_STEM = re.compile(r"^(?P<model>.+)-s(?P<seed>\d+)$")


def cell_stem(model: str, seed: int | None) -> str:
    """'restormer-mini', 1 -> 'restormer-mini-s1'; an unseeded run (the identity) keeps its
    name."""
    return model if seed is None else f"{model}-s{seed}"


def split_stem(stem: str) -> tuple[str, int | None]:
    """'restormer-mini-s1' -> ('restormer-mini', 1); an unseeded name -> (name, None)."""
    match = _STEM.match(stem)
    return (match["model"], int(match["seed"])) if match else (stem, None)


def run_file(path: Path) -> Path:
    """The timings and environment written beside a result: STEM.json -> STEM.run.json."""
    return path.with_name(path.stem + ".run.json")


def evaluation_folder(results: Path, task: str, model: str, seed: int | None = None) -> Path:
    return results / "evaluate" / task / cell_stem(model, seed)


def history_path(results: Path, task: str, model: str, seed: int) -> Path:
    return results / "train" / task / f"{cell_stem(model, seed)}.json"


def checkpoint_path(models: Path, task: str, model: str, seed: int) -> Path:
    return models / task / f"{cell_stem(model, seed)}.pt"


def metrics_path(results: Path, task: str) -> Path:
    return results / "metrics" / f"{task}.json"


def visual_folder(results: Path, task: str) -> Path:
    return results / "visual" / task


def complexity_path(results: Path) -> Path:
    return results / "cost" / "complexity.json"


def latency_folder(results: Path) -> Path:
    return results / "latency"


def scaling_path(results: Path) -> Path:
    return results / "scaling" / "scaling.json"


def ablation_path(results: Path, study: str) -> Path:
    return results / "ablations" / f"{study}.json"


def budget_table(results: Path) -> Path:
    """The budget study's table: benchmarks/budget_curves.py writes it (beside each run's
    history, budget/TASK/), the report reads it; committed, not a pipeline output."""
    return results / "budget" / "budget.csv"


def cell_paths(task: str, model: str, seed: int) -> dict[str, Path]:
    """Every file one cell writes, relative to the repository (dvc.yaml's `outs` and plots);
    the task and model come from params.yaml and name files, so they are checked first."""
    check_name(task, what="task", source="params.yaml")
    stem = check_name(cell_stem(model, seed), what="model", source="params.yaml")
    return {
        "checkpoint": checkpoint_path(MODELS, task, model, seed),
        "history": history_path(RESULTS, task, model, seed),
        "timing": run_file(history_path(RESULTS, task, model, seed)),
        "curve": RESULTS / "plots" / "train" / task / f"{stem}.json",  # a DVC plot
        "evaluate": evaluation_folder(RESULTS, task, model, seed),
        "convergence": RESULTS / "convergence" / task / f"{stem}.json",
    }


def summary_paths(folder: Path) -> dict[str, Path]:
    """{test set: summary.json} of one evaluation folder: its own summary (key ""), or one
    sub-folder per test set where the task has several (evaluate/TASK/STEM/SET/); {} when it
    holds none."""
    if (folder / SUMMARY).is_file():
        return {"": folder / SUMMARY}
    return {path.parent.name: path for path in sorted(folder.glob(f"*/{SUMMARY}"))}
