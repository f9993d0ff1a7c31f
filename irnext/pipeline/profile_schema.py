"""What a profile (params.yaml) may hold, and checking it whole before anything runs.

`SCHEMA` lists every key the pipeline (dvc.yaml) reads, with its type and range; a stage that
reads a new key adds it here. The training recipe (`train`) is no second schema: its keys are
`TrainConfig`'s fields, which `TrainConfig` validates itself, plus the engine options a cell
sets. `check_params` validates a whole file and reports every problem at once, with the nearest
valid key for a misspelt one; `check_profile` adds what `irnext params check` needs (the
paper profile's baselines, dataset roots and weights files).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from irnext.errors import InputError
from irnext.pipeline.profile import load_params
from irnext.pipeline.schema import AnyKeys, Key, Validated, check_mapping
from irnext.training.config import EngineOptions, TrainConfig


# Allowed names, given the folder of the params file (where dvc.yaml and ablations/ are).
def _synth_tasks(base: Path) -> list[str]:
    from irnext.data.layouts import SYNTH_TASKS

    return [name for name, _, _ in SYNTH_TASKS]


def _models(base: Path) -> list[str]:
    from irnext.models.registry import list_models

    return list_models()


def _datasets(base: Path) -> list[str]:
    from irnext.data import list_datasets

    return list_datasets()


def _studies(base: Path) -> list[str] | None:
    folder = base / "ablations"  # None (not checked) for a params file away from its studies
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else None


def _seeds(value: Any) -> str | None:
    from irnext.report.cells import seed_problem  # one rule for the report and the profile

    return seed_problem(value)


def _count(low: int = 1) -> Key:
    return Key(int, low=low)


def _bench_models(base: Path) -> list[str]:
    return ["irnext", *_models(base)]  # `irnext`: each task's IRNeXt model (irnext.pipeline.cell)


# params `train`: the recipe's fields a cell passes on as `irnext train` flags (one word each:
# the tuple-valued fields come from named recipes), less the seed (each cell's own), and the
# engine options a cell sets (validation: irnext.pipeline.convergence).
CELL_OWN = ("seed",)
VAL_KEY = "val_every_steps"  # steps between validations on the synthetic benchmark's val split
ENGINE_KEYS = (VAL_KEY,)
RECIPE_KEYS = tuple(
    field.name
    for field in dataclasses.fields(TrainConfig)
    if not isinstance(field.default, tuple) and field.name not in CELL_OWN
)
TRAIN_KEYS = RECIPE_KEYS + ENGINE_KEYS


def check_recipe(values: dict[str, Any]) -> str | None:
    """Why params `train` is no valid recipe on top of the defaults (TrainConfig's and
    EngineOptions' own checks), or None. The paper profile's recipe comes from
    `paper.TASK.recipe`; `train` then overrides a few fields."""
    engine = {key: values[key] for key in ENGINE_KEYS if key in values}
    recipe = {key: value for key, value in values.items() if key not in ENGINE_KEYS}
    try:
        TrainConfig(**recipe)
        EngineOptions(**engine)
    except InputError as error:
        return str(error)
    return None


SCHEMA: dict[str, Any] = {
    "profile": Key(str),
    # What the profile needs to run in its budget (irnext.pipeline.cell checks it before a cell).
    "requires": Key(str, choices=lambda base: ["cuda"], required=False),
    "benchmark": Key(str, choices=lambda base: ["synthetic", "paper"]),
    # own: each model's authors' recipe; shared (default): paper.TASK.recipe for every model
    "recipe": Key(str, choices=lambda base: ["own", "shared"], required=False),
    "tasks": Key(list, items=str, choices=_synth_tasks),
    "models": Key(list, items=str, choices=_bench_models),
    "seeds": Key(list, items=int, check=_seeds),
    "cost_models": Key(list, items=str, choices=_models),
    "synth": {
        "seed": _count(0),
        "train_count": _count(),
        "test_count": _count(),
        "size_px": _count(),
        "val_count": _count(0),  # validation pairs of the training photographs
    },
    "train": Validated(names=TRAIN_KEYS, validate=check_recipe),
    "evaluate": {"device": Key(str)},
    "complexity": {"size": _count()},
    "latency": {
        "device": Key(str),
        "runs": _count(),
        "warmup": _count(0),
        "scaling_models": Key(list, items=str, choices=_models),
        "scaling_sizes": Key(list, items=int),
    },
    "ablate": {
        "task": Key(str, choices=_synth_tasks),
        "studies": Key(list, items=str, choices=_studies),
        "base_model": Key(str, choices=_models),
        "seeds": Key(list, items=int, check=_seeds),
        "epochs": _count(),
    },
    # benchmark: paper: {TASK: {train, recipe, test}}; official weights: {NAME: {weights, kind,
    # task}}; checked where they are read (irnext.pipeline.cell). Dataset roots: datasets.yaml.
    "paper": Key(dict),
    "pretrained": Key(dict),
    # benchmark: paper: {TASK-MODEL-SEED: {task, model, seed}} baselines trained on the tasks
    # whose recipe their authors published (irnext.pipeline.paper.check_baselines); else {}.
    "baselines": Key(dict),
}

# datasets.yaml: the roots of the real datasets (kept out of params.yaml, see its header).
DATASETS_SCHEMA: dict[str, Any] = {
    "datasets": AnyKeys(Key(str, nullable=True), names=_datasets),
}


def check_params(params: Any, *, source: str | Path = "params.yaml", schema=None) -> list[str]:
    """Every problem of `params` against `schema` (default `SCHEMA`), one line each; names
    (studies) are looked up next to `source`."""
    problems = check_mapping(params, SCHEMA if schema is None else schema, source=source)
    if schema is None and not problems:
        problems += batch_norm_problems(params)
    return problems


def batch_norm_problems(params: dict[str, Any]) -> list[str]:
    """`train.batch_size` 1 for a model of the profile holding BatchNorm (IRNeXt: its LAM), the
    model-aware rule of irnext.training.config.check_norm_batch, found before any cell runs."""
    batch = (params.get("train") or {}).get("batch_size")
    if not isinstance(batch, int) or batch >= 2:
        return []  # torch is imported only for a batch that some models cannot train on
    from irnext.models.registry import create_model
    from irnext.training.config import check_norm_batch

    names = {"irnext-dehaze" if m == "irnext" else m for m in params.get("models") or []}
    problems = []
    for name in sorted(names):
        try:
            check_norm_batch(create_model(name), batch, what="train.batch_size")
        except InputError as error:
            problems.append(f"models: {name}: {error}")
    return problems


def require_valid(params: Any, source: str | Path) -> None:
    """Raise one InputError listing every problem of `params` (before anything runs)."""
    problems = check_params(params, source=source)
    if problems:
        raise InputError(f"{len(problems)} problem(s):\n" + "\n".join(problems))


def check_profile(file: Path, datasets: Path) -> list[str]:
    """`irnext params check`: the checked files; raises one InputError listing every problem
    of `file` and, where it exists, of `datasets`, and for the paper profile every dataset root
    and official weights file that is not set or not there."""
    from irnext.pipeline.paper import check_baselines, missing_files

    params = load_params(file)
    problems = check_params(params, source=file)
    problems += [f"{file}: {problem}" for problem in check_baselines(params)]
    checked, roots = [str(file)], {}
    if datasets.is_file():
        roots = load_params(datasets)
        problems += check_params(roots, source=datasets, schema=DATASETS_SCHEMA)
        checked.append(str(datasets))
    # The paper profile: every dataset root and weights file it reads, all named at once.
    found = roots.get("datasets") if isinstance(roots.get("datasets"), dict) else {}
    problems += missing_files(params, found, datasets=str(datasets))
    if problems:
        raise InputError(f"{len(problems)} problem(s):\n" + "\n".join(problems))
    return checked


def select_profile(name: str, profiles: Path, params: Path) -> tuple[Path, Path | None]:
    """Make profiles/NAME.yaml the pipeline's `params`, checked first, so a broken profile
    never reaches a stage; returns (the profile, where the previous params file was kept or
    None). Studies and stage names are looked up beside `params`, where dvc.yaml reads them."""
    from irnext.io import atomic_write_text

    known = sorted(p.stem for p in profiles.glob("*.yaml"))
    source = profiles / f"{name}.yaml"
    if not source.is_file():
        raise InputError(f"{source}: no such profile; known: {', '.join(known) or 'none'}")
    problems = check_params(load_params(source), source=params)
    if problems:
        raise InputError(f"{source} is not a valid profile:\n" + "\n".join(problems))
    text, backup = source.read_text(), _backup(params, profiles)
    if backup:
        atomic_write_text(backup, params.read_text())  # first, so no edit is ever lost
    atomic_write_text(params, text)
    return source, backup


def _backup(params: Path, profiles: Path) -> Path | None:
    """Where the current params file is kept before it is replaced (PARAMS.bak); None when
    there is no file or it equals a profile byte for byte (nothing to lose). So switching
    profiles twice after an edit keeps the edit, not the profile it was replaced by."""
    if not params.is_file():
        return None
    current = params.read_bytes()
    if any(current == p.read_bytes() for p in profiles.glob("*.yaml")):
        return None
    return params.with_name(params.name + ".bak")
