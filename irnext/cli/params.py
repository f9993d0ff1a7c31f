"""Reading `params.yaml`: the one configuration layer, read here and nowhere else.

`SCHEMA` lists every key the pipeline (dvc.yaml) reads, with its type and range;
`check_params` validates a whole file against it and reports every problem at once, with the
nearest valid key for a misspelt one. A stage that reads a new key adds it to `SCHEMA`.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from irnext.errors import InputError
from irnext.io import read_yaml_mapping


@dataclass(frozen=True)
class Key:
    """One leaf of params.yaml: its type, lower bound and allowed values."""

    kind: type  # bool, int, float (an int is accepted), str or list
    low: float | None = None  # inclusive lower bound of a number
    above: float | None = None  # exclusive lower bound of a number
    nullable: bool = False  # null allowed
    items: type | None = None  # the element type of a list
    choices: Callable[[Path], list[str] | None] | None = None  # allowed strings (None: any)
    required: bool = True
    also: tuple = ()  # further literal values allowed, e.g. "auto" for a count
    check: Callable[[Any], str | None] | None = None  # a further rule: why a value fails


@dataclass(frozen=True)
class AnyKeys:
    """A mapping whose keys are names (e.g. dataset names), every value of one `Key` form."""

    value: Key
    names: Callable[[Path], list[str]]


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


def _optional(keys: dict[str, Key]) -> dict[str, Key]:
    # The paper profile's recipe comes from `paper.TASK.recipe`; `train` may override any field.
    return {name: dataclasses.replace(key, required=False) for name, key in keys.items()}


def _bench_models(base: Path) -> list[str]:
    return ["irnext", *_models(base)]  # `irnext`: each task's IRNeXt model (irnext.cli.bench)


SCHEMA: dict[str, Any] = {
    "profile": Key(str),
    # What the profile needs to run in its budget (irnext.cli.bench checks it before a cell).
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
    "train": _optional(
        {
            "epochs": _count(),
            "batch_size": _count(2),  # IRNeXt's BatchNorm in the LAM needs two samples
            "patch_size": _count(),
            "lr": Key(float, above=0),
            "lr_min": Key(float, low=0),
            "warmup_epochs": _count(0),
            "grad_clip": Key(float, above=0, nullable=True),
            "fft_weight": Key(float, low=0),
            "precision": Key(str, choices=lambda base: ["fp32", "bf16"]),
            "num_workers": Key(int, low=0, also=("auto",)),  # TrainConfig's loader processes
            "val_every_steps": _count(),  # validate on synth val/ (irnext.cli.bench_convergence)
        }
    ),
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
    # task}}; checked where they are read (irnext.cli.bench). Dataset roots: datasets.yaml.
    "paper": Key(dict),
    "pretrained": Key(dict),
    # benchmark: paper: {TASK-MODEL-SEED: {task, model, seed}} baselines trained on the tasks
    # whose recipe their authors published (irnext.cli.bench_paper.check_baselines); else {}.
    "baselines": Key(dict),
}


def load_params(path: str | Path = "params.yaml") -> dict[str, Any]:
    return read_yaml_mapping(path, expected="the pipeline's parameters by stage")


def section(params: dict[str, Any], *keys: str, source: str = "params.yaml") -> Any:
    """params[keys[0]][keys[1]]..., with an error that names the missing dotted key."""
    node: Any = params
    for depth, key in enumerate(keys):
        if not isinstance(node, dict) or key not in node:
            dotted = ".".join(keys[: depth + 1])
            raise InputError(f"{source}: missing key '{dotted}'")
        node = node[key]
    return node


def parse_group_lists(entries: list[str]) -> dict[str, Path]:
    """`--group-list GROUP=FILE` options (e.g. DPDD's indoor/outdoor lists) -> {group: path}."""
    lists = {}
    for entry in entries:
        group, sep, file = entry.partition("=")
        if not sep or not group or not file:
            raise InputError(f"--group-list {entry!r}: expected GROUP=FILE, e.g. indoor=a.npy")
        lists[group] = Path(file)
    return lists


# datasets.yaml: the roots of the real datasets (kept out of params.yaml, see its header).
DATASETS_SCHEMA: dict[str, Any] = {
    "datasets": AnyKeys(Key(str, nullable=True), names=_datasets),
}


def dataset_root(datasets: str | Path, name: str) -> str | None:
    """`datasets.NAME` of a datasets.yaml: a folder path, or None where it is null or absent."""
    roots = section(load_params(datasets), "datasets", source=str(datasets))
    if not isinstance(roots, dict):
        raise InputError(
            f"{datasets}: 'datasets' = {roots!r:.60}: expected a mapping of dataset names to "
            "folder paths (datasets: {NAME: ROOT})"
        )
    root = roots.get(name)
    if root is not None and not isinstance(root, str):
        raise InputError(
            f"{datasets}: datasets.{name} = {root!r:.60} ({type(root).__name__}): expected a "
            "folder path as a string, or null"
        )
    return root


def check_params(params: Any, *, source: str | Path = "params.yaml", schema=None) -> list[str]:
    """Every problem of `params` against `schema` (default `SCHEMA`), one line each; names
    (studies) are looked up next to `source`."""
    problems: list[str] = []
    _check_node(params, SCHEMA if schema is None else schema, "", Path(source).parent, problems)
    return [f"{source}: {problem}" for problem in problems]


def _check_node(node: Any, spec: Any, where: str, base: Path, problems: list[str]) -> None:
    if isinstance(spec, Key):
        problem = _check_value(node, spec, base)
        if problem:
            problems.append(f"{where} = {node!r}: {problem}")
        return
    if not isinstance(node, dict):
        problems.append(f"{where or 'top level'}: expected a mapping, got {node!r:.60}")
        return
    if isinstance(spec, AnyKeys):
        names = spec.names(base)
        for key, value in node.items():
            if key not in names:
                problems.append(f"unknown key '{where}.{key}'{_nearest(key, names, where)}")
            else:
                _check_node(value, spec.value, f"{where}.{key}", base, problems)
        return
    for key, value in node.items():
        if key not in spec:
            problems.append(f"unknown key '{_join(where, key)}'{_nearest(key, list(spec), where)}")
        else:
            _check_node(value, spec[key], _join(where, key), base, problems)
    for key, child in spec.items():
        if key not in node and (not isinstance(child, Key) or child.required):
            problems.append(f"missing key '{_join(where, key)}'")


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else str(key)


def _nearest(key: Any, names: list[str], where: str) -> str:
    close = difflib.get_close_matches(str(key), names, n=2, cutoff=0.6)
    return f" (did you mean {' or '.join(_join(where, c) for c in close)}?)" if close else ""


def _check_value(value: Any, key: Key, base: Path) -> str | None:
    """Why `value` does not fit `key`, or None when it does."""
    if value is None:
        return None if key.nullable else f"expected {_kind_name(key)}, got null"
    if any(value == v and type(value) is type(v) for v in key.also):
        return None
    if not _is_kind(value, key.kind):
        return f"expected {_kind_name(key)}, got {type(value).__name__}"
    values = value if key.kind is list else [value]
    if key.items is not None and any(not _is_kind(v, key.items) for v in values):
        return f"expected a list of {key.items.__name__}"
    if key.choices is not None:
        allowed = key.choices(base)
        wrong = [v for v in values if allowed is not None and v not in allowed]
        if wrong:
            close = difflib.get_close_matches(str(wrong[0]), allowed, n=2, cutoff=0.6)
            nearest = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
            return f"{wrong[0]!r} is not one of {allowed}{nearest}"
    if key.check is not None and key.check(value):
        return key.check(value)
    if key.kind is float and not math.isfinite(value):
        return "expected a finite number"
    if key.low is not None and value < key.low:
        return f"expected >= {key.low}"
    if key.above is not None and not value > key.above:
        return f"expected > {key.above}"
    return None


def _is_kind(value: Any, kind: type) -> bool:
    if isinstance(value, bool):  # YAML true/false are not numbers
        return kind is bool
    if kind is float:
        return isinstance(value, (int, float))
    return isinstance(value, kind)


def _kind_name(key: Key) -> str:
    words = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    name = words.get(key.kind, f"a {key.kind.__name__}")
    name = " or ".join([name, *(repr(v) for v in key.also)])
    return f"{name} or null" if key.nullable else name
