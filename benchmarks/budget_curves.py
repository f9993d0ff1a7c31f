"""The budget study behind the default profile's step budget: final validation PSNR per budget.

    irnext data synth --task haze --out data/synth/haze --val-count 4   # as the `synth` stage
    python benchmarks/budget_curves.py --tasks haze rain \
        --models irnext-mini restormer-mini uformer-mini --budgets 108 216 432 864

Each (task, model, budget) trains from scratch with the profile's recipe (params.yaml `train`,
the exact `irnext train` command of a pipeline cell) scaled to that many steps, so each budget
gets its own warm-up and cosine decay, as a profile with that budget would. A single long run
would not do: its curve at step 216 is mid-schedule, not what a 216-step profile ends at.
Validation only (the `val` split: crops of the training photographs); test scenes are never
looked at when choosing the budget. Writes, under RESULTS/budget/, every run's history and
`budget.csv` (one row per run: final validation PSNR, seconds, load); the report's "Budget
study" renders it (irnext.report.budget). A rerun skips the rows already in `budget.csv`.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import yaml

from irnext.pipeline.cell import recipe_flags
from irnext.pipeline.convergence import validation_flags
from irnext.pipeline.layout import RESULTS, budget_table
from irnext.pipeline.profile_schema import VAL_KEY

FIELDS = ("task", "model", "seed", "budget_steps", "final_val_psnr_db", "train_seconds", "load")


def train_command(params: dict, *, task: str, model: str, seed: int, budget: int, out: Path):
    """The cell's `irnext train` command (its recipe and validation flags, from the pipeline)
    with `budget` steps, validating 8 times."""
    steps_per_epoch = params["synth"]["train_count"] // params["train"]["batch_size"]
    if budget % steps_per_epoch or budget % 8:  # whole epochs, 8 validations
        raise SystemExit(f"budget {budget}: expected a multiple of {steps_per_epoch} and of 8")
    train = {**params["train"], "epochs": budget // steps_per_epoch, VAL_KEY: budget // 8}
    scaled = {**params, "train": train}
    run = out / task / f"{model}-s{seed}-{budget}"
    return run, [
        "irnext", "train", "--model", model, "--dataset", f"synth-{task}",
        "--root", f"{params['_data']}/{task}", *recipe_flags(scaled), *validation_flags(scaled),
        "--seed", str(seed), "--out", str(run.with_suffix(".pt")),
        "--history", str(run.with_suffix(".json")),
    ]  # fmt: skip


def run_one(params: dict, out: Path, **cell) -> dict:
    run, command = train_command(params, out=out, **cell)
    run.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    for weights in (run.with_suffix(".pt"), run.with_suffix(".best.pt")):
        weights.unlink(missing_ok=True)  # only the curves are kept
    validations = json.loads(run.with_suffix(".json").read_text())["validations"]
    return {
        "task": cell["task"],
        "model": cell["model"],
        "seed": cell["seed"],
        "budget_steps": cell["budget"],
        "final_val_psnr_db": round(validations[-1]["val_psnr_db"], 3),
        "train_seconds": round(seconds, 1),
        "load": round(_load(), 2),
    }


def _load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", required=True)
    parser.add_argument("--models", nargs="+", required=True)
    parser.add_argument("--budgets", nargs="+", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--data", default="data/synth")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    params = {**yaml.safe_load(args.params.read_text()), "_data": args.data}
    table = budget_table(args.results)
    rows = list(csv.DictReader(table.open())) if table.exists() else []
    done = {(r["task"], r["model"], int(r["budget_steps"])) for r in rows}
    for task in args.tasks:
        for budget in args.budgets:  # interleaved: the load falls on every model alike
            for model in args.models:
                if (task, model, budget) in done:
                    continue
                cell = dict(task=task, model=model, seed=args.seed, budget=budget)
                rows.append(run_one(params, table.parent, **cell))
                print(rows[-1], flush=True)
                _write(rows, table)
    return 0


def _write(rows: list[dict], table: Path) -> None:
    from irnext.io import atomic_write_text

    lines = [",".join(FIELDS)] + [",".join(str(r[f]) for f in FIELDS) for r in rows]
    atomic_write_text(table, "\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
