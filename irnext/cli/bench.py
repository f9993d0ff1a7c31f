"""`irnext bench`: one cell of the comparison pipeline (dvc.yaml), configured by params.yaml.

irnext bench cell --task haze --model restormer-mini --seed 0   # train, then evaluate
irnext bench identity --task haze                                # score the input itself
irnext bench summary --task haze    # results/metrics/haze.json and results/visual/haze

`cell` builds the `irnext train` and `irnext evaluate` commands of one (task, model, seed) from
the profile in params.yaml (`benchmark`, `train`, `evaluate`) and runs them in this process,
printing each first, so every model of every task is trained and scored with the same recipe,
budget and protocol (one process per cell: the pipeline pays torch's start-up once). `benchmark:
synthetic` uses the offline benchmark under data/synth/TASK; `benchmark: paper` takes each task's
real training and test sets from `paper.TASK` with their roots from datasets.yaml (kept out of
params.yaml so that `dvc exp show` is not a wall of empty dataset columns). The model name
`irnext` stands for the task's IRNeXt configuration (irnext-dehaze for haze, ...).
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import Any

from irnext.cli.bench_paper import cell_recipe
from irnext.cli.params import dataset_root, load_params, section
from irnext.errors import InputError
from irnext.names import check_name

DATASETS_FILE = Path("datasets.yaml")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="one train/evaluate cell of the pipeline")
    cells = parser.add_subparsers(dest="cell", required=True, metavar="CELL")
    for name, helptext in (
        ("cell", "train MODEL on TASK with the profile's recipe, then score it"),
        ("identity", "score the identity (the input itself) on every test set of TASK"),
        ("summary", "TASK's DVC metrics (every model, every seed) and its visual comparison"),
        ("complexity", "parameters and MACs of every compared model (cost_models)"),
        ("latency", "every compared model timed side by side on the pipeline's device"),
        ("scaling", "latency and memory against resolution (latency.scaling_models)"),
        ("ablate", "one ablation study with the profile's recipe and seeds"),
        ("pretrained", "official weights (params pretrained.NAME) on every test set of a task"),
    ):
        cell = cells.add_parser(name, help=helptext)
        if name in ("cell", "identity", "summary"):
            cell.add_argument("--task", required=True, help="a task of the profile")
        if name == "cell":
            cell.add_argument("--model", required=True, help="a model of the profile")
            cell.add_argument("--seed", required=True, type=int, help="training seed")
        if name == "ablate":
            cell.add_argument("--study", required=True, help="NAME of ablations/NAME.yaml")
        if name == "pretrained":
            cell.add_argument("--name", required=True, help="a weights entry of the profile")
        cell.add_argument("--params", type=Path, default=Path("params.yaml"), help="the profile")
        cell.add_argument(
            "--datasets", type=Path, default=DATASETS_FILE, help="dataset roots (YAML)"
        )
        cell.add_argument("--dry-run", action="store_true", help="print the commands only")
        cell.set_defaults(func=_run)
    __import__("irnext.cli.launch", fromlist=["add_parser"]).add_parser(cells)  # bench launch


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

    def located(name: str) -> tuple[str, str]:
        root = dataset_root(datasets, name)
        if root is None:
            raise InputError(
                f"{datasets}: datasets.{name} is not set; give the folder of your copy "
                f"(the paper profile trains and tests on it)"
            )
        return name, root

    return {
        "train": located(section(params, "paper", task, "train")) if train else None,
        "recipe": spec.get("recipe"),
        "split": spec.get("split"),  # e.g. the desnowing recipe's train2500 subset
        "tests": [located(name) for name in spec["test"]],
    }


def cell_paths(task: str, model: str, seed: int) -> dict[str, Path]:
    check_name(task, what="task", source="params.yaml")  # both name the cell's files
    stem = check_name(f"{model}-s{seed}", what="model", source="params.yaml")
    return {
        "checkpoint": Path("models") / task / f"{stem}.pt",
        "history": Path("results/train") / task / f"{stem}.json",
        "timing": Path("results/train") / task / f"{stem}.run.json",
        "curve": Path("results/plots/train") / task / f"{stem}.json",  # a DVC plot
        "evaluate": Path("results/evaluate") / task / stem,
        "convergence": Path("results/convergence") / task / f"{stem}.json",
    }


def recipe_flags(params: dict[str, Any]) -> list[str]:
    """The profile's recipe as `irnext train` flags, identical for every model and task."""
    from irnext.cli.bench_convergence import VAL_KEY

    flags = []
    for key, value in dict(section(params, "train")).items():
        if key == VAL_KEY:  # validation: the cell's own flags (bench_convergence)
            continue
        flags += [f"--{key.replace('_', '-')}", _flag_value(value)]
    return flags


