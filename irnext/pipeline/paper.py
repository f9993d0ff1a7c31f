"""The paper profile's choices for `irnext bench`: whose recipe a cell trains with, and how an
official weights file is scored (its authors' test-time wrapper and protocol).

`recipe: own` (the papers' protocol) gives each model its authors' recipe for the task
(`irnext.training.recipes`), refused where none is published or the loop cannot honour it;
`recipe: shared` (the default: the controlled comparison) gives every model of a task the one
recipe `paper.TASK.recipe`. The mode is stored with each checkpoint (`--recipe-mode`), so every
number trained under it carries the label.
"""

from __future__ import annotations

from typing import Any

from irnext.errors import InputError

RECIPE_MODES = ("own", "shared")
# In `own` mode `train` may set only how a run executes, never what it learns.
OWN_MODE_TRAIN_KEYS = ("num_workers",)


def recipe_mode(params: dict[str, Any]) -> str:
    mode = params.get("recipe", "shared")
    if mode not in RECIPE_MODES:
        raise InputError(f"params.yaml: recipe = {mode!r}; expected one of {RECIPE_MODES}")
    return mode


def cell_recipe(params: dict[str, Any], task: str, model: str, shared: str | None) -> list[str]:
    """`irnext train` flags naming the cell's recipe and its mode ([] on the synthetic
    benchmark, whose recipe is the `train` section alone)."""
    from irnext.training.recipes import own_recipe

    if params.get("benchmark") != "paper":
        return []
    mode = recipe_mode(params)
    if mode == "shared":
        if not shared:
            raise InputError(
                f"params.yaml: paper.{task}.recipe is not set: `recipe: shared` trains every "
                f"model of {task} with that one recipe"
            )
        return ["--recipe", shared, "--recipe-mode", mode]
    extra = sorted(set(params.get("train") or {}) - set(OWN_MODE_TRAIN_KEYS))
    if extra:
        raise InputError(
            f"params.yaml: train.{extra[0]} would change the authors' recipes of `recipe: own`; "
            f"only {', '.join(OWN_MODE_TRAIN_KEYS)} may be set there"
        )
    return ["--recipe", own_recipe(model, task), "--recipe-mode", mode]


def check_baselines(params: dict[str, Any]) -> list[str]:
    """Problems of `baselines` (dvc.yaml's `baseline` cells), one line each: every entry is
    TASK-MODEL-SEED: {task, model, seed} of a task the profile trains, a model outside
    `models` (whose cells cover every task), and the model's own recipe for the task, which
    the loop honours; so no stage exists for a pair that would be refused."""
    from irnext.training.recipes import own_recipe, train_config

    entries = params.get("baselines") or {}
    if not isinstance(entries, dict):
        return [f"baselines = {entries!r:.60}: expected a mapping"]
    if entries and (params.get("benchmark") != "paper" or params.get("recipe") != "own"):
        return ["baselines: only `benchmark: paper` with `recipe: own` trains baselines there"]
    problems = []
    for name, entry in entries.items():
        where = f"baselines.{name}"
        if not isinstance(entry, dict) or set(entry) != {"task", "model", "seed"}:
            problems.append(f"{where}: expected a mapping with keys task, model and seed")
            continue
        task, model, seed = entry["task"], entry["model"], entry["seed"]
        if name != f"{task}-{model}-{seed}":
            problems.append(f"{where}: the name must be {task}-{model}-{seed} (TASK-MODEL-SEED)")
        elif task not in (params.get("tasks") or []) or not _train_set(params, task):
            problems.append(f"{where}: {task} is not one of `tasks` with a paper.{task}.train")
        elif model in (params.get("models") or []):
            problems.append(f"{where}: {model} is in `models`, whose cells train it already")
        else:
            try:
                train_config(own_recipe(model, task))
            except InputError as error:  # none published, or a part the loop cannot honour
                problems.append(f"{where}: {error}")
    return problems + _seed_problems(params, entries)


def _seed_problems(params: dict[str, Any], entries: dict[str, Any]) -> list[str]:
    """Each baseline trains every seed of `seeds`: the task's summary collects them all."""
    seeds, found = sorted(params.get("seeds") or []), {}
    for entry in entries.values():
        if isinstance(entry, dict) and {"task", "model", "seed"} <= set(entry):
            found.setdefault((entry["task"], entry["model"]), []).append(entry["seed"])
    return [
        f"baselines: {model} on {task} trains seeds {sorted(got)}; expected `seeds` {seeds}"
        for (task, model), got in found.items()
        if sorted(got) != seeds
    ]


def _train_set(params: dict[str, Any], task: str) -> Any:
    spec = (params.get("paper") or {}).get(task)
    return spec.get("train") if isinstance(spec, dict) else None


PRETRAINED_KEYS = {"weights", "kind", "task"}
PRETRAINED_OPTIONAL = {"tlc", "protocol", "filter_dilations", "test"}


