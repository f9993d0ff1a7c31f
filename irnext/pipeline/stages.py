"""The commands each stage of dvc.yaml runs, built from the profile (`irnext bench STAGE`).

cell, baseline  train and score one (task, model, seed)            irnext.pipeline.cell
identity        score the input itself on every test set of a task irnext.pipeline.cell
summary         results/metrics/TASK.json and results/visual/TASK  irnext.pipeline.summary
complexity      results/cost/complexity.json (+ .run.json)         irnext.pipeline.cost
latency         results/latency/MODEL.json, interleaved, on its device
scaling         results/scaling/scaling.json
ablate          ablations/STUDY.yaml with the profile's recipe and seeds
pretrained      the weights of params `pretrained.NAME` on their task's test sets (or `test`)

Each is a list of `irnext` argument lists, run in one process by `irnext bench` (one torch
start-up) and printed first; `--dry-run` prints them only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from irnext.errors import InputError
from irnext.names import check_name
from irnext.pipeline.layout import RESULTS, ablation_path, latency_folder, scaling_path
from irnext.pipeline.profile import section

KINDS = {"irnext": "--official-irnext", "baseline": "--baseline-weights"}


def latency_commands(params: dict[str, Any], which: str) -> list[list[str]]:
    """`irnext latency` of every compared model (CPU: 256 x 256 with the threads stated in each
    record; CUDA: also a 720p frame, with peak memory), or the scaling curve."""
    spec = section(params, "latency")
    common = ["--device", str(spec["device"]), "--runs", str(spec["runs"])]
    common += ["--warmup", str(spec["warmup"])]
    if which == "latency":
        models = [str(m) for m in section(params, "cost_models")]
        return [
            ["latency", "--models", *models, *common, "--size", "256", "256"]
            + ["--cuda-size", "720", "1280", "--out-dir", str(latency_folder(RESULTS))]
        ]
    models = [str(m) for m in spec["scaling_models"]]
    sizes = [str(s) for s in spec["scaling_sizes"]]
    return [
        ["latency", "--models", *models, *common, "--sweep", *sizes]
        + ["--out", str(scaling_path(RESULTS))]
    ]


def ablate_command(params: dict[str, Any], study: str, recipe_flags: list[str]) -> list[str]:
    """`irnext ablate` of one study with the profile's recipe (its own epochs) and seeds."""
    spec = section(params, "ablate")
    task = spec["task"]
    if task not in section(params, "tasks"):  # its data/synth/TASK is built for `tasks` only
        raise InputError(f"params.yaml: ablate.task {task!r} is not one of tasks {params['tasks']}")
    # The studies score their variants on the test split after training; no validation curve.
    skipped = ("--epochs", "--val-split", "--val-every-steps")
    flags = [f for f in _pairs(recipe_flags) if f[0] not in skipped]
    return [
        "ablate",
        "--study",
        f"ablations/{study}.yaml",
        "--base-model",
        str(spec["base_model"]),
        "--dataset",
        f"synth-{task}",
        "--root",
        f"data/synth/{task}",
        "--seeds",
        *(str(seed) for seed in spec["seeds"]),
        "--epochs",
        str(spec["epochs"]),
        *(item for pair in flags for item in pair),
        "--out",
        str(ablation_path(RESULTS, study)),
    ]


def _pairs(flags: list[str]) -> list[tuple[str, str]]:
    return list(zip(flags[::2], flags[1::2], strict=True))


def pretrained_commands(params: dict[str, Any], name: str, tests) -> list[list[str]]:
    """`irnext evaluate` of the official weights `pretrained.NAME` on each test set, with the
    authors' test-time wrapper (`tlc`) and under the release's protocol (`protocol`), plus the
    suite's uniform protocol where that differs (irnext.pipeline.paper)."""
    from irnext.pipeline.paper import check_pretrained, scoring_runs

    entry = section(params, "pretrained", name)
    where = f"params.yaml: pretrained.{name}"
    check_pretrained(entry, where)
    if entry["kind"] not in KINDS:
        raise InputError(f"{where}.kind = {entry['kind']!r}; expected one of {sorted(KINDS)}")
    device = str(section(params, "evaluate", "device"))
    out = RESULTS / "pretrained" / check_name(name, what="pretrained key", source=where)
    return [
        ["evaluate", KINDS[entry["kind"]], str(entry["weights"]), "--dataset", dataset]
        + ["--root", root, "--device", device, *flags, "--out", str(out / folder)]
        for dataset, root in tests
        for flags, folder in scoring_runs(entry, dataset)
    ]


def baseline_models(params: dict[str, Any], task: str) -> list[str]:
    """The models `baselines` trains on `task` (dvc.yaml's `baseline` cells), in order."""
    entries = (params.get("baselines") or {}).values()
    return list(dict.fromkeys(str(e["model"]) for e in entries if e["task"] == task))


def summary_commands(params: dict[str, Any], task: str, datasets: Path) -> list[list[str]]:
    """`irnext collect` and `irnext visual` of one task: every model of the profile and its
    own-task baselines, every seed; the visual comparison on the task's first test set."""
    from irnext.pipeline.cell import task_data

    data = task_data(params, task, datasets, train=False)
    models = [str(m) for m in section(params, "models")]
    models += baseline_models(params, task)  # the paper profile's own-task baselines
    seeds = [str(s) for s in section(params, "seeds")]
    collect = ["collect", "--task", task, "--models", *models, "--seeds", *seeds]
    dataset, root = data["tests"][0]  # the first test set of the task
    visual = ["visual", "--task", task, "--models", *models, "--seed", seeds[0]]
    return [collect, visual + ["--dataset", dataset, "--root", root]]


def stage_commands(params: dict[str, Any], args) -> list[list[str]]:
    """The commands of stage `args.cell` (the parsed `irnext bench` arguments)."""
    from irnext.pipeline.cell import evaluate_commands, located, recipe_flags, train_command
    from irnext.pipeline.paper import check_pretrained, pretrained_tests

    if args.cell == "cell":
        return [train_command(params, args), *evaluate_commands(params, args)]
    if args.cell == "identity":
        return evaluate_commands(params, args)
    if args.cell == "summary":
        return summary_commands(params, args.task, args.datasets)
    if args.cell in ("latency", "scaling"):
        return latency_commands(params, args.cell)
    if args.cell == "ablate":
        return [ablate_command(params, args.study, recipe_flags(params))]
    entry = section(params, "pretrained", args.name)
    check_pretrained(entry, f"params.yaml: pretrained.{args.name}")
    tests = [located(args.datasets, name) for name in pretrained_tests(params, entry)]
    return pretrained_commands(params, args.name, tests)