def train_command(params: dict[str, Any], args: argparse.Namespace) -> list[str]:
    from irnext.cli.bench_convergence import validation_flags

    data = task_data(params, args.task, args.datasets)
    paths = cell_paths(args.task, args.model, args.seed)
    command = ["train", "--model", resolve_model(args.model, args.task)]
    command += ["--dataset", data["train"][0], "--root", data["train"][1]]
    if data.get("split"):
        command += ["--split", data["split"]]
    command += cell_recipe(params, args.task, args.model, data["recipe"])
    command += recipe_flags(params) + validation_flags(params)
    command += ["--seed", str(args.seed), "--out", str(paths["checkpoint"])]
    return command + ["--history", str(paths["history"]), "--timing", str(paths["timing"])]


def evaluate_commands(params: dict[str, Any], args: argparse.Namespace) -> list[list[str]]:
    data = task_data(params, args.task, args.datasets, train=False)
    device = str(section(params, "evaluate", "device"))
    if args.cell == "identity":
        source, out = ["--model", "identity"], Path("results/evaluate") / args.task / "identity"
    else:
        paths = cell_paths(args.task, args.model, args.seed)
        source, out = ["--checkpoint", str(paths["checkpoint"])], paths["evaluate"]
    several = len(data["tests"]) > 1  # the paper's tasks: one folder per test set
    return [
        ["evaluate", *source, "--dataset", name, "--root", root, "--device", device]
        + ["--out", str(out / name if several else out)]
        for name, root in data["tests"]
    ]


def _flag_value(value: Any) -> str:
    if value is None:
        return "0"  # grad_clip: 0 disables clipping
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def baseline_models(params: dict[str, Any], task: str) -> list[str]:
    """The models `baselines` trains on `task` (dvc.yaml's `baseline` cells), in order."""
    entries = (params.get("baselines") or {}).values()
    return list(dict.fromkeys(str(e["model"]) for e in entries if e["task"] == task))


def summary_commands(params: dict[str, Any], args: argparse.Namespace) -> list[list[str]]:
    data = task_data(params, args.task, args.datasets, train=False)
    models = [str(m) for m in section(params, "models")]
    models += baseline_models(params, args.task)  # the paper profile's own-task baselines
    seeds = [str(s) for s in section(params, "seeds")]
    collect = ["collect", "--task", args.task, "--models", *models, "--seeds", *seeds]
    dataset, root = data["tests"][0]  # the first test set of the task
    visual = ["visual", "--task", args.task, "--models", *models, "--seed", seeds[0]]
    return [collect, visual + ["--dataset", dataset, "--root", root]]


def _commands(params: dict[str, Any], args: argparse.Namespace) -> list[list[str]]:
    from irnext.cli import bench_more

    if args.cell == "cell":
        return [train_command(params, args), *evaluate_commands(params, args)]
    if args.cell == "identity":
        return evaluate_commands(params, args)
    if args.cell == "summary":
        return summary_commands(params, args)
    if args.cell in ("latency", "scaling"):
        return bench_more.latency_commands(params, args.cell)
    if args.cell == "ablate":
        return [bench_more.ablate_command(params, args.study, recipe_flags(params))]
    task = section(params, "pretrained", args.name, "task")
    tests = task_data(params, task, args.datasets, train=False)["tests"]
    return bench_more.pretrained_commands(params, args.name, tests)


_RUNS_MODELS = ("cell", "latency", "scaling", "ablate", "pretrained")
ALLOW_CPU = "IRNEXT_ALLOW_CPU"  # set to 1: run a profile that requires CUDA on the CPU anyway


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


def _run(args: argparse.Namespace) -> int:
    from irnext.cli import bench_more, main
    from irnext.cli.params import check_params

    params = load_params(args.params)
    problems = check_params(params, source=args.params)  # before anything trains
    if problems:
        raise InputError(f"{len(problems)} problem(s):\n" + "\n".join(problems))
    if args.cell in _RUNS_MODELS and not args.dry_run:
        check_requirements(params, args.params)
    if args.cell == "complexity":
        bench_more.complexity(params)
        return 0
    for command in _commands(params, args):
        print("irnext " + shlex.join(command), flush=True)
        if not args.dry_run:
            code = main(command)
            if code:
                return code
    if args.cell == "cell" and not args.dry_run:
        finish_cell(args)
    return 0


def finish_cell(args: argparse.Namespace) -> int:
    """After a cell's training and scoring: its DVC plot, validation curve and training
    compute (also run by `irnext bench launch`'s jobs)."""
    from irnext.cli import bench_more
    from irnext.cli.bench_convergence import record_cell

    paths = cell_paths(args.task, args.model, args.seed)
    bench_more.write_curve(paths["history"], paths["curve"])
    record_cell(args, paths)
    return 0
