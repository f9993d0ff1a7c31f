"""The pipeline's profile (params.yaml) and dataset roots (datasets.yaml), read.

Library code never reads params.yaml: the command line reads it here and passes plain values.
What a profile may hold, and its checks, are irnext.pipeline.profile_schema; `section` names a
missing key by its dotted path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from irnext.errors import InputError
from irnext.io import read_yaml_mapping


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


def report_profile(params: dict[str, Any]):
    """The report's `Profile` of a params.yaml mapping. Models keep the profile's names, which
    name the pipeline's folders (`irnext` for each task's IRNeXt: evaluate/TASK/irnext-s0/)."""
    from irnext.report.cells import Profile

    tasks = tuple(str(t) for t in section(params, "tasks"))
    models = {t: tuple(str(m) for m in section(params, "models")) for t in tasks}
    synthetic = section(params, "benchmark") == "synthetic"
    return Profile(
        tasks=tasks,
        models=models,
        seeds=tuple(section(params, "seeds")),
        datasets={t: f"synth-{t}" for t in tasks} if synthetic else {},
    )