def check_pretrained(entry: Any, where: str) -> None:
    if not isinstance(entry, dict) or not set(entry) >= PRETRAINED_KEYS:
        raise InputError(f"{where}: expected a mapping with keys weights, kind and task")
    unknown = sorted(set(entry) - PRETRAINED_KEYS - PRETRAINED_OPTIONAL)
    if unknown:
        allowed = sorted(PRETRAINED_KEYS | PRETRAINED_OPTIONAL)
        raise InputError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(allowed)}")
    if not isinstance(entry.get("tlc", False), bool):
        raise InputError(f"{where}.tlc = {entry['tlc']!r}; expected true or false")
    dilations = entry.get("filter_dilations")
    if dilations is not None and not (
        isinstance(dilations, list)
        and len(dilations) == 3
        and all(type(d) is int and d >= 1 for d in dilations)
    ):
        raise InputError(
            f"{where}.filter_dilations = {dilations!r}; expected three dilations >= 1 of a "
            "ConvIR file's filter branches, e.g. [3, 7, 9] (its deraining release)"
        )
    _check_tests(entry.get("test"), where)


def _check_tests(names: Any, where: str) -> None:
    """`test`: the test sets of weights trained for a set outside their task's (ITS and OTS
    dehazing weights are scored on SOTS-indoor and SOTS-outdoor respectively)."""
    from irnext.data.layouts import dataset_info, list_datasets

    if names is None:
        return
    if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
        raise InputError(f"{where}.test = {names!r}; expected a list of dataset names")
    for name in names:
        if name not in list_datasets() or "test" not in dataset_info(name).splits:
            raise InputError(
                f"{where}.test: {name!r} is not a test set; expected one of "
                f"{[n for n in list_datasets() if 'test' in dataset_info(n).splits]}"
            )


def pretrained_tests(params: dict[str, Any], entry: dict[str, Any]) -> list[str]:
    """The test sets official weights are scored on: the entry's `test`, otherwise every test
    set of its task (`paper.TASK.test`)."""
    if entry.get("test"):
        return [str(name) for name in entry["test"]]
    spec = (params.get("paper") or {}).get(entry.get("task"))
    names = spec.get("test") if isinstance(spec, dict) else None
    if not names:
        task = entry.get("task")
        raise InputError(
            f"params.yaml: task {task!r} of a pretrained entry: paper.{task}.test lists no "
            "test set; list them there or give the entry its own `test`"
        )
    return [str(name) for name in names]


def scoring_runs(entry: dict[str, Any], dataset: str) -> list[tuple[list[str], str]]:
    """(`irnext evaluate` flags, output folder name) of one test set: under the release's
    protocol (`protocol`, default the dataset's own) and, where that differs, also under the
    suite's uniform protocol (the dataset's own) in DATASET-uniform, so both are reported."""
    from irnext.data.layouts import dataset_info
    from irnext.metrics.protocols import list_protocols

    test_time = ["--tlc"] if entry.get("tlc") else []
    if entry.get("filter_dilations"):  # a ConvIR file does not record them (models.official)
        test_time += ["--filter-dilations", *map(str, entry["filter_dilations"])]
    release = entry.get("protocol")
    if release is None or release == dataset_info(dataset).protocol:
        return [(test_time, dataset)]
    if release not in list_protocols():
        raise InputError(f"pretrained protocol {release!r}: expected one of {list_protocols()}")
    return [
        ([*test_time, "--protocol", str(release)], dataset),
        (test_time, f"{dataset}-uniform"),
    ]


def missing_files(params: dict[str, Any], roots: dict[str, Any], *, datasets: str) -> list[str]:
    """Every dataset root and weights file the `paper` profile reads that is not there, one
    line each, so a run never stops at the first one hours in ([] for other benchmarks)."""
    from pathlib import Path

    if params.get("benchmark") != "paper":
        return []
    paper = params.get("paper") or {}
    needed: dict[str, str] = {}  # dataset -> what reads it
    for task in params.get("tasks") or []:
        spec = paper.get(task) or {}
        if spec.get("train"):
            needed.setdefault(spec["train"], f"paper.{task}.train")
        for name in spec.get("test") or []:
            needed.setdefault(name, f"paper.{task}.test")
    problems = []
    for name, entry in (params.get("pretrained") or {}).items():
        if not isinstance(entry, dict):
            continue  # its shape is reported by the pipeline's checks
        try:
            tests = pretrained_tests(params, entry)
        except InputError as error:
            problems.append(f"pretrained.{name}: {error}")
            tests = []
        for test in tests:
            needed.setdefault(test, f"pretrained.{name}")
        if entry.get("weights") and not Path(entry["weights"]).is_file():
            problems.append(
                f"pretrained.{name}: weights file {entry['weights']} is missing "
                "(README, Official weights: where to download it)"
            )
    for name, reader in needed.items():
        root = roots.get(name)
        if root is None:
            problems.append(f"{datasets}: datasets.{name} is not set (read by {reader})")
        elif not Path(str(root)).is_dir():
            problems.append(f"{datasets}: datasets.{name} = {root} is not a folder ({reader})")
    return problems
