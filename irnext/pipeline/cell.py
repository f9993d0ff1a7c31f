"""What one cell of the comparison runs: train a model on a task with the profile's recipe,
then score it on every test set of the task (dvc.yaml's `cell` and `baseline` stages).

The cell's `irnext train` and `irnext evaluate` commands are built from the profile (params.yaml
`benchmark`, `train`, `evaluate`), so every model of every task is trained and scored with the
same recipe, budget and protocol. `benchmark: synthetic` uses the offline benchmark under
data/synth/TASK; `benchmark: paper` takes each task's real training and test sets from
`paper.TASK` with their roots from datasets.yaml (kept out of params.yaml so that `dvc exp
show` is not a wall of empty dataset columns). The model name `irnext` stands for the task's
IRNeXt configuration (irnext-dehaze for haze, ...).

A cell is any object with `task`, `model`, `seed` and `datasets` (the datasets.yaml path): the
parsed `irnext bench cell` arguments. Its files are those of irnext.pipeline.layout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from irnext.errors import InputError
from irnext.pipeline.layout import IDENTITY, RESULTS, cell_paths, evaluation_folder
from irnext.pipeline.paper import cell_recipe
from irnext.pipeline.profile import dataset_root, section

ALLOW_CPU = "IRNEXT_ALLOW_CPU"  # set to 1: run a profile that requires CUDA on the CPU anyway


def resolve_model(name: str, task: str) -> str:
    """`irnext` -> the task's IRNeXt model; any other name is a named model."""
    from irnext.data.layouts import SYNTH_TASKS
    from irnext.models.registry import list_models, model_entry

    if name != "irnext":
        model_entry(name)  # unknown names raise, listing the known ones
        return name
    tasks = {synth: registry for synth, registry, _ in SYNTH_TASKS}
    if task not in tasks:
        raise InputError(f"task '{task}': expected one of {sorted(tasks)}")
    found = [m for m in list_models(tasks[task]) if model_entry(m).architecture == "IRNeXt"]
    return found[0]


def task_data(
    params: dict[str, Any], task: str, datasets: Path, *, train: bool = True
) -> dict[str, Any]:
    """{train: (dataset, root) or None without `train`, recipe: name or None, split: the
    training split or None, tests: [(dataset, root), ...]}: scoring needs only the test sets'
    roots."""
    benchmark = section(params, "benchmark")
    if benchmark == "synthetic":
        pair = (f"synth-{task}", f"data/synth/{task}")
        return {"train": pair, "recipe": None, "tests": [pair]}
    if benchmark != "paper":
        raise InputError(f"params.yaml: benchmark = {benchmark!r}; expected synthetic or paper")
    spec = section(params, "paper", task)
    return {
        "train": located(datasets, section(params, "paper", task, "train")) if train else None,
        "recipe": spec.get("recipe"),
        "split": spec.get("split"),  # e.g. the desnowing recipe's train2500 subset
        "tests": [located(datasets, name) for name in spec["test"]],
    }


def located(datasets: Path, name: str) -> tuple[str, str]:
    """(dataset, its root in datasets.yaml), or a named error where the root is not set."""
    root = dataset_root(datasets, name)
    if root is None:
        raise InputError(
            f"{datasets}: datasets.{name} is not set; give the folder of your copy "
            f"(the paper profile trains and tests on it)"
        )
    return name, root


def recipe_flags(params: dict[str, Any]) -> list[str]:
    """The profile's recipe as `irnext train` flags, identical for every model and task."""
    from irnext.pipeline.profile_schema import ENGINE_KEYS

    flags = []
    for key, value in dict(section(params, "train")).items():
        if key in ENGINE_KEYS:  # validation: the cell's own flags (irnext.pipeline.convergence)
            continue
        flags += [f"--{key.replace('_', '-')}", _flag_value(value)]
    return flags


def _flag_value(value: Any) -> str:
    if value is None:
        return "0"  # grad_clip: 0 disables clipping
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def train_command(params: dict[str, Any], cell) -> list[str]:
    from irnext.pipeline.convergence import validation_flags

    data = task_data(params, cell.task, cell.datasets)
    paths = cell_paths(cell.task, cell.model, cell.seed)
    command = ["train", "--model", resolve_model(cell.model, cell.task)]
    command += ["--dataset", data["train"][0], "--root", data["train"][1]]
    if data.get("split"):
        command += ["--split", data["split"]]
    command += cell_recipe(params, cell.task, cell.model, data["recipe"])
    command += recipe_flags(params) + validation_flags(params)
    command += ["--seed", str(cell.seed), "--out", str(paths["checkpoint"])]
    return command + ["--history", str(paths["history"]), "--timing", str(paths["timing"])]


def evaluate_commands(params: dict[str, Any], cell) -> list[list[str]]:
    """`irnext evaluate` of the cell's checkpoint (of the input itself where `cell.cell` is
    `identity`) on every test set of its task."""
    data = task_data(params, cell.task, cell.datasets, train=False)
    device = str(section(params, "evaluate", "device"))
    if cell.cell == IDENTITY:
        source, out = ["--model", IDENTITY], evaluation_folder(RESULTS, cell.task, IDENTITY)
    else:
        paths = cell_paths(cell.task, cell.model, cell.seed)
        source, out = ["--checkpoint", str(paths["checkpoint"])], paths["evaluate"]
    several = len(data["tests"]) > 1  # the paper's tasks: one folder per test set
    return [
        ["evaluate", *source, "--dataset", name, "--root", root, "--device", device]
        + ["--out", str(out / name if several else out)]
        for name, root in data["tests"]
    ]


def check_requirements(params: dict[str, Any], source: Path) -> None:
    """A profile with `requires: cuda` (sized for a GPU: days on a CPU) refuses to start a cell
    without a CUDA device, unless IRNEXT_ALLOW_CPU=1 says the user means it."""
    import os

    import torch

    if params.get("requires") != "cuda" or torch.cuda.is_available():
        return
    if os.environ.get(ALLOW_CPU) == "1":
        print(f"{ALLOW_CPU}=1: running a profile that requires CUDA on the CPU", flush=True)
        return
    found = "torch built without CUDA" if torch.version.cuda is None else "no CUDA device visible"
    raise InputError(
        f"{source}: profile {params.get('profile')!r} requires: cuda, but this machine has only "
        f"the CPU ({found}); select a CPU profile (irnext profile default) or set "
        f"{ALLOW_CPU}=1 to run it on the CPU anyway"
    )


def finish_cell(cell) -> int:
    """After a cell's training and scoring: its DVC plot, validation curve and training
    compute (also run by `irnext bench launch`'s jobs)."""
    from irnext.pipeline.convergence import record_cell, write_curve

    paths = cell_paths(cell.task, cell.model, cell.seed)
    write_curve(paths["history"], paths["curve"])
    record_cell(cell, paths)
    return 0
